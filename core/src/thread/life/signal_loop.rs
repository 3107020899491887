//! A thread's life on its own task: enter, the signal loop, then the shutdown cascade.
//! Started by `launch`, polled inside its runtime task by `thread_task`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::channel::oneshot;
use futures::FutureExt;

use crate::thread::context::ThreadCx;
use crate::thread::definition::{Flow, TaskThread, ThreadEnd};
use crate::thread::life::contained::{Contained, Method, Pending};
use crate::thread::life::shutdown::{shut_down, tell_parent};
use crate::thread::life::thread_core::{Control, ThreadCore};
use crate::thread::mailbox::receiver::Receiver;
use crate::thread::mailbox::Event;
use crate::thread::supervision::restart::child_ended;
use crate::thread::supervision::supervisor::supervises;

/// The thread's task: `enter`, the signal loop, the shutdown. What only runs once (`enter`,
/// the shutdown) is boxed, so that an idle thread's task holds only the loop's state.
///
/// Every thread keeps this future for its whole life, so its layout is watched
/// (`-Zprint-type-sizes` on nightly): a plain `fn` returning an `async move` block, because
/// an `async fn` keeps each argument twice (the thread's value too, whatever its size); the
/// loop written out here, because a function of its own would keep its own copies of
/// `thread`, `cx` and `pending`; and nothing of `enter`'s outcome kept past it.
#[allow(clippy::manual_async_fn)] // On purpose: see above.
pub(super) fn life<T: TaskThread>(
    mut thread: T,
    cx: ThreadCx<T>,
    entered: oneshot::Sender<bool>,
    // Owned by the future from its creation: it is dropped (and the mailbox closed) even
    // if the task is cancelled before its first poll.
    mut receiver: Receiver<T>,
) -> impl Future<Output = ()> + Send {
    async move {
        let mut pending: Option<Pending> = None;
        let entering = Box::pin(thread.enter(&cx));
        let entering = Contained::new(&cx.handle.core, &mut pending, Method::Enter, entering);
        // Only a failure is kept (boxed) past `enter`: the loop's state stays small.
        let failed_in_enter = entering.await.err().map(Box::new);
        if failed_in_enter.is_none() {
            cx.handle.core.mark_entered();
        }
        let _ = entered.send(failed_in_enter.is_none());
        let end = match failed_in_enter {
            Some(failed) => *failed,
            None => {
                let core = &cx.handle.core;
                loop {
                    if let Some(pending) = pending.as_ref() {
                        break ended_by(&pending.control);
                    }
                    let handled = match receiver.next().await {
                        Event::Control(control) => {
                            pending = Some(Pending::new(core, control));
                            continue;
                        }
                        Event::Signal(signal) => {
                            let handling = thread.on_signal(signal, &cx);
                            Contained::new(core, &mut pending, Method::OnSignal, handling.map(Ok))
                                .await
                        }
                        Event::ChildSignal(signal) => {
                            let handling = thread.on_child_signal(signal, receiver.sender(), &cx);
                            Contained::new(
                                core,
                                &mut pending,
                                Method::OnChildSignal,
                                handling.map(Ok),
                            )
                            .await
                        }
                        // What is queued goes to the hooks below; the force ends the rest.
                        Event::Forced => break ended_by_its_force(),
                        Event::ChildEnded(child, end) => {
                            // A supervised child's end is decided first, so that the
                            // handler sees the decision (a call, not an await: an await
                            // here would grow every idle thread's state).
                            if supervises::<T>(core) {
                                child_ended(&cx, &child, &end);
                            }
                            let handling = thread.on_child_ended(&child, *end, &cx);
                            Contained::new(
                                core,
                                &mut pending,
                                Method::OnChildEnded,
                                handling.map(Ok),
                            )
                            .await
                        }
                    };
                    let flow = match handled {
                        Ok(flow) => flow,
                        Err(failed) => break failed,
                    };
                    // A control message that came while the handler ran ends the thread its way,
                    // whatever the handler returned: a task's failure is not lost behind a `Stop`.
                    if pending.is_none() {
                        if let Some(control) = core.take_control() {
                            pending = Some(Pending::new(core, control));
                        }
                    }
                    if flow == Flow::Stop && pending.is_none() {
                        break ThreadEnd::Stopped;
                    }
                }
            }
        };
        let deadline = match &pending {
            Some(pending) => pending.deadline, // kept by `Pending::new`
            // A handler's `Stop`, or a failure: kept now, before the notice fires.
            None => {
                let deadline = Instant::now() + cx.handle.core.settings.shutdown_budget;
                cx.handle.core.bound_shutdown(deadline);
                deadline
            }
        };
        // Queued signals go to the hooks as the shutdown is made, before its first await: a
        // forced thread stops right after that (its force ends its tasks and children and
        // records its end).
        let shutting_down = shut_down(&mut thread, &cx, &mut receiver, end, deadline);
        let shutdown = UnlessForced {
            core: &cx.handle.core,
            shutdown: shutting_down,
        };
        let Some(end) = Box::pin(shutdown).await else {
            return;
        };
        if cx.handle.core.finish(end.clone()) {
            tell_parent(&cx, end);
        }
    }
}

/// What a forced loop ends with; not recorded: the force records the thread's end.
fn ended_by_its_force() -> ThreadEnd {
    ThreadEnd::Forced {
        what: "its force".to_owned(),
    }
}

pin_project_lite::pin_project! {
    /// A thread's shutdown, not polled once the thread is forced: its force ends the rest
    /// (a hung `exit` is dropped, not polled again), and records the thread's end. `None`
    /// then.
    struct UnlessForced<'a, F> {
        core: &'a ThreadCore,
        #[pin]
        shutdown: F,
    }
}

impl<F: Future> Future for UnlessForced<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let this = self.project();
        if this.core.is_forced() {
            return Poll::Ready(None);
        }
        this.shutdown.poll(cx).map(Some)
    }
}

/// How a control message ends a thread.
fn ended_by(control: &Control) -> ThreadEnd {
    match control {
        Control::Terminate { .. } => ThreadEnd::Stopped,
        Control::Fail(failure) => ThreadEnd::Failed((**failure).clone()),
    }
}
