//! A minimal backend, on futures' `ThreadPool` and async-io's timers: every part of the
//! contract (`task_thread_core::contract`) in one file. It passes the whole conformance
//! suite (`tests/tests/minimal_backend.rs` in the repository runs it).
//!
//! The pool polls a task that wakes itself during its poll again at once, on the same
//! thread, so `defer_wake` goes through the pool's queue; and its tasks do not end with a
//! `block_on`, so the backend keeps a list of them (`BlockOnTasks`).
//!
//! ```text
//! cargo run -p task-thread-core --example minimal_backend
//! ```

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::executor::ThreadPool;
use futures::future::{AbortHandle, BoxFuture, RemoteHandle};
use futures::FutureExt;
use task_thread_core::block_on_tasks::BlockOnTasks;
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
        let tasks = BlockOnTasks::new();
        let spawner = PoolSpawner {
            pool: ThreadPool::new().expect("a thread pool starts"),
            tasks: tasks.clone(),
        };
        let output = futures::executor::block_on(main(Runtime::new(spawner)));
        // The contract: at the end, every task is dropped, and later spawns are refused.
        futures::executor::block_on(tasks.close());
        output
    }
}

struct PoolSpawner {
    pool: ThreadPool,
    tasks: Arc<BlockOnTasks>,
}

impl Spawner for PoolSpawner {
    fn name(&self) -> &'static str {
        "minimal"
    }

    fn spawn_raw(&self, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        let Some(tracked) = self.tasks.track(future) else {
            // Refused: the future is dropped already, and the task reads as ended.
            return Box::new(PoolTask {
                end: None,
                cancel: None,
            });
        };
        // The tracked future ends only after the task's own is dropped.
        let (task, end) = tracked.future.remote_handle();
        self.pool.spawn_ok(task);
        Box::new(PoolTask {
            end: Some(end),
            cancel: Some(tracked.cancel),
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
    cancel: Option<AbortHandle>,
}

impl RawTask for PoolTask {
    fn cancel(&mut self) {
        if let Some(cancel) = &self.cancel {
            cancel.abort();
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
