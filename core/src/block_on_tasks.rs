//! For backend authors: [`BlockOnTasks`], the tasks of one `block_on` on an executor that
//! outlives it, so that its end can drop them as [the contract](crate::contract) asks.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::future::{AbortHandle, Abortable, BoxFuture};
use futures::FutureExt;
use slab::Slab;

use crate::sync::Event;

use crate::spawner::RawOutput;

/// The tasks one `block_on` spawned and that have not been dropped yet.
///
/// For an executor whose life is not one `block_on`'s (async-std's global executor, futures'
/// `ThreadPool`): the backend passes every future through [`track`](BlockOnTasks::track)
/// before spawning it, and awaits [`close`](BlockOnTasks::close) once `main` has ended.
/// tokio's and smol's runtimes need none of it: dropping them drops their tasks.
///
/// ```
/// use futures::future::FutureExt;
/// use task_thread_core::block_on_tasks::BlockOnTasks;
/// use task_thread_core::RawOutput;
///
/// let tasks = BlockOnTasks::new();
/// let forever = futures::future::pending::<RawOutput>().boxed();
/// let tracked = tasks.track(forever).expect("the list is open");
/// // A backend spawns `tracked.future`; here the test runs it by hand.
/// let running = std::thread::spawn(move || futures::executor::block_on(tracked.future));
/// futures::executor::block_on(tasks.close());
/// // Cancelled by the close, and dropped: its end reads `None`.
/// assert!(running.join().unwrap().is_none());
/// // Refused from now on, the future dropped at once.
/// assert!(tasks.track(futures::future::pending().boxed()).is_none());
/// ```
#[derive(Default)]
pub struct BlockOnTasks {
    spawned: Mutex<Spawned>,
    /// Notified when the last task is dropped after the close.
    all_dropped: Event,
}

#[derive(Default)]
struct Spawned {
    closed: bool,
    /// A slab: a task's key is its place, reused once it has left. A hash map keyed by a
    /// count hashed every key and grew by rehashing: about 1,500 instructions a task, where
    /// the raw spawn costs less (callgrind, case 5 on async-std).
    running: Slab<AbortHandle>,
}

/// A future made ready for the list, by [`BlockOnTasks::track`].
pub struct Tracked {
    /// What to spawn: the task's future, which ends `None` if it was cancelled (through
    /// [`cancel`](Tracked::cancel) or by the close) and is dropped before it ends.
    pub future: BoxFuture<'static, Option<RawOutput>>,
    /// Cancels the task: its future is dropped at its next poll.
    pub cancel: AbortHandle,
}

impl BlockOnTasks {
    /// An empty list, open.
    #[must_use]
    pub fn new() -> Arc<Self> {
        Arc::new(BlockOnTasks::default())
    }

    /// Puts `future` on the list, or drops it and returns `None` once the list is closed
    /// (the backend then refuses the spawn).
    #[must_use = "a tracked future does nothing unless spawned"]
    pub fn track(self: &Arc<Self>, future: BoxFuture<'static, RawOutput>) -> Option<Tracked> {
        let (cancel, registration) = AbortHandle::new_pair();
        let entry = {
            let mut spawned = lock(&self.spawned);
            if spawned.closed {
                return None;
            }
            let key = spawned.running.insert(cancel.clone());
            Entry {
                tasks: self.clone(),
                key,
            }
        };
        let future = async move {
            let end = Abortable::new(future, registration).await.ok();
            // The future is dropped by now: the task leaves the list after it.
            drop(entry);
            end
        }
        .boxed();
        Some(Tracked { future, cancel })
    }

    /// Refuses new tasks, cancels the running ones, and completes once each is dropped.
    pub async fn close(&self) {
        let running: Vec<AbortHandle> = {
            let mut spawned = lock(&self.spawned);
            spawned.closed = true;
            spawned
                .running
                .iter()
                .map(|(_, task)| task.clone())
                .collect()
        };
        for task in running {
            task.abort();
        }
        loop {
            let dropped = crate::notify::listen(&self.all_dropped);
            if lock(&self.spawned).running.is_empty() {
                return;
            }
            dropped.await;
        }
    }
}

/// A task's place in its [`BlockOnTasks`]: dropped after the task's future.
struct Entry {
    tasks: Arc<BlockOnTasks>,
    key: usize,
}

impl Drop for Entry {
    fn drop(&mut self) {
        let mut spawned = lock(&self.tasks.spawned);
        spawned.running.remove(self.key);
        if spawned.closed && spawned.running.is_empty() {
            self.tasks.all_dropped.notify(usize::MAX);
        }
    }
}

/// The list stays usable after a panic elsewhere: its updates cannot be left half done.
fn lock(spawned: &Mutex<Spawned>) -> MutexGuard<'_, Spawned> {
    spawned.lock().unwrap_or_else(PoisonError::into_inner)
}
