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
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use task_thread_core::consuming_cancel::{ConsumingCancel, ConsumingCancelTask};
use task_thread_core::{Backend, RawOutput, RawTask, Runtime, ShutdownSignal, Spawner};

/// Runs on async-std's global executor.
///
/// async-std is discontinued (see the [crate docs](crate)); new programs are better on smol.
///
/// async-std has one executor per process, so tasks still running when `block_on`'s main
/// future ends keep running in the background (the program's TaskThreads end theirs before).
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
        async_std::task::block_on(main(runtime()))
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
    Runtime::new(AsyncStdSpawner)
}

/// The [`Spawner`] of async-std.
#[derive(Clone, Copy, Debug)]
struct AsyncStdSpawner;

impl Spawner for AsyncStdSpawner {
    fn name(&self) -> &'static str {
        "async-std"
    }

    fn spawn_raw(&self, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        Box::new(ConsumingCancelTask::new(AsyncStdTask(
            async_std::task::spawn(future),
        )))
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        async_std::task::sleep(duration).boxed()
    }

    fn yield_now(&self) -> BoxFuture<'static, ()> {
        async_std::task::yield_now().boxed()
    }

    fn shutdown_signal(&self) -> BoxFuture<'static, io::Result<ShutdownSignal>> {
        shutdown_signal().boxed()
    }
}

/// async-std's `JoinHandle`: dropping detaches, `cancel` is async and consumes it.
struct AsyncStdTask(async_std::task::JoinHandle<RawOutput>);

impl Future for AsyncStdTask {
    type Output = RawOutput;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RawOutput> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl ConsumingCancel for AsyncStdTask {
    fn cancel(self) -> BoxFuture<'static, Option<RawOutput>> {
        self.0.cancel().boxed()
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
