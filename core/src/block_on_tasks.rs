//! For backend authors: [`BlockOnTasks`], the tasks of one `block_on` on an executor that
//! outlives it, so that its end can drop them as [the contract](crate::contract) asks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::{AbortHandle, Abortable, BoxFuture};
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
    /// The list in shards, each under a lock of its own, a task put in the next one round
    /// the ring: tasks end on every worker of the executor, each taking its shard's lock to
    /// leave, and one lock for all of them was contended enough to put the workers to sleep
    /// on it (case 5 on async-std: deleting 100,000 sleeping tasks took 1.4-2x as long).
    shards: [Mutex<Spawned>; SHARDS],
    /// Where the next task goes.
    next: AtomicUsize,
    /// Notified when a shard's last task is dropped after the close.
    all_dropped: Event,
}

/// Enough that two workers ending tasks at once seldom meet on a lock.
const SHARDS: usize = 16;

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
    pub future: TrackedFuture,
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
        let shard = self.next.fetch_add(1, Ordering::Relaxed) % SHARDS;
        let entry = {
            let mut spawned = lock(&self.shards[shard]);
            if spawned.closed {
                return None;
            }
            let key = spawned.running.insert(cancel.clone());
            Entry {
                tasks: self.clone(),
                shard,
                key,
            }
        };
        let future = TrackedFuture {
            future: Some(Abortable::new(future, registration)),
            entry: Some(entry),
        };
        Some(Tracked { future, cancel })
    }

    /// Refuses new tasks, cancels the running ones, and completes once each is dropped.
    pub async fn close(&self) {
        let mut running: Vec<AbortHandle> = Vec::new();
        for shard in &self.shards {
            let mut spawned = lock(shard);
            spawned.closed = true;
            running.extend(spawned.running.iter().map(|(_, task)| task.clone()));
        }
        for task in running {
            task.abort();
        }
        // Every shard is closed: the last task to leave each notifies.
        loop {
            let dropped = crate::notify::listen(&self.all_dropped);
            if self
                .shards
                .iter()
                .all(|shard| lock(shard).running.is_empty())
            {
                return;
            }
            dropped.await;
        }
    }
}

/// A tracked task's future ([`Tracked::future`]): the task's own, cancellable by the
/// close, which leaves the list once it has been dropped (when it ends, or as the task is
/// dropped). Not boxed again: a backend spawns it as it is.
pub struct TrackedFuture {
    /// `None` once it has ended (dropped then, before the task leaves the list).
    future: Option<Abortable<BoxFuture<'static, RawOutput>>>,
    /// Dropped after `future`: fields drop in declaration order.
    entry: Option<Entry>,
}

impl Future for TrackedFuture {
    type Output = Option<RawOutput>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Every part is `Unpin` (the task's future is boxed).
        let this = self.get_mut();
        let Some(future) = &mut this.future else {
            return Poll::Ready(None);
        };
        let end = std::task::ready!(Pin::new(future).poll(cx)).ok();
        this.future = None;
        this.entry = None;
        Poll::Ready(end)
    }
}

impl std::fmt::Debug for TrackedFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackedFuture")
            .field("ended", &self.future.is_none())
            .finish()
    }
}

/// A task's place in its [`BlockOnTasks`]: dropped after the task's future.
struct Entry {
    tasks: Arc<BlockOnTasks>,
    shard: usize,
    key: usize,
}

impl Drop for Entry {
    fn drop(&mut self) {
        let last = {
            let mut spawned = lock(&self.tasks.shards[self.shard]);
            spawned.running.remove(self.key);
            spawned.closed && spawned.running.is_empty()
        };
        // Outside the lock, and only if the close listens: it listens before it looks at
        // a shard under the shard's lock, so it either sees this one empty or is told.
        if last {
            crate::notify::notify_all(&self.tasks.all_dropped);
        }
    }
}

/// The list stays usable after a panic elsewhere: its updates cannot be left half done.
fn lock(spawned: &Mutex<Spawned>) -> MutexGuard<'_, Spawned> {
    spawned.lock().unwrap_or_else(PoisonError::into_inner)
}
