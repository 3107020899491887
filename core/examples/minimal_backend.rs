//! A minimal backend, on futures' `ThreadPool` and async-io's timers: every part of the
//! contract (`task_thread_core::contract`) in one file. It passes the whole conformance
//! suite (`tests/tests/minimal_backend.rs` in the repository runs it).
//!
//! The pool polls a task that wakes itself during its poll again at once, on the same
//! thread, so `defer_wake` goes through the pool's queue; it has no `block_on` of its own
//! that ends its tasks, so the backend keeps a list of them.
//!
//! ```text
//! cargo run -p task-thread-core --example minimal_backend
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::executor::ThreadPool;
use futures::future::{AbortHandle, AbortRegistration, Abortable, BoxFuture, RemoteHandle};
use futures::FutureExt;
use task_thread_core::{Backend, RawOutput, RawTask, Runtime, ShutdownSignal, Spawner};

/// The backend: each `block_on` runs its main future on the calling thread and its tasks on
/// a pool of its own.
pub struct Minimal;

impl Backend for Minimal {
    fn name(&self) -> &'static str {
        "minimal"
    }

    fn block_on<F, Fut>(&self, main: F) -> Fut::Output
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future,
    {
        let tasks = Arc::new(Tasks::default());
        let spawner = PoolSpawner {
            pool: ThreadPool::new().expect("a thread pool starts"),
            tasks: tasks.clone(),
        };
        let output = futures::executor::block_on(main(Runtime::new(spawner)));
        // The contract: at the end, every task is dropped, and later spawns are refused.
        tasks.close();
        output
    }
}

struct PoolSpawner {
    pool: ThreadPool,
    tasks: Arc<Tasks>,
}

impl Spawner for PoolSpawner {
    fn name(&self) -> &'static str {
        "minimal"
    }

    fn spawn_raw(&self, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        let Some((abort, registration, entry)) = self.tasks.register() else {
            // Refused: the future is dropped before returning, and the task reads as ended.
            drop(future);
            return Box::new(PoolTask {
                end: None,
                abort: None,
            });
        };
        let (task, end) = async move {
            let output = Abortable::new(future, registration).await.ok();
            // The future is dropped by now: its end may be reported.
            drop(entry);
            output
        }
        .remote_handle();
        self.pool.spawn_ok(task);
        Box::new(PoolTask {
            end: Some(end),
            abort: Some(abort),
        })
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        async_io::Timer::after(duration).map(drop).boxed()
    }

    fn defer_wake(&self, waker: &Waker) {
        // A wake from the pool's queue: after the tasks already queued. (A plain
        // `waker.wake_by_ref()` here would have the pool poll the task again at once.)
        let waker = waker.clone();
        self.pool.spawn_ok(async move { waker.wake() });
    }

    fn shutdown_signal(&self) -> BoxFuture<'static, std::io::Result<ShutdownSignal>> {
        use async_signal::{Signal, Signals};
        use futures::StreamExt;
        // Registered now, so that a signal sent right after this call is seen.
        let signals = Signals::new([Signal::Int, Signal::Term]);
        async move {
            match signals?.next().await {
                Some(Ok(Signal::Term)) => Ok(ShutdownSignal::Terminate),
                Some(Ok(_)) => Ok(ShutdownSignal::Interrupt),
                Some(Err(error)) => Err(error),
                None => Err(std::io::Error::other("the signal stream ended")),
            }
        }
        .boxed()
    }
}

/// A task on the pool: its end comes through a `RemoteHandle`.
struct PoolTask {
    /// `None` once handed out (or for a refused task).
    end: Option<RemoteHandle<Option<RawOutput>>>,
    abort: Option<AbortHandle>,
}

impl RawTask for PoolTask {
    fn cancel(&mut self) {
        if let Some(abort) = &self.abort {
            abort.abort();
        }
    }

    fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<Option<RawOutput>> {
        let Some(end) = &mut self.end else {
            return Poll::Ready(None);
        };
        let output = std::task::ready!(end.poll_unpin(cx));
        self.end = None;
        Poll::Ready(output)
    }
}

impl Drop for PoolTask {
    fn drop(&mut self) {
        // Dropping a handle detaches the task (a `RemoteHandle` dropped would cancel it).
        if let Some(end) = self.end.take() {
            end.forget();
        }
    }
}

/// The tasks of one `block_on` that have not been dropped yet.
#[derive(Default)]
struct Tasks {
    running: Mutex<Running>,
    all_dropped: Condvar,
}

#[derive(Default)]
struct Running {
    closed: bool,
    next_key: u64,
    cancels: HashMap<u64, AbortHandle>,
}

impl Tasks {
    fn register(self: &Arc<Self>) -> Option<(AbortHandle, AbortRegistration, Entry)> {
        let mut running = self.lock();
        if running.closed {
            return None;
        }
        let (abort, registration) = AbortHandle::new_pair();
        let key = running.next_key;
        running.next_key += 1;
        running.cancels.insert(key, abort.clone());
        let entry = Entry {
            tasks: self.clone(),
            key,
        };
        Some((abort, registration, entry))
    }

    /// Refuses new tasks, cancels the others, and waits until each is dropped.
    fn close(&self) {
        let mut running = self.lock();
        running.closed = true;
        for abort in running.cancels.values() {
            abort.abort();
        }
        while !running.cancels.is_empty() {
            running = self
                .all_dropped
                .wait(running)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Running> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A task's place in the list, left when the task's future has been dropped.
struct Entry {
    tasks: Arc<Tasks>,
    key: u64,
}

impl Drop for Entry {
    fn drop(&mut self) {
        let mut running = self.tasks.lock();
        running.cancels.remove(&self.key);
        if running.cancels.is_empty() {
            self.tasks.all_dropped.notify_all();
        }
    }
}

/// A task that reschedules itself to its end while the main future waits for its reports,
/// then a spawn after `block_on`, refused.
fn main() {
    use task_thread_core::{Next, SpawnerExt, Task, TaskCx, TaskGroup};

    struct Countdown(u32, futures::channel::mpsc::UnboundedSender<u32>);

    impl Task for Countdown {
        async fn run(&mut self, _cx: &TaskCx) -> Next {
            self.0 -= 1;
            let _ = self.1.unbounded_send(self.0);
            if self.0 == 0 {
                Next::Stop
            } else {
                Next::Reschedule
            }
        }
    }

    let (counts, left) = Minimal.block_on(|rt| async move {
        use futures::StreamExt;
        let group = TaskGroup::new(rt.clone(), "example");
        let (report, reports) = futures::channel::mpsc::unbounded();
        group
            .slot("countdown")
            .re_create(Countdown(3, report))
            .await
            .expect("the task starts");
        let counts: Vec<u32> = reports.collect().await;
        (counts, rt)
    });
    assert_eq!(counts, [2, 1, 0]);
    // After block_on, its runtime refuses to spawn: the task reads as cancelled.
    let refused = futures::executor::block_on(left.spawn(async { 42 }));
    assert!(refused.is_err());
}
