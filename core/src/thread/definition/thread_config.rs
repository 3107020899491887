//! A thread's settings: [`ThreadConfig`] (its queues' capacities and overflow policy, its
//! shutdown's budget and grace, its timeouts, its runaway warning) and their defaults.

use std::time::Duration;

/// Per-thread settings, returned by [`TaskThread::config`](crate::TaskThread::config).
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::{LeafThread, OverflowPolicy, ThreadConfig};
///
/// struct Quotes;
///
/// impl LeafThread for Quotes {
///     type Signal = f64; // the latest price
///     type Output = ();
///     fn id(&self) -> String { "quotes".into() }
///
///     fn config(&self) -> ThreadConfig {
///         ThreadConfig {
///             // Prices go stale fast: a short queue, and the feed never waits on it.
///             signal_capacity: 8,
///             overflow: OverflowPolicy::Reject,
///             // Nothing to flush at the end, so no reason to wait long for it.
///             shutdown_budget: Duration::from_secs(2),
///             ..ThreadConfig::default()
///         }
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadConfig {
    /// Capacity of the queue from the parent to this thread (default 100).
    pub signal_capacity: usize,
    /// Capacity of the queue from this thread's children to it (default 100).
    pub child_signal_capacity: usize,
    /// How long this thread's shutdown (its tasks, `exit`, its children) may take before
    /// what remains is cancelled (default 20 s). A child's shutdown also ends within its
    /// parent's.
    pub shutdown_budget: Duration,
    /// How long, at most, the thread's tasks get to return by themselves once its shutdown
    /// notice has fired, before what is left is cancelled (default 5 s). Part of the
    /// budget, not added to it: the grace never takes more than half of the time left
    /// before the shutdown's deadline (the thread's budget, or its parent's deadline if
    /// that comes first), so that the rest (cancelling what did not return, `exit`, the
    /// children) always keeps the other half, at every level of a cascade. It ends as soon
    /// as every task has returned; tasks of slots marked
    /// [`cancel_at_once`](crate::TaskSlot::cancel_at_once) get none of it.
    pub shutdown_grace: Duration,
    /// What a sender does when one of this thread's queues is full (default: wait).
    pub overflow: crate::thread::OverflowPolicy,
    /// Cancel timeouts of the thread's task slots.
    pub timeouts: crate::Timeouts,
    /// Turns on the runaway warning (see below) at this rate of reschedules a second;
    /// `None`, the default, for off. When on, a slot of the thread is warned about once (a
    /// `WARN` naming the thread, the slot and the rate) when its task runs 1,000 times in a
    /// row with none of the runs returning `Pending` (never waiting), faster than this
    /// rate: the mark of a busy loop.
    ///
    /// It measures exactly that, not "a task that never waits on anything": a run that
    /// finds what it awaits ready does not wait, so a task draining a backlog already
    /// there (a channel holding thousands of items, a socket with data buffered) counts as
    /// a loop while it drains; and a loop that yields once a run (or sleeps zero) returns
    /// `Pending` each run and is never warned about. That is why it is off by default.
    /// [`DEFAULT_RUNAWAY_RATE`](crate::DEFAULT_RUNAWAY_RATE) (10,000) is a rate to start
    /// from. A window is timed in microseconds: rates of 1,000,000,000 a second or more
    /// are never reached.
    ///
    /// ```
    /// use std::num::NonZeroU32;
    /// use task_thread_core::ThreadConfig;
    ///
    /// // The default: no warning.
    /// assert_eq!(ThreadConfig::default().runaway_rate, None);
    /// // A thread whose tasks should never loop: warned about early.
    /// let strict = ThreadConfig { runaway_rate: NonZeroU32::new(100), ..ThreadConfig::default() };
    /// # let _ = strict;
    /// ```
    pub runaway_rate: Option<std::num::NonZeroU32>,
}

impl Default for ThreadConfig {
    fn default() -> Self {
        ThreadConfig {
            signal_capacity: 100,
            child_signal_capacity: 100,
            shutdown_budget: Duration::from_secs(20),
            shutdown_grace: Duration::from_secs(5),
            overflow: crate::thread::OverflowPolicy::Wait,
            timeouts: crate::Timeouts::default(),
            runaway_rate: None,
        }
    }
}
