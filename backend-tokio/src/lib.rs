//! The tokio backend of task-thread: [`Tokio`] starts a multi-thread or current-thread
//! runtime, and its [`Spawner`] uses tokio's own spawn, `JoinHandle::abort`, timer and
//! signal handling.
//!
//! ```
//! use task_thread_core::{Backend, SpawnerExt};
//! use task_thread_tokio::Tokio;
//!
//! let answer = Tokio::current_thread().block_on(|rt| async move {
//!     rt.spawn(async { 42 }).await.unwrap()
//! });
//! assert_eq!(answer, 42);
//! ```
//!
//! # Task names for tokio-console
//!
//! With the `tokio-console` feature, in a program built with `--cfg tokio_unstable`, every
//! task carries a name in tokio's instrumentation: a thread's its id, a slot's
//! `thread-id/slot-name`, so that tokio-console lists the tree's tasks by name. The program
//! installs console-subscriber's layer (its own dependency, `console-subscriber = "0.4"`,
//! with `console_subscriber::init()` at the start of `main`), then:
//!
//! ```text
//! RUSTFLAGS="--cfg tokio_unstable" cargo run --features task-thread/tokio-console
//! tokio-console   # in another terminal (cargo install --locked tokio-console)
//! ```
//!
//! Without `tokio_unstable` the feature changes nothing (tokio's task builder does not
//! exist then).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use task_thread_core::{
    Backend, BlockingWork, RawOutput, RawTask, Runtime, ShutdownSignal, Spawner,
};
use tokio::runtime::Handle;

/// Starts a tokio runtime: [`Tokio::multi_thread`] or [`Tokio::current_thread`].
///
/// When `block_on`'s main future ends the runtime is dropped, which drops every task still
/// running on it.
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::{Backend, Spawner};
/// use task_thread_tokio::Tokio;
///
/// // Every task on the calling thread: no `Sync` needed by what the tasks share.
/// Tokio::current_thread().block_on(|rt| async move {
///     rt.sleep(Duration::from_millis(1)).await;
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tokio {
    multi_thread: bool,
}

impl Tokio {
    /// tokio's work-stealing runtime, one worker per core.
    #[must_use]
    pub fn multi_thread() -> Self {
        Tokio { multi_thread: true }
    }

    /// tokio's single-threaded runtime: every task runs on the thread calling `block_on`.
    #[must_use]
    pub fn current_thread() -> Self {
        Tokio {
            multi_thread: false,
        }
    }
}

impl Backend for Tokio {
    fn name(&self) -> &'static str {
        if self.multi_thread {
            "tokio-multi-thread"
        } else {
            "tokio-current-thread"
        }
    }

    fn block_on<F, Fut>(&self, main: F) -> Fut::Output
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future,
    {
        let mut builder = if self.multi_thread {
            tokio::runtime::Builder::new_multi_thread()
        } else {
            tokio::runtime::Builder::new_current_thread()
        };
        let runtime = builder
            .enable_all()
            .build()
            .expect("the tokio runtime could not be built");
        let spawner = TokioSpawner {
            handle: runtime.handle().clone(),
            name: self.name(),
        };
        runtime.block_on(main(Runtime::new(spawner)))
    }
}

/// A [`Runtime`] on the tokio runtime the caller runs in, for programs that start tokio
/// themselves (`#[tokio::main]`).
///
/// # Panics
/// When called outside a tokio runtime.
///
/// ```
/// use task_thread_core::SpawnerExt;
///
/// // A program that builds tokio itself hands task-thread the runtime it is in.
/// let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let answer = tokio.block_on(async {
///     let rt = task_thread_tokio::current();
///     rt.spawn(async { 42 }).await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
#[must_use]
pub fn current() -> Runtime {
    Runtime::new(TokioSpawner {
        handle: Handle::current(),
        name: "tokio",
    })
}

/// The [`Spawner`] of a tokio runtime.
#[derive(Clone, Debug)]
struct TokioSpawner {
    handle: Handle,
    name: &'static str,
}

impl Spawner for TokioSpawner {
    fn name(&self) -> &'static str {
        self.name
    }

    fn spawn_raw(&self, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        Box::new(TokioTask(self.handle.spawn(future)))
    }

    /// tokio's handle dropped at once (a refused spawn's task is cancelled, its future
    /// dropped, before `spawn` returns), never boxed. Named by the default where names
    /// are kept.
    #[cfg(not(all(tokio_unstable, feature = "tokio-console")))]
    fn spawn_named_detached(
        &self,
        _name: std::fmt::Arguments<'_>,
        future: BoxFuture<'static, RawOutput>,
    ) {
        drop(self.handle.spawn(future));
    }

    /// The task, named through tokio's task builder (see the crate's docs).
    #[cfg(all(tokio_unstable, feature = "tokio-console"))]
    fn spawn_named_raw(
        &self,
        name: std::fmt::Arguments<'_>,
        future: BoxFuture<'static, RawOutput>,
    ) -> Box<dyn RawTask> {
        let name = name.to_string();
        match tokio::task::Builder::new()
            .name(&name)
            .spawn_on(future, &self.handle)
        {
            Ok(task) => Box::new(TokioTask(task)),
            // Refused (the future is dropped already): the handle of an ended task, as the
            // contract asks.
            Err(_) => Box::new(NotStarted),
        }
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        // Entered so that sleeping works from any thread, not only the runtime's.
        let _context = self.handle.enter();
        tokio::time::sleep(duration).boxed()
    }

    /// A self-wake: tokio puts a task woken during its own poll at the back of the run
    /// queue once the poll returns (not in the LIFO slot, which takes tasks woken by
    /// others), on both flavours. tokio's own `yield_now` defers the wake further, past the
    /// I/O driver, at the cost of a system call per yield while the driver is on.
    fn defer_wake(&self, waker: &Waker) {
        waker.wake_by_ref();
    }

    fn shutdown_signal(&self) -> BoxFuture<'static, io::Result<ShutdownSignal>> {
        let _context = self.handle.enter();
        shutdown_signal().boxed()
    }

    /// A thread of its own, as the default, with the runtime entered in it: the blocking
    /// code can use tokio (`Handle::current().block_on(..)`, tokio's timers). Not tokio's
    /// `spawn_blocking`: dropping the runtime waits for its pool's work, and a call that
    /// never returns would hang `block_on`.
    fn spawn_blocking(&self, name: &str, work: BlockingWork) -> io::Result<()> {
        let handle = self.handle.clone();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let _context = handle.enter();
                work();
            })
            .map(drop)
    }
}

#[cfg(unix)]
fn shutdown_signal() -> impl Future<Output = io::Result<ShutdownSignal>> + Send {
    use tokio::signal::unix::{signal, SignalKind};
    // Registered now, not at the first poll, so a signal sent right after this call is seen.
    let listeners =
        signal(SignalKind::interrupt()).and_then(|int| Ok((int, signal(SignalKind::terminate())?)));
    async move {
        let (mut interrupt, mut terminate) = listeners?;
        let interrupted = Box::pin(interrupt.recv());
        let terminated = Box::pin(terminate.recv());
        let received = match futures::future::select(interrupted, terminated).await {
            futures::future::Either::Left(_) => ShutdownSignal::Interrupt,
            futures::future::Either::Right(_) => ShutdownSignal::Terminate,
        };
        Ok(received)
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl Future<Output = io::Result<ShutdownSignal>> + Send {
    async {
        tokio::signal::ctrl_c()
            .await
            .map(|()| ShutdownSignal::Interrupt)
    }
}

/// tokio's `JoinHandle` as a [`RawTask`]: dropping it detaches, `abort` cancels.
struct TokioTask(tokio::task::JoinHandle<RawOutput>);

/// A task tokio's task builder refused: it has ended, without an output.
#[cfg(all(tokio_unstable, feature = "tokio-console"))]
struct NotStarted;

#[cfg(all(tokio_unstable, feature = "tokio-console"))]
impl RawTask for NotStarted {
    fn cancel(&mut self) {}

    fn poll_end(&mut self, _: &mut Context<'_>) -> Poll<Option<RawOutput>> {
        Poll::Ready(None)
    }
}

impl RawTask for TokioTask {
    fn cancel(&mut self) {
        self.0.abort();
    }

    fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<Option<RawOutput>> {
        Pin::new(&mut self.0).poll(cx).map(|end| match end {
            Ok(output) => Some(output),
            Err(error) if error.is_cancelled() => None,
            // Core catches panics inside the task; a panic can only come from a destructor.
            Err(error) => Some(Err(error.to_string())),
        })
    }
}

/// A whole program on tokio's multi-thread runtime: runs `root` until SIGINT or SIGTERM or its own end, and
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
///     task_thread_tokio::run(Master)
/// }
/// ```
pub fn run<T: task_thread_core::TaskThread>(root: T) -> std::process::ExitCode {
    Tokio::multi_thread().run(root)
}

#[cfg(test)]
mod tests {
    use super::Tokio;
    use task_thread_core::{Backend, Spawner};

    /// Blocking work runs on its own thread with the runtime entered: tokio's APIs work there.
    #[test]
    fn blocking_work_runs_with_the_runtime_entered() {
        for backend in [Tokio::current_thread(), Tokio::multi_thread()] {
            let entered = backend.block_on(|rt| async move {
                let (seen, entered) = futures::channel::oneshot::channel();
                let probe = move || {
                    let on_a_worker = std::thread::current().name() != Some("probe");
                    let _ =
                        seen.send(!on_a_worker && tokio::runtime::Handle::try_current().is_ok());
                };
                rt.spawn_blocking("probe", Box::new(probe)).unwrap();
                entered.await.unwrap()
            });
            assert!(entered, "on {}", backend.name());
        }
    }
}
