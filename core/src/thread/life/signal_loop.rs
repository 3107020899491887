//! A thread's life on its own task: enter, the signal loop, then the shutdown cascade.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::channel::oneshot;
use futures::FutureExt;

use crate::join::panic_message;
use crate::spawner::{before, RawOutput};
use crate::thread::context::ThreadCx;
use crate::thread::definition::{Flow, TaskThread, ThreadEnd};
use crate::thread::failure::Failure;
use crate::thread::handle::ThreadHandle;
use crate::thread::life::contained::{drop_contained, Contained, Method, Pending};
use crate::thread::life::shutdown::{shut_down, tell_parent};
use crate::thread::life::thread_core::{Control, ThreadCore, FORCE_GRACE};
use crate::thread::mailbox::receiver::Receiver;
use crate::thread::mailbox::{Event, Mailbox};
use crate::thread::supervision::supervisor::{child_ended, supervises};
use crate::Spawner;

/// A thread whose task has been spawned, until its `enter` has returned: see
/// [`entered`](Self::entered), whose future, dropped before then (the caller's start was
/// cancelled, by a timeout say), terminates the thread: `enter` then gets the thread's
/// shutdown budget to return, after which it is dropped.
pub(crate) struct Launched<T: TaskThread> {
    handle: ThreadHandle<T>,
    /// Whether `enter` succeeded; dropped unsent if the task ended first.
    has_entered: oneshot::Receiver<bool>,
}

/// Terminates a thread whose start is dropped before its `enter` has returned.
struct UnlessEntered<'a> {
    core: Option<&'a ThreadCore>,
}

impl Drop for UnlessEntered<'_> {
    fn drop(&mut self) {
        if let Some(core) = self.core {
            tracing::info!(thread = %core.id(), "its start was cancelled before enter returned: terminating it");
            core.terminate(None);
        }
    }
}

/// Spawns `thread` on its own task. `adopt` runs first, before `enter`: a parent registers
/// the child there, so that what the child's `enter` and tasks send up already reaches it.
/// If `adopt` refuses, the thread never runs.
pub(crate) fn launch<T: TaskThread, E>(
    runtime: crate::Runtime,
    thread: T,
    adopt: impl FnOnce(&ThreadCx<T>) -> Result<(), E>,
) -> Result<Launched<T>, E> {
    let core = ThreadCore::new(thread.id(), thread.info(), runtime.clone(), thread.config());
    let cx = ThreadCx {
        handle: ThreadHandle {
            mailbox: Arc::new(Mailbox::new(core.clone())),
            core: core.clone(),
        },
    };
    adopt(&cx)?;
    let handle = cx.handle.clone();
    let (entered, has_entered) = oneshot::channel();
    let receiver = Receiver::new(cx.handle.mailbox.clone());
    let life = ThreadTask {
        core,
        life: Some(life(thread, cx, entered, receiver)),
    };
    // Detached: the thread's end is awaited through its core, and a force cancels the
    // task through its core too (see `ThreadTask`), so no handle is made.
    runtime.spawn_named_detached(format_args!("{}", handle.id()), Box::pin(life));
    Ok(Launched {
        handle,
        has_entered,
    })
}

impl<T: TaskThread> Launched<T> {
    /// The thread's id.
    pub(crate) fn id(&self) -> &str {
        self.handle.id()
    }

    /// The thread's core.
    pub(crate) fn core(&self) -> &Arc<ThreadCore> {
        &self.handle.core
    }

    /// Waits until `enter` has returned: the handle once the signal loop runs; if `enter`
    /// failed, the thread's end once it has shut down (its `exit` ran, its children
    /// ended) and left its parent's registry; if the runtime dropped the thread's task
    /// first, its end as forced (without its `exit`).
    /// Dropped before `enter` has returned, it terminates the thread (see the type).
    pub(crate) async fn entered(self) -> Result<ThreadHandle<T>, ThreadEnd> {
        let Launched {
            handle,
            has_entered,
        } = self;
        let mut unless_entered = UnlessEntered {
            core: Some(&handle.core),
        };
        let outcome = has_entered.await;
        unless_entered.core = None;
        drop(unless_entered);
        match outcome {
            Ok(true) => Ok(handle),
            // `enter` failed: the thread shuts down (its `exit` runs, its children end,
            // within its budget) before its end is returned, and it has left its parent's
            // registry by then, whichever worker is finishing its end: a caller may start
            // another under the same id at once.
            Ok(false) => {
                let end = handle.join().await;
                handle.core.leave_parent();
                Err(end)
            }
            // The task ended without `enter` finishing: forced, or dropped by its runtime.
            // Its end is recorded as soon as what dropped it has finished (on another
            // worker, maybe), or a forcing has waited for its tasks.
            Err(_) => {
                let deadline = Instant::now() + 2 * FORCE_GRACE;
                let ended = before(handle.runtime(), deadline, handle.join()).await;
                if ended.is_some() {
                    // Ended: out of the registry when the error is returned, whichever
                    // worker is still finishing its end.
                    handle.core.leave_parent();
                }
                Err(ended.unwrap_or_else(|| ThreadEnd::Forced {
                    what: "enter (its task ended, its end was not recorded in time)".into(),
                }))
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A thread's life as its runtime task: polled inside the thread's span, and ending
    /// as the [`Spawner`] contract asks (user methods are contained inside `life`; a panic
    /// caught here is the library's own). One wrapper, in place of the generic
    /// instrumenting, catching and mapping ones, each with its own copy of the span.
    ///
    /// It is also the task's cancel: a forced thread's task polls `life` a last time (see
    /// [`last_poll`]) and drops it, and every poll leaves the task's waker with the core
    /// so that a force (or any event) wakes it wherever `life` waits.
    struct ThreadTask<F: Future<Output = ()>> {
        core: Arc<ThreadCore>,
        #[pin]
        life: Option<F>,
    }

    /// A thread's task dropped by its runtime before it ended (the runtime refused to
    /// spawn it, or is shutting down): a panic in what it drops (the thread's value, a
    /// handler's future) is contained and logged here, as some runtimes abort the process
    /// on a panic while dropping a task. The thread then ends as forced, without its `exit`:
    /// its slots are closed and their tasks cancelled, its children are terminated (not
    /// awaited), it leaves its parent's registry, and its `join`s return (a parent would
    /// otherwise wait for it for its whole shutdown budget). What was queued for it goes
    /// to its hooks first, as for a forced thread. A task that ended or panicked, or was
    /// forced and polled since, has let go of its life in `poll`; one forced and dropped
    /// before its next poll ends here, as dropped.
    impl<F: Future<Output = ()>> PinnedDrop for ThreadTask<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if this.life.is_none() {
                return;
            }
            // Ending before its life is dropped: a request it held reads as "ended".
            this.core.mark_ending();
            // Nothing will poll it again: it is polled once here, as forced, without a
            // waker (nothing of a forced life waits).
            this.core.mark_forced();
            let mut no_waker = Context::from_waker(futures::task::noop_waker_ref());
            last_poll(this.core, this.life, &mut no_waker);
            this.core.forget_loop();
            ended_by_runtime(this.core);
        }
    }
}

/// The end of a thread whose task its runtime dropped (see `ThreadTask`'s drop).
fn ended_by_runtime(core: &Arc<ThreadCore>) {
    // Debug, not warn: a runtime dropped at the end of a program drops every thread still
    // running, and a tree of 10,000 would log 10,000 lines.
    tracing::debug!(thread = %core.id(), "its task was dropped by its runtime before it ended");
    end_without_its_life(
        core,
        ThreadEnd::Forced {
            what: "its task, dropped by its runtime".to_owned(),
        },
    );
}

/// Ends a thread whose life is gone before its shutdown could run (its task was dropped,
/// or panicked outside every user method): nothing of it may run on, so its tasks are
/// told and cancelled, its slots closed, its children terminated (not awaited), and it
/// leaves its parent's registry with `end`.
fn end_without_its_life(core: &Arc<ThreadCore>, end: ThreadEnd) {
    core.tasks.fire_notice();
    core.tasks.close();
    core.tasks.cancel_all();
    for child in core.close_children() {
        child.core().terminate(None);
    }
    core.end_without_shutdown(end);
}

/// What a thread's task holds of it, named in a log: its value and a handler's future.
const LIFE: &str = "its life";

/// A forced thread's life, polled a last time and dropped: its loop sees the force (a
/// handler still running returns at once and is dropped, unpolled; one whose signal the
/// loop had taken but not polled yet gets that one poll; `enter` never starts), hands what
/// is queued to the thread's hooks, and ends without the rest of its shutdown, which its force does
/// (see [`ThreadCore::force`]). A forced life does not wait on anything; if user code in
/// it does not return (a hook that blocks), the task blocks as it would in any method.
fn last_poll<F: Future<Output = ()>>(
    core: &ThreadCore,
    mut life: Pin<&mut Option<F>>,
    cx: &mut Context<'_>,
) {
    if let Some(running) = life.as_mut().as_pin_mut() {
        if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(|| running.poll(cx))) {
            let message = panic_message(panic.as_ref());
            tracing::error!(thread = %core.id(), "panicked while forced: {message}");
        }
    }
    drop_contained(core, LIFE, life);
}

impl<F: Future<Output = ()>> Future for ThreadTask<F> {
    type Output = RawOutput;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RawOutput> {
        let mut this = self.project();
        let _in_span = this.core.span().enter();
        // Registered before the force flag is read: a force after the read wakes us.
        this.core.register_loop(cx.waker());
        let ended = if this.core.is_forced() {
            last_poll(this.core, this.life.as_mut(), cx);
            returned()
        } else if let Some(life) = this.life.as_mut().as_pin_mut() {
            match std::panic::catch_unwind(AssertUnwindSafe(|| life.poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(())) => {
                    this.life.set(None);
                    returned()
                }
                Err(panic) => {
                    // Outside every user method (the thread's value dropped at its end, a
                    // handler's future dropped at the deadline, say): logged, and the
                    // thread ends as failed if it had not ended yet, so that no `join`
                    // waits for it forever, with nothing of it left running.
                    let message = panic_message(panic.as_ref());
                    tracing::error!(thread = %this.core.id(), "panicked: {message}");
                    let failed = ThreadEnd::Failed(Failure::panicked("thread", message.clone()));
                    end_without_its_life(this.core, failed);
                    drop_contained(this.core, LIFE, this.life.as_mut());
                    Err(message)
                }
            }
        } else {
            returned()
        };
        // The task will not run again: the core lets go of its waker, which would keep
        // the runtime's task alive as long as anything holds the thread.
        this.core.forget_loop();
        Poll::Ready(ended)
    }
}

/// What the thread's task hands its runtime when it ends: nothing (how the thread ended is
/// kept in its core, for every `join`).
fn returned() -> RawOutput {
    Ok(Box::new(()))
}

/// The thread's task: `enter`, the signal loop, the shutdown. What only runs once (`enter`,
/// the shutdown) is boxed, so that an idle thread's task holds only the loop's state.
///
/// Every thread keeps this future for its whole life, so its layout is watched
/// (`-Zprint-type-sizes` on nightly): a plain `fn` returning an `async move` block, because
/// an `async fn` keeps each argument twice (the thread's value too, whatever its size); the
/// loop written out here, because a function of its own would keep its own copies of
/// `thread`, `cx` and `pending`; and nothing of `enter`'s outcome kept past it.
#[allow(clippy::manual_async_fn)] // On purpose: see above.
fn life<T: TaskThread>(
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
