//! [`Contained`]: the wrapper around a future spawned through
//! [`SpawnerExt::spawn`](crate::SpawnerExt::spawn) that keeps its panics from the runtime
//! and boxes its value into a [`RawOutput`].

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::BoxFuture;

use super::RawOutput;
use crate::join::{panic_message, panic_of};

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
    /// A future spawned through [`SpawnerExt::spawn`](crate::SpawnerExt::spawn). No panic
    /// of it reaches the runtime: one in a poll becomes its output, one in its destructor
    /// (run by a cancel) is logged. It is dropped before its output is handed over, so
    /// whoever sees the end sees it after every destructor of the future ran.
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
