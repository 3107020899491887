//! TaskThreads: a tree of threads, each a group of task slots with a signal loop, talking
//! parent <-> child through bounded, typed queues, and shutting down as a cascade.
//!
//! Order of a shutdown (terminate, a handler's [`Flow::Stop`], a failure): the signal loop
//! ends (signals still queued go to [`TaskThread::on_undelivered`] and
//! [`TaskThread::on_undelivered_from_children`]); `exit` runs; the
//! thread's task slots are deleted; every child is terminated at once and all are awaited
//! together, each child's subtree following the same order; then `join` returns. The whole
//! takes at most the thread's [`ThreadConfig::shutdown_budget`], and never more than its
//! parent's remaining budget: what is left then is cancelled and the end is
//! [`ThreadEnd::Forced`].

use std::convert::Infallible;

mod ask;
mod child_lane;
mod children;
mod contained;
mod context;
mod core;
mod definition;
mod errors;
mod failure;
mod family;
mod handle;
mod leaf;
mod mailbox;
mod overflow;
mod receiver;
mod registry;
mod root;
mod shutdown;
mod signal_loop;

pub use ask::{AskError, Reply};
pub use children::ChildRef;
pub use context::ThreadCx;
pub use definition::{BoxError, Flow, TaskThread, ThreadConfig, ThreadEnd};
pub use errors::{SendError, ThreadError};
pub use failure::{Failure, Panicked};
pub use handle::ThreadHandle;
pub use leaf::LeafThread;
pub use overflow::{Overflow, OverflowPolicy, QueueKind};

/// Starts `thread` with no parent and returns its handle once it has entered and its
/// signal loop runs. The thread ends when terminated (or when it ends itself); [`run`]
/// adds the handling of SIGINT and SIGTERM for a program's root.
///
/// A failed `enter` is [`ThreadError::EnterFailed`], returned once the thread has shut
/// down (its `exit` has run), with its end. Cancelling the start (dropping its future)
/// before `enter` has returned terminates the thread: `enter` then gets the thread's
/// shutdown budget to return (and the thread shuts down as usual), or is dropped at its
/// end and the thread ends as [`ThreadEnd::Forced`]. So a deadline on a start is a
/// [`timeout`](crate::SpawnerExt::timeout) around it:
///
/// ```
/// use std::future::Future;
/// use std::time::Duration;
/// use task_thread_core::{start, Elapsed, LeafThread, Runtime, SpawnerExt, ThreadEnd, ThreadError};
///
/// # struct Master;
/// # impl LeafThread for Master {
/// #     type Signal = ();
/// #     type Output = ();
/// #     fn id(&self) -> String { "master".into() }
/// # }
/// #[derive(Debug)]
/// enum NotServing { Failed(ThreadError), TooSlow(Elapsed) }
///
/// async fn serve_until(
///     rt: &Runtime,
///     shutdown: impl Future<Output = ()>,
/// ) -> Result<ThreadEnd, NotServing> {
///     // A failed `enter` shows up here, before the program goes on as if it were serving;
///     // one that takes more than 10 s is terminated (and ends on its own).
///     let master = rt
///         .timeout(Duration::from_secs(10), start(rt, Master))
///         .await
///         .map_err(NotServing::TooSlow)?
///         .map_err(NotServing::Failed)?;
///     // The embedding program, not SIGINT as under `run`, decides when the tree ends.
///     shutdown.await;
///     master.terminate();
///     Ok(master.join().await)
/// }
/// ```
pub async fn start<T: TaskThread>(
    runtime: &crate::Runtime,
    thread: T,
) -> Result<ThreadHandle<T>, ThreadError> {
    let Ok(launched) = signal_loop::launch(runtime.clone(), thread, |_| Ok::<_, Infallible>(()));
    let id = launched.id().to_owned();
    launched
        .entered()
        .await
        .map_err(|end| ThreadError::EnterFailed { child: id, end })
}

pub use root::run;
