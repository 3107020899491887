//! TaskThreads: a tree of threads, each a group of task slots with a signal loop, talking
//! parent <-> child through bounded, typed queues, and shutting down as a cascade.
//!
//! Order of a shutdown (terminate, a handler's [`Flow::Stop`], a failure):
//! 1. the signal loop ends (signals still queued go to [`TaskThread::on_undelivered`] and
//!    [`TaskThread::on_undelivered_from_children`]);
//! 2. the thread's shutdown notice fires ([`ThreadCx::shutting_down`],
//!    [`TaskCx::shutting_down`](crate::TaskCx::shutting_down)); it fires as the loop takes
//!    a terminate or a failure, so a handler still running sees it too;
//! 3. the tasks of slots marked [`cancel_at_once`](crate::TaskSlot::cancel_at_once) are
//!    cancelled; the others get the [grace](ThreadConfig::shutdown_grace) to return by
//!    themselves (a `Task`'s `run` is not called again, a pending
//!    [`TaskCx::sleep`](crate::TaskCx::sleep) ends early); what is still running when it is
//!    over is cancelled and awaited;
//! 4. `exit` runs, once every task has ended; a task it starts is deleted after it, and no
//!    task starts in the thread from then on;
//! 5. every child is terminated at once and all are awaited together, each child's subtree
//!    following the same order within what is left of this thread's deadline;
//! 6. `join` returns, and the parent's [`TaskThread::on_child_ended`] runs.
//!
//! `exit` runs after the tasks have ended, not before: it cleans up after work that has
//! stopped (what a task flushed on the notice is written before `exit` closes what it was
//! written to), and no task still uses what it closes. A task's last messages to its
//! parent (a child keeps its link until it has ended) come before its end.
//!
//! The whole takes at most the thread's [`ThreadConfig::shutdown_budget`], and never more
//! than its parent's remaining budget: what is left then is cancelled and the end is
//! [`ThreadEnd::Forced`]. The grace never takes more than half of the time left, so a task
//! that ignores the notice is cancelled in time for the thread to end
//! [`ThreadEnd::Stopped`] if the rest holds.
//!
//! A forced thread (by its own budget, by an ancestor's cascade, or because its runtime
//! dropped its task) still hands every signal queued for it to its undelivered hooks: a
//! handler still running is dropped, not polled again, and the hooks run before its
//! `join` returns. By then its value, its handlers' futures, its tasks and its subtree
//! have been dropped, on every runtime; only code that blocks a worker past a grace of
//! 500 ms can outlive it (logged as an error).

// Where things live: what a user writes ([`TaskThread`] in `definition`, [`LeafThread`] in
// `leaf`) and holds ([`ThreadHandle`] in `handle`, [`ThreadCx`] in `context`, ask and reply
// in `ask`, errors and failures); then what a thread is made of, one folder each: its life
// on its task (`life`: the shared core, the launch, the runtime task, the signal loop,
// contained methods, the shutdown, the root), its queue (`mailbox`: lanes, the parent's
// and the children's ways in, the loop's hand, the children's lane, overflow, a lane's
// room) and its family (`family`: adding, finding and messaging children, the registry). Every
// folder knows the shared core (`life::thread_core`); the life runs the user's methods,
// so it knows the first group too, as a handle and a context act through the core.

use std::convert::Infallible;

// What a user writes and holds.
mod ask;
mod blocking;
mod context;
mod definition;
mod errors;
mod failure;
mod handle;
mod leaf;
mod report;
mod snapshot;
// What a thread is made of: its life on its task, its queue, its family.
mod family;
mod life;
pub(crate) mod mailbox;
// What a parent does when its children end.
mod supervision;

pub use ask::{AskError, Reply};
pub use blocking::{Blocking, BlockingLink, BlockingThread, OutputLost, RecvTimeout};
pub use context::ThreadCx;
pub use definition::{BoxError, Flow, TaskThread, ThreadConfig, ThreadEnd};
pub use errors::{SendError, ThreadError};
pub use failure::{Failure, Panicked};
pub use family::children::ChildRef;
pub use handle::ThreadHandle;
pub use leaf::LeafThread;
pub use mailbox::overflow::{Overflow, OverflowPolicy, QueueKind};
pub use report::{NotKept, Restarted, ThreadReport};
pub use snapshot::{
    Counters, QueueDepth, ShutdownPhase, SlotActivity, SlotSnapshot, ThreadSnapshot, ThreadState,
};
pub use supervision::{
    Backoff, Escalation, Intensity, Restart, RestartDecision, RestartPolicy, Strategy,
};

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
    let Ok(launched) = life::launch::launch(runtime.clone(), thread, |_| Ok::<_, Infallible>(()));
    let id = launched.id().to_owned();
    launched
        .entered()
        .await
        .map_err(|end| ThreadError::EnterFailed { child: id, end })
}

pub use life::root::run;
