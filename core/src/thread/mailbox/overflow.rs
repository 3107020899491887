//! Full queues: the overflow hook's argument, the policy that follows it, and the rate of
//! the default full-queue log. A bounded lane's room (what counts against its capacity
//! outside its lock, who waits for room) and the sending that applies the policy live in
//! [`room`](super::room).

use std::time::{Duration, Instant};

/// What a sender does when the receiving queue is full, after the receiver's
/// [`on_overflow`](crate::thread::TaskThread::on_overflow) hook has been called.
///
/// ```
/// use task_thread_core::{LeafThread, OverflowPolicy, SendError, ThreadConfig, ThreadHandle};
///
/// struct Sink {
///     lossy: bool,
/// }
///
/// impl LeafThread for Sink {
///     type Signal = String;
///     type Output = ();
///     fn id(&self) -> String { "sink".into() }
///
///     fn config(&self) -> ThreadConfig {
///         // Metrics may be dropped to keep their senders fast; audit records may not.
///         let overflow = if self.lossy { OverflowPolicy::Reject } else { OverflowPolicy::Wait };
///         ThreadConfig { overflow, ..ThreadConfig::default() }
///     }
/// }
///
/// async fn emit(sink: &ThreadHandle<Sink>, line: String) {
///     // Under Wait this never returns Full: it waits for room instead.
///     if let Err(SendError::Full(line)) = sink.send(line).await {
///         tracing::debug!("dropped: {line}");
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverflowPolicy {
    /// Wait for room, like the original (default).
    #[default]
    Wait,
    /// Hand the signal back at once in [`SendError::Full`](crate::thread::SendError::Full).
    Reject,
}

/// Which queue of a thread is full.
///
/// ```
/// use task_thread_core::{Overflow, QueueKind, TaskThread};
///
/// struct Router;
///
/// impl TaskThread for Router {
///     type Signal = String;
///     type Output = ();
///     type ChildOutput = String;
///     fn id(&self) -> String { "router".into() }
///
///     fn on_overflow(overflow: &Overflow<'_>) {
///         match overflow.queue {
///             // The parent sends a few commands: a full queue there means a stuck router.
///             QueueKind::FromParent => tracing::error!("{} stuck", overflow.thread),
///             // Children outpacing the router under load is expected; the wait is the brake.
///             QueueKind::FromChildren => tracing::debug!("{} busy", overflow.thread),
///         }
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueKind {
    /// The queue from the thread's parent (the original's input queue).
    FromParent,
    /// The queue from the thread's children (where their output goes).
    FromChildren,
}

/// Told to [`on_overflow`](crate::thread::TaskThread::on_overflow): whose queue is full.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use task_thread_core::{LeafThread, Overflow};
///
/// // The hook runs on the sender's side and has no `self`: a metric goes in a static.
/// static OVERFLOWS: AtomicUsize = AtomicUsize::new(0);
///
/// struct Ingest;
///
/// impl LeafThread for Ingest {
///     type Signal = Vec<u8>;
///     type Output = ();
///     fn id(&self) -> String { "ingest".into() }
///
///     fn on_overflow(overflow: &Overflow<'_>) {
///         let total = OVERFLOWS.fetch_add(1, Ordering::Relaxed) + 1;
///         tracing::warn!(
///             "{}: {:?} queue full at {} (overflow #{total})",
///             overflow.thread,
///             overflow.queue,
///             overflow.capacity,
///         );
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow<'a> {
    /// The id of the thread owning the full queue (the receiver).
    pub thread: &'a str,
    /// Which of its queues.
    pub queue: QueueKind,
    /// The queue's capacity.
    pub capacity: usize,
    /// The child whose signal did not fit, for [`QueueKind::FromChildren`]; `None` for
    /// the queue from the parent (sent through a handle, from anywhere).
    pub sender: Option<&'a str>,
    /// Whether the default log says this one (see [`log`](Self::log)).
    pub(crate) rate: LogRate,
}

impl<'a> Overflow<'a> {
    /// An overflow as the library tells it to `on_overflow`, for testing a hook: this one
    /// is logged by [`log`](Self::log), whatever came before.
    ///
    /// ```
    /// use task_thread_core::{Overflow, QueueKind};
    ///
    /// let full = Overflow::new("router", QueueKind::FromChildren, 64, Some("worker-3"));
    /// assert_eq!(full.sender, Some("worker-3"));
    /// ```
    pub fn new(
        thread: &'a str,
        queue: QueueKind,
        capacity: usize,
        sender: Option<&'a str>,
    ) -> Self {
        Overflow {
            thread,
            queue,
            capacity,
            sender,
            rate: LogRate::Log { left_out: 0 },
        }
    }

    /// Logs this overflow as the default hook does: a warning naming the thread, the queue
    /// and the sender, at most one per thread per second, with the count of the ones left
    /// out since the last. A sender flooding a slow thread would otherwise log a line per
    /// signal (one per full-queue event: every one of its sends). A hook that replaces
    /// the default may call it too, or log its own way.
    pub fn log(&self) {
        let LogRate::Log { left_out } = self.rate else {
            return;
        };
        tracing::warn!(
            thread = %self.thread,
            queue = ?self.queue,
            capacity = self.capacity,
            sender = self.sender.unwrap_or("-"),
            left_out,
            "queue full (left_out: full-queue events not logged since the last, at most one a second)"
        );
    }
}

/// Whether the default log says an overflow, and how many it left out before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogRate {
    Log { left_out: usize },
    Quiet,
}

/// A thread's rate of full-queue warnings: at most one per [`OverflowLog::EVERY`].
#[derive(Default)]
pub(crate) struct OverflowLog {
    last: Option<Instant>,
    left_out: usize,
}

impl OverflowLog {
    const EVERY: Duration = Duration::from_secs(1);

    /// One more overflow, at `now`: logged or left out.
    pub(crate) fn next(&mut self, now: Instant) -> LogRate {
        let due = self
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= Self::EVERY);
        if !due {
            self.left_out += 1;
            return LogRate::Quiet;
        }
        self.last = Some(now);
        LogRate::Log {
            left_out: std::mem::take(&mut self.left_out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first overflow is logged; the ones within the next second are counted, and the
    /// next one logged says how many.
    #[test]
    fn the_overflow_log_says_one_a_second_and_counts_the_rest() {
        let mut log = OverflowLog::default();
        let start = Instant::now();
        let at = |millis| start + Duration::from_millis(millis);
        let said: Vec<LogRate> = [0, 10, 500, 999, 1000, 1001, 2500]
            .into_iter()
            .map(|millis| log.next(at(millis)))
            .collect();
        use LogRate::{Log, Quiet};
        assert_eq!(
            said,
            [
                Log { left_out: 0 },
                Quiet,
                Quiet,
                Quiet,
                Log { left_out: 3 },
                Quiet,
                Log { left_out: 1 },
            ]
        );
    }
}
