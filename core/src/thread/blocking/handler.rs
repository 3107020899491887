//! [`BlockingThread`]: the handler a user writes, run on an OS thread of its own.

use super::link::BlockingLink;
use crate::thread::definition::{id_of_type, log_undelivered, BoxError, ThreadConfig};

/// A handler that blocks: a loop over a blocking library, a computation that takes
/// seconds, a device read. Wrapped in [`Blocking`](super::Blocking), it is a child thread
/// like any other: its parent sends it [`Signal`](Self::Signal)s, it sends up
/// [`Output`](Self::Output)s, it ends with its parent's tree, and its end is the thread's.
///
/// [`run`](Self::run) is called once, on an OS thread of its own
/// ([`Spawner::spawn_blocking`](crate::Spawner::spawn_blocking)), with the
/// [`BlockingLink`] to its thread. When it returns, the thread ends:
/// [`Stopped`](crate::ThreadEnd::Stopped) for `Ok`, and [`Failed`](crate::ThreadEnd::Failed)
/// for an error or a panic (its [`during`](crate::Failure::during) is `"exit"`, where the
/// thread collects the handler's end). When the thread is terminated, [`BlockingLink::recv`] returns `None`
/// and [`BlockingLink::is_stopping`] turns true: `run` should return then; the thread
/// waits for it until its shutdown's deadline ([`BlockingLink::shutdown_deadline`]: its
/// [`shutdown_budget`](ThreadConfig::shutdown_budget) from the terminate, or its parent's
/// deadline if sooner). A handler that never returns (a call that hangs) leaves the
/// thread [`Forced`](crate::ThreadEnd::Forced) at that deadline: its OS thread is left
/// behind, never joined, and an error says so.
///
/// Compared with `spawn_blocking` (tokio's, or `blocking::unblock`): those run one call
/// and return its value; this runs a whole loop that talks to its parent while it runs,
/// and is told when to stop.
///
/// ```
/// use task_thread_core::{BlockingLink, BlockingThread, BoxError};
///
/// /// Hashes the files it is sent with a blocking library, one at a time.
/// struct Hasher;
///
/// impl BlockingThread for Hasher {
///     type Signal = std::path::PathBuf;
///     type Output = (std::path::PathBuf, u64);
///
///     fn run(&mut self, link: &BlockingLink<Self::Signal, Self::Output>) -> Result<(), BoxError> {
///         while let Some(path) = link.recv() {
///             let size = std::fs::metadata(&path)?.len(); // blocking I/O, on its own thread
///             link.send((path, size))?;
///         }
///         Ok(()) // terminated: the thread ends Stopped
///     }
/// }
/// ```
pub trait BlockingThread: Send + Sized + 'static {
    /// What the parent sends to this thread.
    type Signal: Send + 'static;
    /// What this thread sends to its parent.
    type Output: Send + 'static;

    /// As [`TaskThread::id`](crate::TaskThread::id); it also names the OS thread.
    fn id(&self) -> String {
        id_of_type::<Self>()
    }

    /// As [`TaskThread::info`](crate::TaskThread::info).
    fn info(&self) -> String {
        self.id()
    }

    /// As [`TaskThread::config`](crate::TaskThread::config). The signal capacity is the
    /// thread's queue; beyond it, at most 16 signals wait in the link for `run` to take
    /// them, and one in the thread's loop once `run` takes no more (they too go to
    /// [`on_undelivered`](Self::on_undelivered) if never taken).
    fn config(&self) -> ThreadConfig {
        ThreadConfig::default()
    }

    /// The handler, on its own OS thread: takes signals from `link`, sends outputs through
    /// it, and returns when `recv` gives `None` (or when it is done).
    fn run(&mut self, link: &BlockingLink<Self::Signal, Self::Output>) -> Result<(), BoxError>;

    /// Signals from the parent that `run` never took, called once `run` has returned (on
    /// the async side, not on the OS thread). Not called for a handler that never returns:
    /// the count of those is logged as an error instead. The default logs how many.
    fn on_undelivered(&mut self, signals: Vec<Self::Signal>) {
        log_undelivered(signals.len());
    }
}
