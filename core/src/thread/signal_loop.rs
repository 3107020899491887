//! A thread's life on its own task: enter, the signal loop, then the shutdown cascade.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use futures::channel::oneshot;
use futures::FutureExt;
use tracing::Instrument;

use super::context::ThreadCx;
use super::core::{Control, ThreadCore};
use super::definition::{BoxError, Flow, TaskThread, ThreadEnd};
use super::errors::ThreadError;
use super::handle::ThreadHandle;
use super::mailbox::{DrainOnDrop, Event, Mailbox};
use super::shutdown::{shut_down, tell_parent};
use crate::join::panic_message;
use crate::{Spawner, SpawnerExt};

/// Starts `thread` on its own task and returns once it has entered and its signal loop
/// runs. `adopt` runs first, before `enter`: a parent registers the child there, so that
/// what the child's `enter` and tasks send up already reaches it. If `adopt` refuses, the
/// thread never runs; if `enter` fails, the thread shuts down (its `exit` runs) and the
/// error is returned.
pub(crate) async fn start<T: TaskThread>(
    runtime: crate::Runtime,
    thread: T,
    adopt: impl FnOnce(&ThreadHandle<T>) -> Result<(), ThreadError>,
) -> Result<ThreadHandle<T>, ThreadError> {
    let core = ThreadCore::new(thread.id(), thread.info(), runtime.clone(), thread.config());
    let cx = ThreadCx {
        handle: ThreadHandle {
            mailbox: Arc::new(Mailbox::new(core.clone())),
            core: core.clone(),
        },
    };
    let handle = cx.handle.clone();
    adopt(&handle)?;
    let (entered, has_entered) = oneshot::channel();
    let span = core.span.clone();
    let signal_loop = runtime.spawn(life(thread, cx, entered).instrument(span));
    core.set_signal_loop(signal_loop);
    let failure = match has_entered.await {
        Ok(Ok(())) => return Ok(handle),
        Ok(Err(message)) => message,
        Err(_) => "the thread was forced to end during enter".into(),
    };
    Err(ThreadError::EnterFailed {
        child: handle.id().to_owned(),
        message: failure,
    })
}

/// Runs a user method, turning an error or a panic into a message, logged with where.
pub(crate) async fn guarded<R>(
    thread_id: &str,
    method: &str,
    call: impl Future<Output = Result<R, BoxError>>,
) -> Result<R, ThreadEnd> {
    let failure = match AssertUnwindSafe(call).catch_unwind().await {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(error)) => error.to_string(),
        Err(panic) => format!("panicked: {}", panic_message(panic.as_ref())),
    };
    tracing::error!(thread = %thread_id, method, "{failure}");
    Err(ThreadEnd::Failed {
        r#where: method.to_owned(),
        message: failure,
    })
}

/// A control message that has arrived, with the deadline of the shutdown it asks for.
pub(crate) struct Pending {
    control: Control,
    deadline: Instant,
}

impl Pending {
    /// The shutdown must be done by the thread's own budget from now, or by the parent's
    /// deadline if that is sooner.
    fn new(core: &ThreadCore, control: Control) -> Self {
        let own = Instant::now() + core.config.shutdown_budget;
        let deadline = match &control {
            Control::Terminate {
                deadline: Some(parent),
            } => own.min(*parent),
            _ => own,
        };
        Pending { control, deadline }
    }
}

/// Runs a user method (`enter` or a handler), contained and interruptible: an error or a
/// panic becomes [`ThreadEnd::Failed`], logged with where; if a control message (terminate,
/// a task's failure) arrives meanwhile, it is kept in `pending` and the method gets until
/// the shutdown deadline to finish, after which it is dropped and the thread ends as forced.
///
/// One future, polled in place: a method that completes on its first poll (the common
/// case) costs no timer, no extra state machine and no copy of its future.
async fn contained<R>(
    core: &ThreadCore,
    pending: &mut Option<Pending>,
    method: &str,
    call: impl Future<Output = Result<R, BoxError>>,
) -> Result<R, ThreadEnd> {
    let mut call = pin!(call);
    let mut deadline: Option<futures::future::BoxFuture<'static, ()>> = None;
    let ended = futures::future::poll_fn(|cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| call.as_mut().poll(cx))) {
            Ok(Poll::Ready(Ok(value))) => return Poll::Ready(Ok(value)),
            Ok(Poll::Ready(Err(error))) => return Poll::Ready(Err(Some(error.to_string()))),
            Err(panic) => {
                let message = format!("panicked: {}", panic_message(panic.as_ref()));
                return Poll::Ready(Err(Some(message)));
            }
            Ok(Poll::Pending) => {}
        }
        if pending.is_none() {
            if let Some(arrived) = core.poll_control(cx.waker()) {
                *pending = Some(Pending::new(core, arrived));
            }
        }
        if let Some(pending) = pending.as_ref() {
            let timer = deadline.get_or_insert_with(|| {
                let left = pending.deadline.saturating_duration_since(Instant::now());
                core.runtime.sleep(left)
            });
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(None));
            }
        }
        Poll::Pending
    });
    match ended.await {
        Ok(value) => Ok(value),
        Err(Some(failure)) => {
            tracing::error!(thread = %core.id, method, "{failure}");
            Err(ThreadEnd::Failed {
                r#where: method.to_owned(),
                message: failure,
            })
        }
        Err(None) => {
            tracing::error!(thread = %core.id, method, "still running at the shutdown deadline: dropped");
            Err(ThreadEnd::Forced {
                what: method.to_owned(),
            })
        }
    }
}

/// The thread's task: `enter`, the signal loop, the shutdown. What only runs once (`enter`,
/// the shutdown) is boxed, so that an idle thread's task holds only the loop's state.
async fn life<T: TaskThread>(
    mut thread: T,
    cx: ThreadCx<T>,
    entered: oneshot::Sender<Result<(), String>>,
) {
    let core = cx.handle.core.clone();
    let _drain = DrainOnDrop(cx.handle.mailbox.clone());
    let mut pending: Option<Pending> = None;
    let entering = Box::pin(thread.enter(&cx));
    let entering = contained(&core, &mut pending, "enter", entering).await;
    let end = match entering {
        Err(failed) => {
            let message = match &failed {
                ThreadEnd::Failed { message, .. } => message.clone(),
                other => format!("{other:?}"),
            };
            let _ = entered.send(Err(message));
            failed
        }
        Ok(_) => {
            let _ = entered.send(Ok(()));
            signal_loop(&mut thread, &cx, &mut pending).await
        }
    };
    let deadline = match &pending {
        Some(pending) => pending.deadline,
        None => Instant::now() + core.config.shutdown_budget,
    };
    let end = Box::pin(shut_down(&mut thread, &cx, end, deadline)).await;
    if core.finish(end.clone()) {
        tell_parent(&cx, end);
    }
}

/// Handles events one at a time until one ends the thread; returns how.
async fn signal_loop<T: TaskThread>(
    thread: &mut T,
    cx: &ThreadCx<T>,
    pending: &mut Option<Pending>,
) -> ThreadEnd {
    let core = &cx.handle.core;
    let mailbox = &cx.handle.mailbox;
    loop {
        if let Some(pending) = pending.as_ref() {
            break ended_by(&pending.control);
        }
        let handled = match mailbox.next().await {
            Event::Control(control) => {
                *pending = Some(Pending::new(core, control));
                continue;
            }
            Event::Signal(signal) => {
                let handling = thread.on_signal(signal, cx);
                handle(core, pending, "on_signal", handling).await
            }
            Event::ChildSignal(child, signal) => {
                let handling = thread.on_child_signal(signal, &child, cx);
                handle(core, pending, "on_child_signal", handling).await
            }
            Event::ChildEnded(child, end) => {
                let handling = thread.on_child_ended(&child, end, cx);
                handle(core, pending, "on_child_ended", handling).await
            }
        };
        match handled {
            Ok(Flow::Continue) => {}
            Ok(Flow::Stop) => break ThreadEnd::Stopped,
            Err(failed) => break failed,
        }
    }
}

/// Runs one handler (see [`contained`]).
async fn handle(
    core: &ThreadCore,
    pending: &mut Option<Pending>,
    method: &str,
    handling: impl Future<Output = Flow>,
) -> Result<Flow, ThreadEnd> {
    contained(core, pending, method, handling.map(Ok)).await
}

/// How a control message ends a thread.
fn ended_by(control: &Control) -> ThreadEnd {
    match control {
        Control::Terminate { .. } => ThreadEnd::Stopped,
        Control::Fail { r#where, message } => ThreadEnd::Failed {
            r#where: r#where.clone(),
            message: message.clone(),
        },
    }
}
