//! Running a user method (`enter` or a handler) contained and interruptible.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;

use crate::join::{panic_message, panic_of};
use crate::thread::definition::{BoxError, ThreadEnd};
use crate::thread::failure::Failure;
use crate::thread::life::thread_core::{Control, ThreadCore};
use crate::Spawner;

/// A control message that has arrived, with the deadline of the shutdown it asks for.
pub(crate) struct Pending {
    pub(crate) control: Control,
    pub(crate) deadline: Instant,
}

impl Pending {
    /// The shutdown must be done by the thread's own budget from now, or by the parent's
    /// deadline if that is sooner. The thread's shutdown notice fires now, the deadline
    /// kept first: a handler still running sees the notice as its tasks do, and finds the
    /// deadline.
    pub(crate) fn new(core: &ThreadCore, control: Control) -> Self {
        let own = Instant::now() + core.settings.shutdown_budget;
        let deadline = match &control {
            Control::Terminate {
                deadline: Some(parent),
            } => own.min(*parent),
            _ => own,
        };
        core.bound_shutdown(deadline);
        core.tasks.fire_notice();
        Pending { control, deadline }
    }
}

/// The user method a [`Contained`] runs, named in logs and in [`ThreadEnd`]. A byte, not a
/// `&str`: it is part of every thread's loop state.
#[derive(Clone, Copy)]
pub(crate) enum Method {
    Enter,
    OnSignal,
    OnChildSignal,
    OnChildEnded,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Enter => "enter",
            Method::OnSignal => "on_signal",
            Method::OnChildSignal => "on_child_signal",
            Method::OnChildEnded => "on_child_ended",
        }
    }
}

pin_project_lite::pin_project! {
    /// A user method run contained and interruptible: an error or a panic becomes
    /// [`ThreadEnd::Failed`], logged with where; if a control message (terminate, a task's
    /// failure) arrives meanwhile, it is kept in `pending` and the method gets until the
    /// shutdown deadline to finish, after which it is dropped and the thread ends as forced.
    /// A forced thread's method is not polled again: it returns at once, so that the loop
    /// hands what is queued to the thread's hooks (see `poll`). The method's future is
    /// dropped here, before `Contained` returns, with a panic in its destructors contained:
    /// unwinding through the loop would lose its life, and with it the hooks' `&mut self`.
    ///
    /// A plain struct polled in place, not an `async fn`: a method that completes on its
    /// first poll (the common case) costs no timer, and the loop's task holds one copy of
    /// the method's future and of these few fields (an `async fn` would keep its arguments
    /// and its locals apart).
    pub(crate) struct Contained<'a, F> {
        core: &'a ThreadCore,
        pending: &'a mut Option<Pending>,
        method: Method,
        // Whether the method has been polled (see the force above).
        started: bool,
        deadline: Option<BoxFuture<'static, ()>>,
        // `None` once dropped (see above).
        #[pin]
        call: Option<F>,
    }
}

impl<'a, F> Contained<'a, F> {
    pub(crate) fn new(
        core: &'a ThreadCore,
        pending: &'a mut Option<Pending>,
        method: Method,
        call: F,
    ) -> Self {
        Contained {
            core,
            pending,
            method,
            started: false,
            deadline: None,
            call: Some(call),
        }
    }
}

impl<F, R> Future for Contained<'_, F>
where
    F: Future<Output = Result<R, BoxError>>,
{
    type Output = Result<R, ThreadEnd>;

    // Inlined into the loop: a handler is polled here once a signal on the busy path, and
    // as a call (with `failed_as_end` on every success, and the force check through the
    // GOT) this dispatch cost 17 ns a signal (issue 17, BENCHMARKS.md).
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (core, method) = (*this.core, this.method.name());
        let forced = || {
            Poll::Ready(Err(ThreadEnd::Forced {
                what: method.to_owned(),
            }))
        };
        // Forced: the method is not polled (again), so that the loop hands its queues to
        // its hooks; but a handler whose signal the loop took before it saw the force gets
        // its first poll (else the signal would be lost unhandled). `enter` has no signal:
        // a thread forced before it ran (its runtime refused its task) never enters.
        let first_of_a_handler = !*this.started && !matches!(*this.method, Method::Enter);
        let mut call = this.call;
        if !first_of_a_handler && core.is_forced() {
            drop_contained(core, method, call);
            return forced();
        }
        let Some(running) = call.as_mut().as_pin_mut() else {
            return forced(); // Polled after it returned, which the loop never does.
        };
        *this.started = true;
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| running.poll(cx)));
        let ended = match polled {
            Ok(Poll::Pending) if core.is_forced() => forced(),
            Ok(Poll::Pending) => poll_deadline(core, this.pending, this.deadline, method, cx),
            Ok(Poll::Ready(Ok(value))) => Poll::Ready(Ok(value)),
            Ok(Poll::Ready(Err(error))) => {
                Poll::Ready(failed_as_end(core.id(), method, Ok(Err(error))))
            }
            Err(panic) => Poll::Ready(failed_as_end(core.id(), method, Err(panic))),
        };
        if ended.is_ready() {
            drop_contained(core, method, call);
        }
        ended
    }
}

/// Drops what `slot` holds of the thread (a method's future, or its whole life), which will
/// not be polled again, containing and logging a panic in its destructors: `what` names it.
pub(crate) fn drop_contained<F>(
    core: &ThreadCore,
    what: &'static str,
    mut slot: Pin<&mut Option<F>>,
) {
    if let Some(panic) = panic_of(|| slot.set(None)) {
        let message = panic_message(panic.as_ref());
        tracing::error!(thread = %core.id(), what, "panicked while dropped: {message}");
    }
}

/// A user method's outcome as its thread sees it: the method's value, or, for an error or
/// a panic, [`ThreadEnd::Failed`] naming the method, logged with the thread's id.
#[cold]
pub(crate) fn failed_as_end<R>(
    thread_id: &str,
    method: &'static str,
    outcome: std::thread::Result<Result<R, BoxError>>,
) -> Result<R, ThreadEnd> {
    let failure = match outcome {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(error)) => Failure::new(method, error),
        Err(panic) => Failure::panicked(method, panic_message(panic.as_ref())),
    };
    tracing::error!(thread = %thread_id, method, "{}", failure.error());
    Err(ThreadEnd::Failed(failure))
}

/// While the method is pending: takes a control message that arrives, then enforces the
/// deadline of the shutdown it asks for.
fn poll_deadline<R>(
    core: &ThreadCore,
    pending: &mut Option<Pending>,
    deadline: &mut Option<BoxFuture<'static, ()>>,
    method: &'static str,
    cx: &mut Context<'_>,
) -> Poll<Result<R, ThreadEnd>> {
    if pending.is_none() {
        if let Some(arrived) = core.poll_control(cx.waker()) {
            *pending = Some(Pending::new(core, arrived));
        }
    }
    let Some(pending) = pending.as_ref() else {
        return Poll::Pending;
    };
    let timer = deadline.get_or_insert_with(|| {
        let left = pending.deadline.saturating_duration_since(Instant::now());
        core.runtime().sleep(left)
    });
    if timer.as_mut().poll(cx).is_pending() {
        return Poll::Pending;
    }
    tracing::error!(thread = %core.id(), method, "still running at the shutdown deadline: dropped");
    Poll::Ready(Err(ThreadEnd::Forced {
        what: method.to_owned(),
    }))
}
