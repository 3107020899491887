//! The smol backend of task-thread: [`Smol`] runs an `async-executor` of its own on the
//! calling thread and a few worker threads, with smol's `Task::cancel`, timer, and
//! `async-signal` for SIGINT / SIGTERM.
//!
//! ```
//! use task_thread_core::{Backend, SpawnerExt};
//! use task_thread_smol::Smol;
//!
//! let answer = Smol::default().block_on(|rt| async move {
//!     rt.spawn(async { 42 }).await.unwrap()
//! });
//! assert_eq!(answer, 42);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use smol::Executor;
use task_thread_core::consuming_cancel::{ConsumingCancel, ConsumingCancelTask};
use task_thread_core::{Backend, RawOutput, RawTask, Runtime, ShutdownSignal, Spawner};

/// Runs an executor of its own on the thread calling `block_on` plus `threads - 1` workers.
///
/// Not smol's global executor: that one never drops detached tasks. When `block_on`'s main
/// future ends, the workers stop and the executor is dropped, which drops every task still
/// on it (their destructors run); spawning after that is refused (the task reports itself
/// cancelled).
///
/// ```
/// use task_thread_core::{Backend, SpawnerExt};
/// use task_thread_smol::Smol;
///
/// // Two threads: the caller's and one worker.
/// let answer = Smol::with_threads(2).block_on(|rt| async move {
///     rt.spawn(async { 42 }).await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Smol {
    threads: usize,
}

impl Smol {
    /// An executor driven by `threads` OS threads (at least 1: the caller's).
    #[must_use]
    pub fn with_threads(threads: usize) -> Self {
        Smol {
            threads: threads.max(1),
        }
    }
}

impl Default for Smol {
    /// One thread per core.
    fn default() -> Self {
        Smol::with_threads(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

impl Backend for Smol {
    fn name(&self) -> &'static str {
        "smol"
    }

    fn block_on<F, Fut>(&self, main: F) -> Fut::Output
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future,
    {
        let executor = Arc::new(Executor::new());
        let runtime = Runtime::new(SmolSpawner {
            executor: Arc::downgrade(&executor),
        });
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let output = std::thread::scope(|scope| {
            for _ in 1..self.threads {
                let (executor, stopped) = (executor.clone(), stopped.clone());
                scope.spawn(move || smol::block_on(executor.run(stopped.recv())));
            }
            let output = smol::block_on(executor.run(main(runtime)));
            drop(stop);
            output
        });
        // The workers have returned their clones: this drops the executor and its tasks.
        drop(executor);
        output
    }
}

/// The [`Spawner`] of a [`Smol`] executor. Weak, so that tasks holding it do not keep the
/// executor (and so themselves) alive after `block_on`.
#[derive(Clone, Debug)]
struct SmolSpawner {
    executor: Weak<Executor<'static>>,
}

impl Spawner for SmolSpawner {
    fn name(&self) -> &'static str {
        "smol"
    }

    fn spawn_raw(&self, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        match self.executor.upgrade() {
            Some(executor) => Box::new(ConsumingCancelTask::new(SmolTask(
                executor.spawn(future).fallible(),
            ))),
            None => {
                tracing::warn!("spawn refused: the smol executor has shut down");
                Box::new(ConsumingCancelTask::<SmolTask>::refused())
            }
        }
    }

    /// async-executor's task detached, never boxed.
    fn spawn_named_detached(
        &self,
        _name: std::fmt::Arguments<'_>,
        future: BoxFuture<'static, RawOutput>,
    ) {
        match self.executor.upgrade() {
            Some(executor) => executor.spawn(future).detach(),
            None => {
                drop(future);
                tracing::warn!("spawn refused: the smol executor has shut down");
            }
        }
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        smol::Timer::after(duration).map(drop).boxed()
    }

    /// A self-wake: async-task reschedules a task woken during its own poll once the poll
    /// returns, and async-executor queues it behind the tasks already ready.
    fn defer_wake(&self, waker: &Waker) {
        waker.wake_by_ref();
    }

    fn shutdown_signal(&self) -> BoxFuture<'static, io::Result<ShutdownSignal>> {
        shutdown_signal().boxed()
    }
}

/// smol's `Task`, in its fallible form: the end reads `None` when the executor dropped the
/// task at the end of `block_on` (the plain form panics then). Dropping it would cancel,
/// so [`ConsumingCancel::detach`] detaches explicitly; `cancel` is async and consumes it.
struct SmolTask(async_executor::FallibleTask<RawOutput>);

impl Future for SmolTask {
    type Output = Option<RawOutput>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RawOutput>> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl ConsumingCancel for SmolTask {
    fn cancel(self) -> BoxFuture<'static, Option<RawOutput>> {
        self.0.cancel().boxed()
    }
    fn detach(self) {
        self.0.detach();
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
            "task-thread-smol waits for shutdown signals on unix only",
        ))
    }
}

/// A whole program on a smol executor with one thread per core: runs `root` until SIGINT or SIGTERM or its own end, and
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
///     task_thread_smol::run(Master)
/// }
/// ```
pub fn run<T: task_thread_core::TaskThread>(root: T) -> std::process::ExitCode {
    Smol::default().run(root)
}
