//! How a thread ended: [`ThreadEnd`], what its join and its parent see, and how it reads
//! in a log and as a program's exit code.

use crate::thread::failure::Failure;

/// How a thread ended, as its [`join`](crate::thread::ThreadHandle::join) and its parent see it.
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
