//! Backends that break one part of the `Spawner` contract each, on purpose, over a real
//! runtime: the contract's checks must fail on them (`tests/tests/contract_breaches.rs`),
//! which shows that each check can fail.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures::channel::oneshot;
use futures::future::{AbortHandle, BoxFuture, FutureExt};
use futures::task::ArcWake;
use task_thread::{Backend, RawOutput, RawTask, Runtime, Spawner, SpawnerExt};

use crate::runtimes::{Spawning, Wrapped};

/// An executor that polls a task again at once, on the same thread, when the task wakes
/// itself while being polled (as futures' `ThreadPool` does). With a `defer_wake` that is a
/// plain self-wake, a task that reschedules itself starves its worker; with one that wakes
/// from another task (`through_the_queue`), it keeps the contract.
pub struct RepollsAtOnce {
    through_the_queue: bool,
}

impl RepollsAtOnce {
    /// Such an executor over `inner`, whose `defer_wake` is a plain self-wake.
    pub fn with_a_self_wake(inner: &Runtime) -> Runtime {
        Wrapped::runtime(
            inner,
            RepollsAtOnce {
                through_the_queue: false,
            },
        )
    }

    /// Such an executor over `inner`, whose `defer_wake` wakes from a task of its own.
    pub fn waking_through_the_queue(inner: &Runtime) -> Runtime {
        Wrapped::runtime(
            inner,
            RepollsAtOnce {
                through_the_queue: true,
            },
        )
    }
}

impl Spawning for RepollsAtOnce {
    fn spawn(&self, inner: &Runtime, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        inner.spawn_raw(Box::pin(Repolled(future)))
    }

    fn defer_wake(&self, inner: &Runtime, waker: &Waker) {
        if self.through_the_queue {
            let waker = waker.clone();
            drop(inner.spawn(async move { waker.wake() }));
        } else {
            waker.wake_by_ref();
        }
    }
}

/// Polls its future again at once while the future wakes itself during the poll.
struct Repolled(BoxFuture<'static, RawOutput>);

impl Future for Repolled {
    type Output = RawOutput;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RawOutput> {
        loop {
            let seen = Arc::new(WakeSeen {
                woken: AtomicBool::new(false),
                outer: cx.waker().clone(),
            });
            let waker = futures::task::waker(seen.clone());
            match self.0.as_mut().poll(&mut Context::from_waker(&waker)) {
                Poll::Pending if seen.woken.load(Ordering::SeqCst) => continue,
                polled => return polled,
            }
        }
    }
}

/// Records a wake, and passes it on to the runtime's own waker.
struct WakeSeen {
    woken: AtomicBool,
    outer: Waker,
}

impl ArcWake for WakeSeen {
    fn wake_by_ref(seen: &Arc<Self>) {
        seen.woken.store(true, Ordering::SeqCst);
        seen.outer.wake_by_ref();
    }
}

/// Reports a cancelled task's end at once, before the runtime has dropped its future.
pub struct ReportsCancelEarly;

impl ReportsCancelEarly {
    /// Such a runtime over `inner`.
    pub fn wrap(inner: &Runtime) -> Runtime {
        Wrapped::runtime(inner, ReportsCancelEarly)
    }
}

impl Spawning for ReportsCancelEarly {
    fn spawn(&self, inner: &Runtime, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        let (future, abort) = futures::future::abortable(future);
        let task = inner.spawn_raw(
            future
                .map(|end| end.unwrap_or_else(|_aborted| Ok(Box::new(()))))
                .boxed(),
        );
        Box::new(CancelReportedEarly {
            task,
            abort,
            cancelled: false,
        })
    }
}

struct CancelReportedEarly {
    task: Box<dyn RawTask>,
    abort: AbortHandle,
    cancelled: bool,
}

impl RawTask for CancelReportedEarly {
    fn cancel(&mut self) {
        // The future is dropped at its next poll, later.
        self.abort.abort();
        self.cancelled = true;
    }
    fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<Option<RawOutput>> {
        if self.cancelled {
            return Poll::Ready(None);
        }
        self.task.poll_end(cx)
    }
}

/// A backend over `B` whose tasks each run on an OS thread of their own: they outlive
/// `block_on`, and a spawn after it is accepted.
pub struct Lingering<B>(pub B);

impl<B: Backend> Backend for Lingering<B> {
    fn name(&self) -> &'static str {
        "lingering"
    }

    fn block_on<F, Fut>(&self, main: F) -> Fut::Output
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future,
    {
        self.0
            .block_on(|rt| main(Wrapped::runtime(&rt, OnThreadsOfTheirOwn)))
    }
}

struct OnThreadsOfTheirOwn;

impl Spawning for OnThreadsOfTheirOwn {
    fn spawn(&self, _inner: &Runtime, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        let (ended, end) = oneshot::channel();
        std::thread::spawn(move || {
            let _ = ended.send(futures::executor::block_on(future));
        });
        Box::new(OnItsThread(end))
    }
}

/// A task on a thread of its own: its cancel does nothing.
struct OnItsThread(oneshot::Receiver<RawOutput>);

impl RawTask for OnItsThread {
    fn cancel(&mut self) {}
    fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<Option<RawOutput>> {
        self.0.poll_unpin(cx).map(Result::ok)
    }
}
