//! [`ThreadTask`]: a thread's life as its runtime task, polled inside the thread's span,
//! catching what panics outside every user method, and ending the thread as forced when
//! its runtime drops it or its force polls it a last time.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::join::panic_message;
use crate::spawner::RawOutput;
use crate::thread::definition::ThreadEnd;
use crate::thread::failure::Failure;
use crate::thread::life::contained::drop_contained;
use crate::thread::life::thread_core::ThreadCore;

pin_project_lite::pin_project! {
    /// A thread's life as its runtime task: polled inside the thread's span, and ending
    /// as the [`Spawner`](crate::Spawner) contract asks (user methods are contained inside
    /// `life`; a panic caught here is the library's own). One wrapper, in place of the
    /// generic instrumenting, catching and mapping ones, each with its own copy of the
    /// span.
    ///
    /// It is also the task's cancel: a forced thread's task polls `life` a last time (see
    /// [`last_poll`]) and drops it, and every poll leaves the task's waker with the core
    /// so that a force (or any event) wakes it wherever `life` waits.
    pub(super) struct ThreadTask<F: Future<Output = ()>> {
        pub(super) core: Arc<ThreadCore>,
        #[pin]
        pub(super) life: Option<F>,
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
