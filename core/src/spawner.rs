//! What task-thread needs from an async runtime, and the handle users hold to one.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use crate::join::{panic_message, panic_of, JoinHandle};

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

/// Typed helpers over any [`Spawner`], including `dyn Spawner` and [`Runtime`].
///
/// ```
/// use task_thread_core::{JoinError, Runtime, SpawnerExt};
///
/// async fn sum_elsewhere(rt: &Runtime) -> Result<u64, JoinError> {
///     let task = rt.spawn(async { (1..=10).sum::<u64>() });
///     task.await
/// }
/// ```
pub trait SpawnerExt: Spawner {
    /// Spawns `future` and returns a handle to await its value or cancel it.
    ///
    /// A panic in `future` is caught: awaiting the handle gives
    /// [`JoinError::Panicked`](crate::JoinError::Panicked) with the panic message.
    fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        JoinHandle::new(self.spawn_raw(catch_panic(future)))
    }

    /// Yields to the scheduler once: the other tasks ready on this worker run before the
    /// caller goes on. Does not allocate (it is [`Spawner::defer_wake`] once).
    ///
    /// ```
    /// use task_thread_core::{Runtime, SpawnerExt};
    ///
    /// async fn count_politely(rt: &Runtime) -> u64 {
    ///     let mut total = 0;
    ///     for n in 0..1_000 {
    ///         total += n;
    ///         if n % 100 == 0 {
    ///             rt.yield_now().await;
    ///         }
    ///     }
    ///     total
    /// }
    /// ```
    fn yield_now(&self) -> YieldNow<'_, Self> {
        YieldNow {
            spawner: self,
            yielded: false,
        }
    }

    /// Runs `work` for at most `duration`: its output, or [`Elapsed`] (and `work` dropped)
    /// if the time ran out first. The portable form of `tokio::time::timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use task_thread_core::{Runtime, Spawner, SpawnerExt};
    ///
    /// async fn answer_or_give_up(rt: &Runtime) -> Option<u32> {
    ///     let slow = rt.sleep(Duration::from_secs(60));
    ///     let answer = async { slow.await; 42 };
    ///     rt.timeout(Duration::from_millis(10), answer).await.ok()
    /// }
    /// ```
    fn timeout<F: Future + Send>(
        &self,
        duration: Duration,
        work: F,
    ) -> impl Future<Output = Result<F::Output, Elapsed>> + Send {
        let timer = self.sleep(duration);
        async move {
            let work = std::pin::pin!(work);
            match futures::future::select(work, timer).await {
                futures::future::Either::Left((output, _)) => Ok(output),
                futures::future::Either::Right(((), _)) => Err(Elapsed(duration)),
            }
        }
    }
}

/// The future of [`SpawnerExt::yield_now`].
#[must_use = "a yield does nothing unless awaited"]
#[derive(Debug)]
pub struct YieldNow<'a, S: ?Sized> {
    spawner: &'a S,
    yielded: bool,
}

impl<S: Spawner + ?Sized> Future for YieldNow<'_, S> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        self.spawner.defer_wake(cx.waker());
        Poll::Pending
    }
}

/// The error of [`SpawnerExt::timeout`]: the time given ran out before the work ended.
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::Elapsed;
///
/// let error = Elapsed(Duration::from_secs(2));
/// assert_eq!(error.to_string(), "timed out after 2s");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(pub Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timed out after {:?}", self.0)
    }
}

impl std::error::Error for Elapsed {}

impl<S: Spawner + ?Sized> SpawnerExt for S {}

/// Wraps a future so that its value is boxed and its panic becomes an error message.
pub(crate) fn catch_panic<F>(future: F) -> BoxFuture<'static, RawOutput>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Box::pin(Contained {
        future: Some(future),
    })
}

pin_project_lite::pin_project! {
    /// A future spawned through [`SpawnerExt::spawn`]. No panic of it reaches the runtime:
    /// one in a poll becomes its output, one in its destructor (run by a cancel) is
    /// logged. It is dropped before its output is handed over, so whoever sees the end
    /// sees it after every destructor of the future ran.
    struct Contained<F> {
        #[pin]
        future: Option<F>,
    }

    impl<F> PinnedDrop for Contained<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut future = this.project().future;
            if let Some(panic) = panic_of(|| future.set(None)) {
                tracing::error!(
                    "a spawned task panicked while it was dropped: {}",
                    panic_message(panic.as_ref())
                );
            }
        }
    }
}

impl<F> Future for Contained<F>
where
    F: Future,
    F::Output: Send + 'static,
{
    type Output = RawOutput;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RawOutput> {
        let mut this = self.project();
        let future = this.future.as_mut().as_pin_mut().expect(
            "a spawned future was polled after its end: its runtime broke the Future contract",
        );
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.poll(cx)));
        let output = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(value)) => Ok(Box::new(value) as Box<dyn Any + Send>),
            Err(payload) => Err(panic_message(payload.as_ref())),
        };
        // A destructor that panics makes the end a panic, as one in a poll does (the
        // first panic is the one told).
        let dropped = panic_of(|| this.future.set(None));
        Poll::Ready(match (output, dropped) {
            (Ok(_), Some(panic)) => Err(panic_message(panic.as_ref())),
            (output, _) => output,
        })
    }
}

/// A cheap, cloneable handle to a running runtime: an `Arc<dyn Spawner>`.
///
/// Everything in task-thread takes a `Runtime`, so user code never names a runtime; a
/// backend's [`Backend::block_on`] hands one to the program's main future.
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::{Runtime, Spawner, SpawnerExt};
///
/// // A clone goes into the task: each clone is the same runtime.
/// async fn tick_later(rt: &Runtime) {
///     let timer = rt.clone();
///     let ticking = rt.spawn(async move {
///         timer.sleep(Duration::from_millis(10)).await;
///         "tick"
///     });
///     assert_eq!(ticking.await.unwrap(), "tick");
/// }
/// ```
#[derive(Clone)]
pub struct Runtime(Arc<dyn Spawner>);

impl Runtime {
    /// Wraps a backend's spawner.
    pub fn new(spawner: impl Spawner) -> Self {
        Runtime(Arc::new(spawner))
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Runtime").field(&self.0.name()).finish()
    }
}

impl Spawner for Runtime {
    #[inline]
    fn name(&self) -> &'static str {
        self.0.name()
    }
    #[inline]
    fn spawn_raw(&self, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        self.0.spawn_raw(future)
    }
    #[inline]
    fn spawn_named_raw(
        &self,
        name: fmt::Arguments<'_>,
        future: BoxFuture<'static, RawOutput>,
    ) -> Box<dyn RawTask> {
        self.0.spawn_named_raw(name, future)
    }
    #[inline]
    fn spawn_named_detached(
        &self,
        name: fmt::Arguments<'_>,
        future: BoxFuture<'static, RawOutput>,
    ) {
        self.0.spawn_named_detached(name, future);
    }
    #[inline]
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.0.sleep(duration)
    }
    #[inline]
    fn defer_wake(&self, waker: &Waker) {
        self.0.defer_wake(waker);
    }
    #[inline]
    fn shutdown_signal(&self) -> BoxFuture<'static, io::Result<ShutdownSignal>> {
        self.0.shutdown_signal()
    }
    #[inline]
    fn spawn_blocking(&self, name: &str, work: BlockingWork) -> io::Result<()> {
        self.0.spawn_blocking(name, work)
    }
}

/// A runtime that synchronous code (a `main`, a test) can start: one per backend flavour.
///
/// `block_on` starts the runtime, runs `main` with a [`Runtime`] handle to it, and returns
/// `main`'s output. Tasks still running when `main` ends are dropped (their destructors
/// run) before `block_on` returns, and the handle refuses spawns from then on (see
/// [the contract](crate::contract)); a program that wants its tasks to finish ends them
/// first (a root TaskThread's `run` does).
///
/// ```
/// use task_thread_core::{Backend, SpawnerExt};
///
/// // Synchronous code picks the backend; everything inside only sees a `Runtime`.
/// fn answer_on(backend: impl Backend) -> u32 {
///     backend.block_on(|rt| async move { rt.spawn(async { 6 * 7 }).await.unwrap() })
/// }
/// ```
pub trait Backend {
    /// A short name for logs and test names.
    fn name(&self) -> &'static str;
    /// Starts the runtime and drives `main` to completion on the calling thread; then drops
    /// every task still alive, and refuses spawns, before returning.
    fn block_on<F, Fut>(&self, main: F) -> Fut::Output
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future;

    /// A whole program: starts the runtime, runs `root` as the tree's root until SIGINT or
    /// SIGTERM or its own end (see [`run`](crate::run), which logs the tree's
    /// [report](crate::ThreadReport)), and returns the status to exit with ([`ThreadEnd::exit_code`](crate::ThreadEnd::exit_code)).
    ///
    /// ```
    /// use std::process::ExitCode;
    /// use task_thread_core::{Backend, LeafThread};
    ///
    /// struct Main;
    ///
    /// impl LeafThread for Main {
    ///     type Signal = ();
    ///     type Output = ();
    ///     fn id(&self) -> String { "main".into() }
    /// }
    ///
    /// fn main_of_a_program(backend: impl Backend) -> ExitCode {
    ///     backend.run(Main)
    /// }
    /// ```
    fn run<T: crate::TaskThread>(&self, root: T) -> std::process::ExitCode {
        let report = self.block_on(|rt| async move { crate::run(&rt, root).await });
        report.end().exit_code()
    }
}

/// Completes after the first of two futures; the other is dropped.
pub(crate) async fn first<A, B, T>(a: A, b: B) -> T
where
    A: Future<Output = T>,
    B: Future<Output = T>,
{
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    futures::future::poll_fn(|cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(v);
        }
        b.as_mut().poll(cx)
    })
    .await
}

/// Runs `work` until `deadline`; `None` if the deadline came first. The timer is made only
/// if the work is still pending after one turn of the scheduler: most waits under a
/// deadline end at once (an `exit`, a join at shutdown) or once the runtime has run the
/// tasks just cancelled (a delete), and then arm no timer at all.
pub(crate) fn before<W: Future>(runtime: &Runtime, deadline: Instant, work: W) -> Before<'_, W> {
    Before {
        runtime,
        deadline,
        work,
        timer: None,
        yielded: false,
    }
}

pin_project_lite::pin_project! {
    /// The future of [`before`]: a struct, not an `async fn`, so that it holds one copy of
    /// the work (an `async fn` keeps its argument and its pinned local apart, and a
    /// thread's shutdown nests several of these).
    pub(crate) struct Before<'a, W> {
        runtime: &'a Runtime,
        deadline: Instant,
        #[pin]
        work: W,
        timer: Option<BoxFuture<'static, ()>>,
        yielded: bool,
    }
}

impl<W: Future> Future for Before<'_, W> {
    type Output = Option<W::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(value) = this.work.poll(cx) {
            return Poll::Ready(Some(value));
        }
        if !*this.yielded {
            // After the other ready tasks: what the work waits for may be ready then.
            *this.yielded = true;
            this.runtime.defer_wake(cx.waker());
            return Poll::Pending;
        }
        let (runtime, deadline) = (*this.runtime, *this.deadline);
        let timer = this.timer.get_or_insert_with(|| {
            runtime.sleep(deadline.saturating_duration_since(Instant::now()))
        });
        timer.as_mut().poll(cx).map(|()| None)
    }
}
