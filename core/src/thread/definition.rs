//! What a user writes: the [`TaskThread`] trait and the values its methods return.

use std::time::Duration;

use std::future::Future;

use super::context::ThreadCx;
use super::failure::Failure;
use super::family::children::ChildRef;

/// The error a user method may return: anything that converts into a boxed error
/// (`?` on an `io::Error`, an `anyhow::Error`, a `String`, ...).
///
/// ```
/// use std::net::SocketAddr;
/// use task_thread_core::{BoxError, LeafThread, ThreadCx};
///
/// struct Listener {
///     address: String,
///     bound: Option<SocketAddr>,
/// }
///
/// impl LeafThread for Listener {
///     type Signal = ();
///     type Output = ();
///     fn id(&self) -> String { "listener".into() }
///
///     async fn enter(&mut self, _cx: &ThreadCx<Self>) -> Result<(), BoxError> {
///         // Any error type and a plain message alike end the thread as Failed in "enter".
///         let address: SocketAddr = self.address.parse()?;
///         if address.port() == 0 {
///             return Err(format!("{address}: clients need a fixed port").into());
///         }
///         self.bound = Some(address);
///         Ok(())
///     }
/// }
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a signal handler wants next (the original returned a truthy value, and its default
/// handler's `None` stopped the thread by accident: defect 2).
///
/// ```
/// use task_thread_core::{Flow, LeafThread, ThreadCx};
///
/// struct Shell;
///
/// impl LeafThread for Shell {
///     type Signal = String;
///     type Output = ();
///     fn id(&self) -> String { "shell".into() }
///
///     async fn on_signal(&mut self, command: String, _cx: &ThreadCx<Self>) -> Flow {
///         if command == "quit" {
///             // Commands queued behind "quit" are not run: they go to `on_undelivered`.
///             return Flow::Stop;
///         }
///         tracing::info!("running {command}");
///         Flow::Continue
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep the signal loop running.
    Continue,
    /// Stop this thread: its tasks end (with their grace), its exit runs, then its
    /// children are terminated.
    Stop,
}

/// How a thread ended, as its [`join`](super::ThreadHandle::join) and its parent see it.
///
/// ```
/// use task_thread_core::{ChildRef, Flow, LeafThread, TaskThread, ThreadCx, ThreadEnd};
///
/// struct Pool;
///
/// impl TaskThread for Pool {
///     type Signal = ();
///     type Output = ();
///     type ChildOutput = ();
///     fn id(&self) -> String { "pool".into() }
///
///     async fn on_child_ended(
///         &mut self,
///         child: &ChildRef,
///         end: ThreadEnd,
///         cx: &ThreadCx<Self>,
///     ) -> Flow {
///         match end {
///             ThreadEnd::Stopped => {}
///             // One bad job must not shrink the pool: replace the worker.
///             ThreadEnd::Failed(failure) => {
///                 tracing::warn!("{} {failure}", child.id());
///                 let _ = cx.spawn_child(Worker { id: child.id().to_owned() }).await;
///             }
///             // A worker that hangs would likely hang again: leave its place empty.
///             ThreadEnd::Forced { what } => tracing::error!("{} hung in {what}", child.id()),
///             // Ends added in later versions: keep the pool as it is.
///             _ => {}
///         }
///         Flow::Continue
///     }
/// }
///
/// # struct Worker { id: String }
/// # impl LeafThread for Worker {
/// #     type Signal = ();
/// #     type Output = ();
/// #     fn id(&self) -> String { self.id.clone() }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThreadEnd {
    /// Terminated, stopped by a handler, or stopped itself; its shutdown completed.
    Stopped,
    /// A user method or task failed (error or panic); the thread was then stopped cleanly.
    /// The [`Failure`] says where, and keeps the error with its type and source chain.
    Failed(Failure),
    /// Its shutdown did not finish within its budget, and what remained was cancelled; or
    /// its runtime dropped its task before it ended (the runtime refused to spawn it, or
    /// is shutting down), and its tasks were cancelled and its children terminated.
    ///
    /// Whatever forced it, the signals still queued for it went to its undelivered hooks,
    /// and by the time a `join` returns this its value, its handlers' futures, its tasks
    /// and its subtree's have been dropped (their destructors have run), on every runtime,
    /// async-std's global executor included: nothing of it runs on after `block_on`
    /// returns. The one exception is code that blocks a worker thread (a blocking call in
    /// a handler): it is waited for 500 ms at most, then left behind with an error logged.
    Forced {
        /// What was still running when the budget ran out, or `"its task, dropped by its
        /// runtime"`.
        what: String,
    },
}

impl ThreadEnd {
    /// The status a program whose root ended so should exit with: success for a clean
    /// stop, failure for a failed or forced end.
    ///
    /// ```
    /// use std::process::ExitCode;
    /// use task_thread_core::ThreadEnd;
    ///
    /// assert_eq!(ThreadEnd::Stopped.exit_code(), ExitCode::SUCCESS);
    /// let forced = ThreadEnd::Forced { what: "exit".into() };
    /// assert_eq!(forced.exit_code(), ExitCode::FAILURE);
    /// ```
    #[must_use]
    pub fn exit_code(&self) -> std::process::ExitCode {
        match self {
            ThreadEnd::Stopped => std::process::ExitCode::SUCCESS,
            _ => std::process::ExitCode::FAILURE,
        }
    }
}

impl std::fmt::Display for ThreadEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ThreadEnd::Stopped => f.write_str("stopped"),
            ThreadEnd::Failed(failure) => failure.fmt(f),
            ThreadEnd::Forced { what } => write!(f, "forced to end: {what}"),
        }
    }
}

/// Per-thread settings, returned by [`TaskThread::config`].
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
    pub overflow: super::OverflowPolicy,
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
            overflow: super::OverflowPolicy::Wait,
            timeouts: crate::Timeouts::default(),
            runaway_rate: None,
        }
    }
}

/// A TaskThread: a group of tasks with a signal loop, a parent and children. A thread that
/// starts no children implements the shorter [`LeafThread`](super::LeafThread) instead,
/// and is a `TaskThread` through it.
///
/// The library owns the value once the thread starts, and calls its methods one at a time
/// from the thread's signal loop, in this order: [`enter`](Self::enter); then, for each
/// signal in arrival order, [`on_signal`](Self::on_signal), [`on_child_signal`](Self::on_child_signal)
/// or [`on_child_ended`](Self::on_child_ended), until one returns [`Flow::Stop`] or the thread
/// is terminated; then [`exit`](Self::exit). Before `exit` the thread's tasks end: its
/// shutdown notice fires ([`ThreadCx::shutting_down`]), they get the thread's
/// [grace](ThreadConfig::shutdown_grace) to return by themselves, and what is left is
/// cancelled. After `exit` the library deletes any task `exit` started, then terminates all
/// the thread's children together and waits for them. The whole takes at most the thread's
/// [`shutdown_budget`](ThreadConfig::shutdown_budget) (and never more than its parent's
/// remaining one): what still runs then is cancelled, and the thread ends
/// [`Forced`](ThreadEnd::Forced), its queued signals still handed to
/// [`on_undelivered`](Self::on_undelivered) and
/// [`on_undelivered_from_children`](Self::on_undelivered_from_children).
///
/// Failure policy: an error returned by, or a panic in, any of these methods or in one of the
/// thread's tasks is logged (with the thread id and the method or task name), ends the
/// thread as [`ThreadEnd::Failed`] after the usual shutdown (`exit` still runs, unless it is
/// `exit` that failed, and children are terminated), and is reported to the parent through
/// [`on_child_ended`](Self::on_child_ended). Nothing else in the tree is disturbed.
///
/// The methods are `async fn`s (the trait spells them as functions returning a `Send`
/// future, so that threads can run on multi-threaded runtimes):
///
/// ```
/// use task_thread_core::{Flow, LeafThread, ThreadCx};
///
/// struct Greeter { id: String }
///
/// impl LeafThread for Greeter {
///     type Signal = String;      // what the parent sends
///     type Output = ();          // what this thread sends to its parent
///
///     fn id(&self) -> String { self.id.clone() }
///
///     async fn on_signal(&mut self, name: String, _cx: &ThreadCx<Self>) -> Flow {
///         tracing::info!("hello, {name}");
///         Flow::Continue
///     }
/// }
/// ```
pub trait TaskThread: Send + Sized + 'static {
    /// What the parent sends to this thread.
    type Signal: Send + 'static;
    /// What this thread sends to its parent.
    type Output: Send + 'static;
    /// What this thread's children send to it.
    type ChildOutput: Send + 'static;

    /// A unique id among its siblings (the original's `getId`), used to find it. The
    /// default is the type's name in snake case (`MainThread` is `"main_thread"`), which
    /// suits a thread of which its parent has one; siblings of one type each need their own
    /// (a second child with the same id is refused: [`ThreadError::DuplicateId`](super::ThreadError::DuplicateId)).
    /// The default comes from [`std::any::type_name`], which the compiler may spell
    /// differently from one version to the next: keep it for logs and lookups inside the
    /// program, not in anything stored.
    fn id(&self) -> String {
        id_of_type::<Self>()
    }

    /// A human-readable description (the original's `getInfo`); defaults to the id.
    fn info(&self) -> String {
        self.id()
    }

    /// Queue capacities, shutdown budget and slot timeouts.
    fn config(&self) -> ThreadConfig {
        ThreadConfig::default()
    }

    /// The start point: starts the thread's tasks (and maybe children). Runs before any
    /// signal is handled.
    fn enter(&mut self, cx: &ThreadCx<Self>) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = cx;
        async { Ok(()) }
    }

    /// Cleanup, after the signal loop has ended and the thread's tasks have ended (they had
    /// the [grace](ThreadConfig::shutdown_grace) to return by themselves, then were
    /// cancelled), and before the children are terminated: what the tasks used is free to
    /// close. A task started here is deleted by the library once `exit` returns.
    fn exit(&mut self, cx: &ThreadCx<Self>) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = cx;
        async { Ok(()) }
    }

    /// A signal from the parent. The default keeps running.
    fn on_signal(
        &mut self,
        signal: Self::Signal,
        cx: &ThreadCx<Self>,
    ) -> impl Future<Output = Flow> + Send {
        let _ = (signal, cx);
        async { Flow::Continue }
    }

    /// A signal from one child. The default keeps running.
    fn on_child_signal(
        &mut self,
        signal: Self::ChildOutput,
        child: &ChildRef,
        cx: &ThreadCx<Self>,
    ) -> impl Future<Output = Flow> + Send {
        let _ = (signal, child, cx);
        async { Flow::Continue }
    }

    /// A child has ended (stopped itself, was stopped, failed or was forced) and has left
    /// the registry. The default logs a failed child and keeps running.
    fn on_child_ended(
        &mut self,
        child: &ChildRef,
        end: ThreadEnd,
        cx: &ThreadCx<Self>,
    ) -> impl Future<Output = Flow> + Send {
        let _ = cx;
        if end != ThreadEnd::Stopped {
            tracing::warn!(child = %child.id(), "child ended: {end:?}");
        }
        async { Flow::Continue }
    }

    /// One of this thread's queues is full; called on the sender's side, before the
    /// thread's [`OverflowPolicy`](super::OverflowPolicy) applies. The default logs a warning,
    /// at most one a second per thread ([`Overflow::log`](super::Overflow::log)); nothing
    /// else logs a full queue, so a hook that replaces it decides what is said.
    fn on_overflow(overflow: &super::Overflow<'_>) {
        overflow.log();
    }

    /// Signals from the parent still queued when the thread ended. Called once, however
    /// the thread ends, before its `join` returns; not called if nothing was left. A
    /// forced thread (by its own budget, an ancestor's cascade, or its runtime dropping its
    /// task) calls it too: a handler still running is dropped, not polled again, and the
    /// hooks run before the thread's end is recorded. The default logs how many there were.
    fn on_undelivered(&mut self, signals: Vec<Self::Signal>) {
        log_undelivered(signals.len());
    }

    /// Signals from children still queued when the thread ended, with the id of the child
    /// that sent each. Called as [`on_undelivered`](Self::on_undelivered) is. The default
    /// logs how many there were.
    fn on_undelivered_from_children(&mut self, signals: Vec<(String, Self::ChildOutput)>) {
        tracing::warn!(
            count = signals.len(),
            "signals from children undelivered at the thread's end"
        );
    }
}

/// The default undelivered hook: how many signals from the parent were left.
pub(crate) fn log_undelivered(count: usize) {
    tracing::warn!(count, "signals undelivered at the thread's end");
}

/// A thread type's default id: its name, without its path or generic arguments, in snake
/// case (`MainThread<u8>` is `"main_thread"`).
pub(crate) fn id_of_type<T>() -> String {
    let name = std::any::type_name::<T>();
    let name = name.split('<').next().unwrap_or(name);
    let name = name.rsplit("::").next().unwrap_or(name);
    let chars: Vec<char> = name.chars().collect();
    let mut id = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        // A word starts at an upper-case letter after a lower-case one or a digit, or at
        // the last capital of an acronym before a lower-case letter (`TCPServer`).
        let before = i.checked_sub(1).map(|b| chars[b]);
        let after = chars.get(i + 1);
        let starts_word = c.is_uppercase()
            && before.is_some_and(|b| !b.is_uppercase() || after.is_some_and(|a| a.is_lowercase()));
        if starts_word && before != Some('_') {
            id.push('_');
        }
        id.extend(c.to_lowercase());
    }
    id
}

#[cfg(test)]
mod tests {
    use super::id_of_type;

    struct MainThread;
    struct Subthread;
    struct Pool<T>(T);
    #[allow(clippy::upper_case_acronyms)]
    struct TCPServer;
    struct Http2Client;

    #[test]
    fn a_default_id_is_the_type_name_in_snake_case() {
        assert_eq!(id_of_type::<MainThread>(), "main_thread");
        assert_eq!(id_of_type::<Subthread>(), "subthread");
        assert_eq!(id_of_type::<Pool<MainThread>>(), "pool");
        assert_eq!(id_of_type::<TCPServer>(), "tcp_server");
        assert_eq!(id_of_type::<Http2Client>(), "http2_client");
    }
}
