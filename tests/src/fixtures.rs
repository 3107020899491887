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
    /// The events so far that start with `prefix`, in order.
    pub fn starting_with(&self, prefix: &str) -> Vec<String> {
        let events = self.0 .0.lock().unwrap();
        events
            .iter()
            .filter(|e| e.starts_with(prefix))
            .cloned()
            .collect()
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

/// Panics when dropped: a destructor that panics, on purpose.
pub struct PanicsWhenDropped;

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("a destructor panics as it is dropped (on purpose)");
    }
}
