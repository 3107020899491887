//! Small helpers the cases share: observable drops and run counters.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Sets a flag when dropped: proves a task's destructors ran.
pub struct SetOnDrop(pub Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A new flag and the guard that sets it.
pub fn drop_flag() -> (Arc<AtomicBool>, SetOnDrop) {
    let flag = Arc::new(AtomicBool::new(false));
    (flag.clone(), SetOnDrop(flag))
}

/// Blocks the OS thread while dropped, without awaiting: a task that refuses to end quickly.
pub struct BlockOnDrop(pub Duration);

impl Drop for BlockOnDrop {
    fn drop(&mut self) {
        std::thread::sleep(self.0);
    }
}

/// An ordered record of events from several tasks, which can be awaited.
#[derive(Clone, Default)]
pub struct EventLog(Arc<(Mutex<Vec<String>>, event_listener::Event)>);

impl EventLog {
    /// Appends an event.
    pub fn push(&self, event: &str) {
        self.0 .0.lock().unwrap().push(event.to_owned());
        self.0 .1.notify(usize::MAX);
    }
    /// The events so far, in order.
    pub fn events(&self) -> Vec<String> {
        self.0 .0.lock().unwrap().clone()
    }
    /// Waits until `event` has been logged.
    pub async fn wait_for(&self, event: &str) {
        self.wait_until(|e| e == event).await
    }
    /// Waits until an event starting with `prefix` has been logged.
    pub async fn wait_for_prefix(&self, prefix: &str) {
        self.wait_until(|e| e.starts_with(prefix)).await
    }
    /// Waits until `event` has been logged `times` times.
    pub async fn wait_for_times(&self, event: &str, times: usize) {
        self.wait_until_count(|e| e == event, times).await
    }
    async fn wait_until(&self, matches: impl Fn(&str) -> bool) {
        self.wait_until_count(matches, 1).await
    }
    async fn wait_until_count(&self, matches: impl Fn(&str) -> bool, times: usize) {
        loop {
            let listener = self.0 .1.listen();
            if self.events().iter().filter(|e| matches(e)).count() >= times {
                return;
            }
            listener.await;
        }
    }
    /// Where `event` stands in the log.
    pub fn position(&self, event: &str) -> usize {
        self.events()
            .iter()
            .position(|e| e == event)
            .unwrap_or_else(|| panic!("{event:?} was not logged: {:?}", self.events()))
    }
}

/// Pushes an event when dropped.
pub struct LogOnDrop<S: AsRef<str> = &'static str>(pub EventLog, pub S);

impl<S: AsRef<str>> Drop for LogOnDrop<S> {
    fn drop(&mut self) {
        self.0.push(self.1.as_ref());
    }
}

/// A shared counter of runs.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicUsize>);

impl Counter {
    /// Adds one and returns the new count.
    pub fn bump(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
    /// The count.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Serialises the cases that send SIGINT / SIGTERM to this process, so that one case's
/// signal never reaches another's listeners. Each case runs on its own runtime, so the lock
/// is async: a case waiting for it does not block another's thread.
pub async fn signal_lock() -> futures::lock::MutexGuard<'static, ()> {
    static LOCK: std::sync::OnceLock<futures::lock::Mutex<()>> = std::sync::OnceLock::new();
    LOCK.get_or_init(|| futures::lock::Mutex::new(()))
        .lock()
        .await
}

/// A runtime handle that reports when its last clone is dropped: whatever still holds one
/// (a task, a thread, a reference cycle) keeps it from being released.
pub struct Tracked {
    inner: task_thread::Runtime,
    released: Arc<(AtomicBool, event_listener::Event)>,
}

impl Tracked {
    /// A tracked runtime over `inner`, and the signal of its release.
    pub fn wrap(inner: &task_thread::Runtime) -> (task_thread::Runtime, Released) {
        let released = Arc::new((AtomicBool::new(false), event_listener::Event::new()));
        let tracked = Tracked {
            inner: inner.clone(),
            released: released.clone(),
        };
        (task_thread::Runtime::new(tracked), Released(released))
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

impl Drop for Tracked {
    fn drop(&mut self) {
        self.released.0.store(true, Ordering::SeqCst);
        self.released.1.notify(usize::MAX);
    }
}

impl task_thread::Spawner for Tracked {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn spawn_raw(
        &self,
        future: futures::future::BoxFuture<'static, task_thread::RawOutput>,
    ) -> Box<dyn task_thread::RawTask> {
        self.inner.spawn_raw(future)
    }
    fn sleep(&self, duration: Duration) -> futures::future::BoxFuture<'static, ()> {
        self.inner.sleep(duration)
    }
    fn yield_now(&self) -> futures::future::BoxFuture<'static, ()> {
        self.inner.yield_now()
    }
    fn shutdown_signal(
        &self,
    ) -> futures::future::BoxFuture<'static, std::io::Result<task_thread::ShutdownSignal>> {
        self.inner.shutdown_signal()
    }
}

/// A runtime that refuses every spawn, as one that is shutting down does: the future is
/// dropped before `spawn_raw` returns, and the handle is that of a task that has already
/// ended, cancelled. It drops it on another OS thread and waits at most 10 s, so that a
/// drop that cannot finish while the spawner waits (a lock the spawner holds) fails the
/// case instead of hanging it. Everything else goes to `inner`.
pub struct Refusing {
    inner: task_thread::Runtime,
    refusing: Arc<AtomicBool>,
}

impl Refusing {
    /// A refusing runtime over `inner`.
    pub fn wrap(inner: &task_thread::Runtime) -> task_thread::Runtime {
        Self::switchable(inner, true).0
    }

    /// A runtime over `inner` that refuses spawns while the switch is on.
    pub fn switchable(
        inner: &task_thread::Runtime,
        refusing: bool,
    ) -> (task_thread::Runtime, Arc<AtomicBool>) {
        let switch = Arc::new(AtomicBool::new(refusing));
        let runtime = task_thread::Runtime::new(Refusing {
            inner: inner.clone(),
            refusing: switch.clone(),
        });
        (runtime, switch)
    }
}

/// A runtime that runs every spawned future to its end on the spot, before `spawn_raw`
/// returns (for futures that never wait). It runs it on another OS thread and waits at
/// most 10 s, so that a future that cannot end while the spawner waits (a lock the
/// spawner holds) fails the case instead of hanging it. Everything else goes to `inner`.
pub struct OnTheSpot {
    inner: task_thread::Runtime,
}

impl OnTheSpot {
    /// An on-the-spot runtime over `inner`.
    pub fn wrap(inner: &task_thread::Runtime) -> task_thread::Runtime {
        task_thread::Runtime::new(OnTheSpot {
            inner: inner.clone(),
        })
    }
}

/// The handle of a task that had ended, with this output, when it was handed out.
struct Finished(Option<task_thread::RawOutput>);

impl task_thread::RawTask for Finished {
    fn cancel(&mut self) {}
    fn poll_end(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<task_thread::RawOutput>> {
        std::task::Poll::Ready(self.0.take())
    }
}

impl task_thread::Spawner for OnTheSpot {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn spawn_raw(
        &self,
        future: futures::future::BoxFuture<'static, task_thread::RawOutput>,
    ) -> Box<dyn task_thread::RawTask> {
        let (ended, end) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = ended.send(futures::executor::block_on(future));
        });
        let output = end
            .recv_timeout(Duration::from_secs(10))
            .expect("the task did not end on the spot: it waits for its spawner");
        Box::new(Finished(Some(output)))
    }
    fn sleep(&self, duration: Duration) -> futures::future::BoxFuture<'static, ()> {
        self.inner.sleep(duration)
    }
    fn yield_now(&self) -> futures::future::BoxFuture<'static, ()> {
        self.inner.yield_now()
    }
    fn shutdown_signal(
        &self,
    ) -> futures::future::BoxFuture<'static, std::io::Result<task_thread::ShutdownSignal>> {
        self.inner.shutdown_signal()
    }
}

/// The handle of a task that ended cancelled before it ran.
struct NeverRan;

impl task_thread::RawTask for NeverRan {
    fn cancel(&mut self) {}
    fn poll_end(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<task_thread::RawOutput>> {
        std::task::Poll::Ready(None)
    }
}

impl task_thread::Spawner for Refusing {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn spawn_raw(
        &self,
        future: futures::future::BoxFuture<'static, task_thread::RawOutput>,
    ) -> Box<dyn task_thread::RawTask> {
        if !self.refusing.load(Ordering::SeqCst) {
            return self.inner.spawn_raw(future);
        }
        let (dropped, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(future);
            let _ = dropped.send(());
        });
        done.recv_timeout(Duration::from_secs(10))
            .expect("the refused task could not be dropped: it waits for its spawner");
        Box::new(NeverRan)
    }
    fn sleep(&self, duration: Duration) -> futures::future::BoxFuture<'static, ()> {
        self.inner.sleep(duration)
    }
    fn yield_now(&self) -> futures::future::BoxFuture<'static, ()> {
        self.inner.yield_now()
    }
    fn shutdown_signal(
        &self,
    ) -> futures::future::BoxFuture<'static, std::io::Result<task_thread::ShutdownSignal>> {
        self.inner.shutdown_signal()
    }
}

/// A runtime over `inner` that drops every task spawned through it when told, without
/// their ending, as a runtime shutting down does (each is aborted, and `inner` drops it).
pub struct Dropping {
    inner: task_thread::Runtime,
    spawned: Arc<std::sync::Mutex<Vec<futures::future::AbortHandle>>>,
}

/// Drops the tasks of a [`Dropping`] runtime.
pub struct TaskDropper(Arc<std::sync::Mutex<Vec<futures::future::AbortHandle>>>);

impl Dropping {
    /// A dropping runtime over `inner`, and its trigger.
    pub fn wrap(inner: &task_thread::Runtime) -> (task_thread::Runtime, TaskDropper) {
        let spawned = Arc::new(std::sync::Mutex::new(Vec::new()));
        let runtime = task_thread::Runtime::new(Dropping {
            inner: inner.clone(),
            spawned: spawned.clone(),
        });
        (runtime, TaskDropper(spawned))
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

impl task_thread::Spawner for Dropping {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn spawn_raw(
        &self,
        future: futures::future::BoxFuture<'static, task_thread::RawOutput>,
    ) -> Box<dyn task_thread::RawTask> {
        use futures::FutureExt;
        let (future, task) = futures::future::abortable(future);
        self.spawned.lock().unwrap().push(task);
        let ended = future.map(|ended| ended.unwrap_or_else(|_dropped| Ok(Box::new(()))));
        self.inner.spawn_raw(ended.boxed())
    }
    fn sleep(&self, duration: Duration) -> futures::future::BoxFuture<'static, ()> {
        self.inner.sleep(duration)
    }
    fn yield_now(&self) -> futures::future::BoxFuture<'static, ()> {
        self.inner.yield_now()
    }
    fn shutdown_signal(
        &self,
    ) -> futures::future::BoxFuture<'static, std::io::Result<task_thread::ShutdownSignal>> {
        self.inner.shutdown_signal()
    }
}
