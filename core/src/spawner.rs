//! What task-thread needs from an async runtime, and the handle users hold to one.
//!
//! This file holds what a backend implements: [`Spawner`], with the handle of a spawned
//! task ([`RawTask`], [`RawOutput`]) and the [`ShutdownSignal`] it reports. What is built
//! on it lives beside it: the typed helpers ([`SpawnerExt`], in `ext`), the panic wrapper of
//! a spawned future (`contained`), the [`Runtime`] handle (`runtime`), the [`Backend`] that
//! starts one (`backend`), and the races core runs under a deadline (`race`).

mod backend;
mod contained;
mod ext;
mod race;
mod runtime;

pub use backend::Backend;
pub use ext::{Elapsed, SpawnerExt};
pub(crate) use race::{before, first};
pub use runtime::Runtime;

use std::any::Any;
use std::fmt;
use std::io;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::future::BoxFuture;

/// What a spawned future ends with, as seen by a backend: its value (boxed, so one
/// object-safe trait serves every value type; a `()` value does not allocate) or the
/// message of the panic that ended it. Panics are caught by core before the runtime sees
/// them, so every backend reports them the same way.
///
/// ```
/// use task_thread_core::RawOutput;
///
/// // What a backend hands back for a task that returned 42, and for one that panicked.
/// let returned: RawOutput = Ok(Box::new(42_u32));
/// let panicked: RawOutput = Err("index out of bounds".to_owned());
/// assert_eq!(returned.unwrap().downcast::<u32>().ok().map(|v| *v), Some(42));
/// assert!(panicked.is_err());
/// ```
pub type RawOutput = Result<Box<dyn Any + Send>, String>;

/// A backend's handle to one spawned future.
///
/// Contract every backend must keep (in full on [the contract page](crate::contract); the
/// conformance suite checks each point):
/// - dropping the handle detaches the task: it keeps running and its output is discarded;
/// - [`cancel`](RawTask::cancel) takes effect without being awaited: the future is dropped
///   at its next suspension point, or before its first poll if it has not started;
/// - [`poll_end`](RawTask::poll_end) reports the end (`Some(output)`, or `None` for a task
///   cancelled, refused or dropped by its runtime) only after the future, and so every
///   value it owned, has been dropped; core does not poll it again after that.
///
/// A handle for a task that had already finished when it was handed out (as a backend may
/// do when it refuses to spawn, or runs a future to its end on the spot):
///
/// ```
/// use std::task::{Context, Poll, Waker};
/// use task_thread_core::{RawOutput, RawTask};
///
/// struct Finished(Option<RawOutput>);
///
/// impl RawTask for Finished {
///     // Too late to cancel: the output stays as it is.
///     fn cancel(&mut self) {}
///     fn poll_end(&mut self, _cx: &mut Context<'_>) -> Poll<Option<RawOutput>> {
///         Poll::Ready(self.0.take())
///     }
/// }
///
/// let mut task = Finished(Some(Ok(Box::new(()))));
/// task.cancel();
/// let mut cx = Context::from_waker(futures::task::noop_waker_ref());
/// assert!(matches!(task.poll_end(&mut cx), Poll::Ready(Some(Ok(_)))));
/// ```
pub trait RawTask: Send + 'static {
    /// Asks the runtime to cancel the task. Idempotent.
    fn cancel(&mut self);
    /// Polls for the end of the task: `Some(output)` if it ran to completion (also when a
    /// cancel came too late to stop it), `None` if it was cancelled.
    fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<Option<RawOutput>>;
}

/// Which OS signal asked the process to shut down.
///
/// ```
/// use task_thread_core::{Runtime, ShutdownSignal, Spawner};
///
/// async fn wait_for_the_end(rt: &Runtime) -> &'static str {
///     match rt.shutdown_signal().await {
///         Ok(ShutdownSignal::Interrupt) => "Ctrl-C",
///         Ok(ShutdownSignal::Terminate) => "SIGTERM",
///         // Signals a later version may listen for too (SIGHUP, say).
///         Ok(_) => "another signal",
///         // The platform or the backend cannot listen: say so, do not hang.
///         Err(_) => "no signal handling here",
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ShutdownSignal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

/// Everything core needs from an async runtime: spawn, sleep, yield, and the process's
/// shutdown signals. Backends implement it with their runtime's own primitives; core and
/// the libraries written on it use nothing else, so they run on every backend.
///
/// The trait is object safe: core holds it as a [`Runtime`]. Code generic over it uses the
/// typed helpers of [`SpawnerExt`]. What each method must do is on
/// [the contract page](crate::contract), with a minimal backend.
///
/// ```
/// use task_thread_core::{Spawner, SpawnerExt};
/// use std::time::Duration;
///
/// // A portable helper: no runtime is named.
/// async fn twice<S: Spawner + ?Sized>(spawner: &S) -> u32 {
///     let task = spawner.spawn(async { 21 });
///     spawner.sleep(Duration::from_millis(1)).await;
///     task.await.unwrap() * 2
/// }
/// ```
pub trait Spawner: Send + Sync + 'static {
    /// A short name for logs and test names, e.g. `"tokio-current-thread"`.
    fn name(&self) -> &'static str;
    /// Spawns a future on the runtime. The future never unwinds, neither when polled nor
    /// when dropped (core catches panics).
    ///
    /// A runtime that refuses (it is shutting down) drops the future before returning, and
    /// returns the handle of an ended task: a slot's `re_create` then reports
    /// [`SlotError::Refused`](crate::SlotError::Refused). A future dropped later still
    /// empties its slot then; one never dropped leaves its slot live.
    fn spawn_raw(&self, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask>;
    /// [`spawn_raw`](Self::spawn_raw), naming the task for tools that show a runtime's
    /// tasks by name (tokio-console): core names a thread's task by the thread's id and a
    /// slot's task `thread-id/slot-name`. The default ignores the name; it is formatted
    /// only by a backend that keeps it, so the others pay nothing for it.
    ///
    /// ```
    /// # use std::fmt;
    /// # use std::sync::Mutex;
    /// # use futures::future::BoxFuture;
    /// # use task_thread_core::{RawOutput, RawTask, Runtime, Spawner};
    /// // In a backend that keeps the names (here in a list, for a tool to show), then
    /// // spawns as it always does:
    /// fn spawn_named_raw(
    ///     names: &Mutex<Vec<String>>,
    ///     runtime: &Runtime,
    ///     name: fmt::Arguments<'_>,
    ///     future: BoxFuture<'static, RawOutput>,
    /// ) -> Box<dyn RawTask> {
    ///     names.lock().unwrap().push(name.to_string());
    ///     runtime.spawn_raw(future)
    /// }
    /// ```
    fn spawn_named_raw(
        &self,
        name: fmt::Arguments<'_>,
        future: BoxFuture<'static, RawOutput>,
    ) -> Box<dyn RawTask> {
        let _ = name;
        self.spawn_raw(future)
    }
    /// [`spawn_named_raw`](Self::spawn_named_raw) for a task nobody awaits or cancels
    /// through a handle: it runs to its end, and its output is discarded, as when a
    /// handle is dropped. Core starts each thread's own task this way (a thread's end is
    /// awaited, and a force reaches its task, through the thread), once per thread. The
    /// default spawns and drops the handle; a backend whose runtime can spawn without one
    /// overrides it, saving the handle's allocation. A refused spawn drops the future
    /// before returning, as `spawn_raw`'s does.
    ///
    /// ```
    /// use std::any::Any;
    /// use futures::channel::oneshot;
    /// use futures::FutureExt;
    /// use task_thread_core::{Runtime, Spawner};
    ///
    /// // Fire and forget: the task runs on; what it says goes through a channel, not its
    /// // output.
    /// fn greet_later(rt: &Runtime, said: oneshot::Sender<&'static str>) {
    ///     let task = async move {
    ///         let _ = said.send("hello");
    ///         Ok(Box::new(()) as Box<dyn Any + Send>)
    ///     };
    ///     rt.spawn_named_detached(format_args!("greeter"), task.boxed());
    /// }
    /// ```
    fn spawn_named_detached(
        &self,
        name: fmt::Arguments<'_>,
        future: BoxFuture<'static, RawOutput>,
    ) {
        drop(self.spawn_named_raw(name, future));
    }
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
    /// Wakes `waker` so that its task, which is being polled now and will return
    /// `Pending`, is polled again only after the other tasks ready on its worker have had
    /// a turn. This is how core yields: a slot's task that reschedules itself calls it
    /// once per run, so it must not allocate (see [the contract](crate::contract)).
    ///
    /// On a runtime that puts a task woken during its own poll at the back of its run queue
    /// (tokio, async-executor, async-std), this is `waker.wake_by_ref()`. An executor that
    /// polls such a task again at once must go through its queue instead, or a task that
    /// reschedules itself starves every task sharing its worker.
    fn defer_wake(&self, waker: &Waker);
    /// A future that completes when the process receives SIGINT or SIGTERM. Every call
    /// makes an independent listener, so several waiters (several roots) all see a signal.
    /// Once called, the signals no longer kill the process by default.
    fn shutdown_signal(&self) -> BoxFuture<'static, io::Result<ShutdownSignal>>;

    /// Runs `work`, which may block for as long as it likes, on an OS thread named `name`
    /// that belongs to it alone, and returns once the thread has started (not when `work`
    /// ends). Nothing joins the thread: a `work` that never returns is left behind, never
    /// waited for, so it cannot hang a shutdown or [`Backend::block_on`]. The error is the
    /// platform's refusal to start a thread.
    ///
    /// This is what a [`Blocking`](crate::Blocking) thread runs its handler on. The default
    /// starts a plain `std::thread`, which is right on every runtime: such a handler lives
    /// as long as its thread of the tree, and a runtime's blocking pool is made for short
    /// calls (a long one holds a pool thread for good, and work queued past the pool's
    /// size waits for it), and tokio's runtime waits for its pool's work when it is
    /// dropped, so a call that never returns would hang `block_on`. A backend overrides it
    /// to run `work` where its runtime is reachable (tokio's enters its runtime, so
    /// `Handle::current()` works in `work`), or, on a platform without threads, to
    /// return the error at once.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use task_thread_core::{Runtime, Spawner};
    ///
    /// fn checksum_elsewhere(rt: &Runtime, data: Vec<u8>) -> std::io::Result<mpsc::Receiver<u32>> {
    ///     let (done, sum) = mpsc::channel();
    ///     rt.spawn_blocking("checksum", Box::new(move || {
    ///         // A blocking loop: no runtime worker is held while it runs.
    ///         let _ = done.send(data.iter().map(|&b| u32::from(b)).sum());
    ///     }))?;
    ///     Ok(sum)
    /// }
    /// ```
    fn spawn_blocking(&self, name: &str, work: BlockingWork) -> io::Result<()> {
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(work)
            .map(drop)
    }
}

/// Work for [`Spawner::spawn_blocking`]: a closure that may block its OS thread.
pub type BlockingWork = Box<dyn FnOnce() + Send + 'static>;
