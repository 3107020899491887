//! For backend authors: a [`RawTask`] over a runtime handle whose cancel is an `async fn`
//! that consumes the handle (the `async-task` style of smol and async-std).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::BoxFuture;

use crate::spawner::{RawOutput, RawTask};

/// A runtime's own task handle, as [`ConsumingCancelTask`] needs it: a future of the task's
/// end, `None` if the runtime dropped the task before its end (it shut down).
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::task::{Context, Poll};
/// use futures::future::{BoxFuture, FutureExt};
/// use task_thread_core::consuming_cancel::ConsumingCancel;
/// use task_thread_core::RawOutput;
///
/// /// A stand-in for a runtime's handle (smol's `Task`, say): here, already finished.
/// struct Done(Option<RawOutput>);
///
/// impl Future for Done {
///     // `None` would say that the runtime dropped the task without running it to its end.
///     type Output = Option<RawOutput>;
///     fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<RawOutput>> {
///         Poll::Ready(Some(self.0.take().expect("polled after its end")))
///     }
/// }
///
/// impl ConsumingCancel for Done {
///     // Its output, since it had finished before the cancel came.
///     fn cancel(self) -> BoxFuture<'static, Option<RawOutput>> {
///         async move { self.0 }.boxed()
///     }
///     fn detach(self) {}
/// }
/// ```
pub trait ConsumingCancel:
    Future<Output = Option<RawOutput>> + Unpin + Send + Sized + 'static
{
    /// The runtime's cancel: resolves once the task's future is dropped, with its output if
    /// it had already finished.
    fn cancel(self) -> BoxFuture<'static, Option<RawOutput>>;
    /// Lets the task run on without a handle.
    fn detach(self);
}

/// Turns a [`ConsumingCancel`] handle into a [`RawTask`]: [`RawTask::cancel`] takes effect
/// at once (the runtime's cancel future is polled once on the spot, which sets the task's
/// cancel flag), and dropping detaches.
///
/// ```
/// # use std::future::Future;
/// # use std::pin::Pin;
/// # use std::task::{Context, Poll};
/// # use futures::future::{BoxFuture, FutureExt};
/// # use task_thread_core::consuming_cancel::ConsumingCancel;
/// use task_thread_core::consuming_cancel::ConsumingCancelTask;
/// use task_thread_core::{RawOutput, RawTask};
/// # struct Done(Option<RawOutput>);
/// # impl Future for Done {
/// #     type Output = Option<RawOutput>;
/// #     fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<RawOutput>> {
/// #         Poll::Ready(Some(self.0.take().expect("polled after its end")))
/// #     }
/// # }
/// # impl ConsumingCancel for Done {
/// #     fn cancel(self) -> BoxFuture<'static, Option<RawOutput>> { async move { self.0 }.boxed() }
/// #     fn detach(self) {}
/// # }
///
/// // What a backend's `spawn_raw` returns around its runtime's handle.
/// let mut task: Box<dyn RawTask> = Box::new(ConsumingCancelTask::new(Done(Some(Ok(Box::new(()))))));
/// task.cancel();
/// let mut cx = Context::from_waker(futures::task::noop_waker_ref());
/// // It had finished: the cancel came too late and the output is kept.
/// assert!(matches!(task.poll_end(&mut cx), Poll::Ready(Some(Ok(_)))));
/// ```
pub struct ConsumingCancelTask<H: ConsumingCancel> {
    state: State<H>,
}

enum State<H> {
    Running(H),
    Cancelling(BoxFuture<'static, Option<RawOutput>>),
    Ended(Option<Option<RawOutput>>),
}

impl<H: ConsumingCancel> ConsumingCancelTask<H> {
    /// Wraps a freshly spawned task's handle.
    pub fn new(handle: H) -> Self {
        ConsumingCancelTask {
            state: State::Running(handle),
        }
    }

    /// A task that never ran: it reports itself cancelled (for a spawn refused because the
    /// runtime has shut down).
    #[must_use]
    pub fn refused() -> Self {
        ConsumingCancelTask {
            state: State::Ended(Some(None)),
        }
    }
}

impl<H: ConsumingCancel> RawTask for ConsumingCancelTask<H> {
    fn cancel(&mut self) {
        let state = std::mem::replace(&mut self.state, State::Ended(None));
        let State::Running(handle) = state else {
            // Cancelling or ended already: nothing more to ask.
            self.state = state;
            return;
        };
        let mut cancelling = handle.cancel();
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        self.state = match cancelling.as_mut().poll(&mut cx) {
            Poll::Ready(end) => State::Ended(Some(end)),
            Poll::Pending => State::Cancelling(cancelling),
        };
    }

    fn poll_end(&mut self, cx: &mut Context<'_>) -> Poll<Option<RawOutput>> {
        match &mut self.state {
            State::Running(handle) => Pin::new(handle).poll(cx),
            State::Cancelling(cancelling) => cancelling.as_mut().poll(cx),
            State::Ended(end) => Poll::Ready(end.take().flatten()),
        }
    }
}

impl<H: ConsumingCancel> Drop for ConsumingCancelTask<H> {
    fn drop(&mut self) {
        if let State::Running(handle) = std::mem::replace(&mut self.state, State::Ended(None)) {
            handle.detach();
        }
    }
}
