//! The async-std backend of task-thread: [`AsyncStd`] runs on async-std's global executor,
//! with its spawn, `JoinHandle::cancel` and timer, and `async-signal` for SIGINT / SIGTERM.
//!
//! **async-std is discontinued**: its own README says so and recommends smol. This backend
//! stays for programs already on async-std; for a new one, pick smol (`task-thread-smol`, the
//! `smol` feature of `task-thread`), which runs the same trees.
//!
//! ```
//! use task_thread_core::{Backend, SpawnerExt};
//! use task_thread_async_std::AsyncStd;
//!
//! let answer = AsyncStd.block_on(|rt| async move {
//!     rt.spawn(async { 42 }).await.unwrap()
//! });
//! assert_eq!(answer, 42);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use task_thread_core::block_on_tasks::BlockOnTasks;
use task_thread_core::consuming_cancel::{ConsumingCancel, ConsumingCancelTask};
use task_thread_core::{Backend, RawOutput, RawTask, Runtime, ShutdownSignal, Spawner};

/// Runs on async-std's global executor.
///
/// async-std is discontinued (see the [crate docs](crate)); new programs are better on smol.
///
/// async-std has one executor per process, which outlives every `block_on`; so this
/// backend keeps a list of the tasks a `block_on` spawned. When its main future ends, it
/// cancels those still running and waits until each is dropped (their destructors have
/// run), and refuses spawns through its [`Runtime`] from then on, as the other backends do
/// when their runtime is dropped.
///
/// ```
/// use task_thread_async_std::AsyncStd;
/// use task_thread_core::{Backend, SpawnerExt};
///
/// let answer = AsyncStd.block_on(|rt| async move { rt.spawn(async { 42 }).await.unwrap() });
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AsyncStd;

impl Backend for AsyncStd {
    fn name(&self) -> &'static str {
        "async-std"
    }

    fn block_on<F, Fut>(&self, main: F) -> Fut::Output
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future,
    {
        let tasks = BlockOnTasks::new();
        let runtime = Runtime::new(AsyncStdSpawner {
            tasks: Some(tasks.clone()),
        });
        async_std::task::block_on(async move {
            let output = main(runtime).await;
            tasks.close().await;
            output
        })
    }
}

/// A [`Runtime`] on async-std's global executor, for programs that start async-std
/// themselves (`#[async_std::main]`).
///
/// ```
/// use task_thread_core::SpawnerExt;
///
/// // Inside a program that runs async-std itself.
/// let answer = async_std::task::block_on(async {
///     let rt = task_thread_async_std::runtime();
///     rt.spawn(async { 42 }).await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
#[must_use]
pub fn runtime() -> Runtime {
    Runtime::new(AsyncStdSpawner { tasks: None })
}

/// The [`Spawner`] of async-std: with the task list of its `block_on`, if any.
struct AsyncStdSpawner {
    tasks: Option<Arc<BlockOnTasks>>,
}

impl Spawner for AsyncStdSpawner {
    fn name(&self) -> &'static str {
        "async-std"
    }

    fn spawn_raw(&self, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        let Some(tasks) = &self.tasks else {
            let task = async_std::task::spawn(future.map(Some));
            return Box::new(ConsumingCancelTask::new(AsyncStdTask(task)));
        };
        let Some(tracked) = tasks.track(future) else {
            tracing::warn!("spawn refused: its block_on has ended");
            return Box::new(ConsumingCancelTask::<AsyncStdTask>::refused());
        };
        // Cancelled through async-std's own handle; `tracked.cancel` is for the close.
        let task = async_std::task::spawn(tracked.future);
        Box::new(ConsumingCancelTask::new(AsyncStdTask(task)))
    }

    /// async-std's handle dropped at once (which detaches), never boxed.
    fn spawn_named_detached(
        &self,
        _name: std::fmt::Arguments<'_>,
        future: BoxFuture<'static, RawOutput>,
    ) {
        let Some(tasks) = &self.tasks else {
            drop(async_std::task::spawn(future));
            return;
        };
        let Some(tracked) = tasks.track(future) else {
            tracing::warn!("spawn refused: its block_on has ended");
            return;
        };
        drop(async_std::task::spawn(tracked.future));
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        async_std::task::sleep(duration).boxed()
    }

    /// A self-wake: async-task reschedules a task woken during its own poll once the poll
    /// returns, and async-executor (under async-std's global executor) queues it behind
    /// the tasks already ready.
    fn defer_wake(&self, waker: &Waker) {
        waker.wake_by_ref();
    }

    fn shutdown_signal(&self) -> BoxFuture<'static, io::Result<ShutdownSignal>> {
        shutdown_signal().boxed()
    }
}

/// async-std's `JoinHandle`: dropping detaches, `cancel` is async and consumes it. Its
/// output is `None` for a task cancelled by the end of its `block_on`.
struct AsyncStdTask(async_std::task::JoinHandle<Option<RawOutput>>);

impl Future for AsyncStdTask {
    type Output = Option<RawOutput>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RawOutput>> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl ConsumingCancel for AsyncStdTask {
    fn cancel(self) -> BoxFuture<'static, Option<RawOutput>> {
        self.0.cancel().map(Option::flatten).boxed()
    }
    fn detach(self) {
        drop(self.0);
    }
}

#[cfg(unix)]
fn shutdown_signal() -> impl Future<Output = io::Result<ShutdownSignal>> + Send {
    use async_signal::{Signal, Signals};
    use futures::StreamExt;
    // Registered now, not at the first poll, so a signal sent right after this call is seen.
    let signals = Signals::new([Signal::Int, Signal::Term]);
    async move {
        let received = signals?.next().await;
        match received {
            Some(Ok(Signal::Term)) => Ok(ShutdownSignal::Terminate),
            Some(Ok(_)) => Ok(ShutdownSignal::Interrupt),
            Some(Err(error)) => Err(error),
            None => Err(io::Error::other("the signal stream ended")),
        }
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl Future<Output = io::Result<ShutdownSignal>> + Send {
    async {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "task-thread-async-std waits for shutdown signals on unix only",
        ))
    }
}

/// A whole program on async-std's global executor: runs `root` until SIGINT or SIGTERM or its own end, and
/// returns the status to exit with ([`Backend::run`]).
///
/// ```no_run
/// use std::process::ExitCode;
/// use task_thread_core::LeafThread;
///
/// struct Master;
///
/// impl LeafThread for Master {
///     type Signal = ();
///     type Output = ();
///     fn id(&self) -> String { "master".into() }
/// }
///
/// fn main() -> ExitCode {
///     task_thread_async_std::run(Master)
/// }
/// ```
pub fn run<T: task_thread_core::TaskThread>(root: T) -> std::process::ExitCode {
    AsyncStd.run(root)
}
