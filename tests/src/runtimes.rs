//! Runtimes that behave in one way on purpose, each over a real one: one that reports its
//! release, one that refuses spawns, one that runs a task on the spot, one that starts a
//! task and drops it, one that drops its tasks on command. Each decides how a spawn goes; [`Wrapped`] hands everything else to
//! the runtime underneath.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::future::{AbortHandle, BoxFuture, FutureExt};
use task_thread::{RawOutput, RawTask, Runtime, ShutdownSignal, Spawner};

/// How a fixture runtime spawns a future; `inner` is the runtime underneath.
pub trait Spawning: Send + Sync + 'static {
    fn spawn(&self, inner: &Runtime, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask>;

    /// The runtime's `defer_wake`: the one underneath's, unless the fixture's queue differs.
    fn defer_wake(&self, inner: &Runtime, waker: &Waker) {
        inner.defer_wake(waker);
    }
}

/// A runtime over `inner` whose spawns go through `spawning`.
pub struct Wrapped<S> {
    inner: Runtime,
    spawning: S,
}

impl<S: Spawning> Wrapped<S> {
    /// A runtime over `inner` whose spawns go through `spawning`.
    pub fn runtime(inner: &Runtime, spawning: S) -> Runtime {
        Runtime::new(Wrapped {
            inner: inner.clone(),
            spawning,
        })
    }
}

impl<S: Spawning> Spawner for Wrapped<S> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn spawn_raw(&self, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        self.spawning.spawn(&self.inner, future)
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.inner.sleep(duration)
    }
    fn defer_wake(&self, waker: &Waker) {
        self.spawning.defer_wake(&self.inner, waker);
    }
    fn shutdown_signal(&self) -> BoxFuture<'static, std::io::Result<ShutdownSignal>> {
        self.inner.shutdown_signal()
    }
}

/// A runtime handle that reports when its last clone is dropped: whatever still holds one
/// (a task, a thread, a reference cycle) keeps it from being released.
pub struct Tracked(Arc<(AtomicBool, event_listener::Event)>);

impl Tracked {
    /// A tracked runtime over `inner`, and the signal of its release.
    pub fn wrap(inner: &Runtime) -> (Runtime, Released) {
        let released = Arc::new((AtomicBool::new(false), event_listener::Event::new()));
        let runtime = Wrapped::runtime(inner, Tracked(released.clone()));
        (runtime, Released(released))
    }
}

impl Spawning for Tracked {
    fn spawn(&self, inner: &Runtime, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        inner.spawn_raw(future)
    }
}

/// Dropped with the tracked runtime's last clone.
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0 .0.store(true, Ordering::SeqCst);
        self.0 .1.notify(usize::MAX);
    }
}

/// Completes once the tracked runtime's last clone has been dropped.
pub struct Released(Arc<(AtomicBool, event_listener::Event)>);

impl Released {
    /// Waits for the release.
    pub async fn wait(&self) {
        loop {
            let listener = self.0 .1.listen();
            if self.0 .0.load(Ordering::SeqCst) {
                return;
            }
            listener.await;
        }
    }
}

/// A runtime that refuses spawns (while its switch is on), as one that is shutting down
/// does: the future is dropped before `spawn_raw` returns, and the handle is that of a
/// task that has already ended, cancelled (see `on_another_thread`).
pub struct Refusing(Arc<AtomicBool>);

impl Refusing {
    /// A refusing runtime over `inner`.
    pub fn wrap(inner: &Runtime) -> Runtime {
        Self::switchable(inner, true).0
    }

    /// A runtime over `inner` that refuses spawns while the switch is on.
    pub fn switchable(inner: &Runtime, refusing: bool) -> (Runtime, Arc<AtomicBool>) {
        let switch = Arc::new(AtomicBool::new(refusing));
        (Wrapped::runtime(inner, Refusing(switch.clone())), switch)
    }
}

impl Spawning for Refusing {
    fn spawn(&self, inner: &Runtime, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        if !self.0.load(Ordering::SeqCst) {
            return inner.spawn_raw(future);
        }
        on_another_thread("dropping the refused task", move || drop(future));
        Box::new(Ended(None))
    }
}

/// A runtime that runs every spawned future to its end before `spawn_raw` returns (for
/// futures that never wait; see `on_another_thread`).
pub struct OnTheSpot;

impl OnTheSpot {
    /// An on-the-spot runtime over `inner`.
    pub fn wrap(inner: &Runtime) -> Runtime {
        Wrapped::runtime(inner, OnTheSpot)
    }
}

impl Spawning for OnTheSpot {
    fn spawn(&self, _inner: &Runtime, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        let output = on_another_thread("running the task", move || {
            futures::executor::block_on(future)
        });
        Box::new(Ended(Some(output)))
    }
}

/// A runtime that starts every spawned future and then drops it, before `spawn_raw`
/// returns: it polls it once and drops it (as a runtime that shuts down right after
/// starting a task does; see `on_another_thread`).
pub struct StartsThenDrops;

impl StartsThenDrops {
    /// Such a runtime over `inner`.
    pub fn wrap(inner: &Runtime) -> Runtime {
        Wrapped::runtime(inner, StartsThenDrops)
    }
}

impl Spawning for StartsThenDrops {
    fn spawn(&self, _inner: &Runtime, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        on_another_thread("starting and dropping the task", move || {
            let mut future = future;
            let mut cx = Context::from_waker(futures::task::noop_waker_ref());
            let _ = future.poll_unpin(&mut cx);
        });
        Box::new(Ended(None))
    }
}

/// Does `work` on another OS thread and waits for it at most 10 s, so that work that
/// cannot finish while the spawner waits (a lock the spawner holds) fails the case
/// instead of hanging it.
pub(crate) fn on_another_thread<R: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(work());
    });
    match result.recv_timeout(Duration::from_secs(10)) {
        Ok(value) => value,
        Err(_) => panic!("{what} did not finish: it waits for its spawner"),
    }
}

/// The handle of a task that had ended when it was handed out: with this output, or
/// cancelled (`None`).
struct Ended(Option<RawOutput>);

impl RawTask for Ended {
    fn cancel(&mut self) {}
    fn poll_end(&mut self, _cx: &mut Context<'_>) -> Poll<Option<RawOutput>> {
        Poll::Ready(self.0.take())
    }
}

/// A runtime over `inner` that drops every task spawned through it when told, without
/// their ending, as a runtime shutting down does (each is aborted, and `inner` drops it).
pub struct Dropping(Arc<Mutex<Vec<AbortHandle>>>);

/// Drops the tasks of a [`Dropping`] runtime.
pub struct TaskDropper(Arc<Mutex<Vec<AbortHandle>>>);

impl Dropping {
    /// A dropping runtime over `inner`, and its trigger.
    pub fn wrap(inner: &Runtime) -> (Runtime, TaskDropper) {
        let spawned = Arc::new(Mutex::new(Vec::new()));
        let runtime = Wrapped::runtime(inner, Dropping(spawned.clone()));
        (runtime, TaskDropper(spawned))
    }
}

impl Spawning for Dropping {
    fn spawn(&self, inner: &Runtime, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        let (future, task) = futures::future::abortable(future);
        self.0.lock().unwrap().push(task);
        let ended = future.map(|ended| ended.unwrap_or_else(|_dropped| Ok(Box::new(()))));
        inner.spawn_raw(ended.boxed())
    }
}

impl TaskDropper {
    /// Drops every task spawned so far, at its next poll.
    pub fn drop_all(&self) {
        for task in self.0.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}
