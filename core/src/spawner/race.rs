//! The races core runs between futures: the first of two ([`first`]), and work against a
//! deadline ([`before`]), whose timer is armed only if the work is still pending after one
//! turn of the scheduler.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;

use super::{Runtime, Spawner};

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
