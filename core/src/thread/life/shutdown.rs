//! The shutdown cascade of one thread, within its budget.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures::FutureExt;

use crate::group::lock;
use crate::join::panic_message;
use crate::spawner::{before, first, SpawnerExt};
use crate::thread::context::ThreadCx;
use crate::thread::definition::{BoxError, TaskThread, ThreadEnd};
use crate::thread::life::contained::failed_as_end;
use crate::thread::life::thread_core::{ThreadCore, FORCE_GRACE};
use crate::thread::mailbox::receiver::Receiver;
use crate::thread::mailbox::ParentLink;
use crate::thread::snapshot::ShutdownPhase;

/// The cascade: queued signals to their hooks; the shutdown notice, the tasks' grace, and
/// what is left of them cancelled; `exit`; then terminate every child at once and wait for
/// all of them, everything by `deadline`: what is still running then is forced.
///
/// `exit` comes after the tasks have ended, so that it cleans up after work that has
/// stopped (a task that flushed on the notice has flushed); a task that `exit` itself
/// starts is deleted after it, as before, and the slots are closed from then on.
///
/// Every stopping thread allocates this future, so it is kept small: a plain `fn`
/// returning an `async move` block (an `async fn` would keep each argument twice), and the
/// undelivered signals handed to their hooks before the first await.
pub(crate) fn shut_down<'a, T: TaskThread>(
    thread: &'a mut T,
    cx: &'a ThreadCx<T>,
    receiver: &mut Receiver<T>,
    mut end: ThreadEnd,
    own_deadline: Instant,
) -> impl Future<Output = ThreadEnd> + Send + 'a {
    cx.handle.core.close_registry();
    cx.handle.core.enter_phase(ShutdownPhase::Tasks);
    hand_over_undelivered(thread, cx, receiver);
    async move {
        let core = &cx.handle.core;
        let mut forced = Vec::new();

        end_tasks(core, own_deadline, &mut forced).await;
        // Read again before each stage: a parent's cascade may have brought a sooner one.
        let deadline = core.capped(own_deadline);
        core.enter_phase(ShutdownPhase::Exit);
        let exiting = guarded(core.id(), "exit", thread.exit(cx));
        match before(core.runtime(), deadline, exiting).await {
            Some(Ok(())) => {}
            Some(Err(failed)) => {
                if end == ThreadEnd::Stopped {
                    end = failed;
                }
            }
            None => forced.push("exit".to_owned()),
        }
        core.tasks.close();
        // What `exit` started, if anything: nothing starts from now on.
        let deadline = core.capped(deadline);
        delete_tasks(core, deadline, &mut forced).await;
        // A task that failed in its grace (or while `exit` ran) fails the thread.
        if let Some(failure) = core.failure_during_shutdown() {
            if end == ThreadEnd::Stopped {
                end = ThreadEnd::Failed(failure);
            }
        }
        core.enter_phase(ShutdownPhase::Children);
        // Listed now, and each let go of once told: those that ended by themselves have
        // left the registry, and a child's memory is freed as it ends (its task and the
        // registry hold the last references), not in one more walk over cold children
        // when this list would be dropped.
        for child in core.children() {
            child.core().terminate(Some(deadline));
        }
        if before(core.runtime(), deadline, core.children_gone())
            .await
            .is_none()
        {
            // Those still registered: a child leaves the registry only once it has ended.
            let children = core.children();
            let late: Vec<_> = children
                .iter()
                .filter(|child| child.core().end().is_none())
                .collect();
            forced.extend(
                late.iter()
                    .map(|child| format!("child {}", child.core().id())),
            );
            // Every child still registered, not only the late ones: one that has ended may
            // not have left yet (its life is between its end and telling this thread, on
            // another worker), and its force only takes it out of the registry.
            let forcing = children.iter().map(|child| {
                child
                    .core()
                    .force("its parent's shutdown budget ran out".into())
            });
            futures::future::join_all(forcing).await;
        }
        if !forced.is_empty() {
            tracing::error!(
                thread = %core.id(),
                "shutdown forced after {:?}: {}",
                core.settings.shutdown_budget,
                forced.join(", ")
            );
            if end == ThreadEnd::Stopped {
                end = ThreadEnd::Forced {
                    what: forced.join(", "),
                };
            }
        }
        end
    }
}

/// The thread's tasks end: the notice fires (if a control message has not fired it
/// already), the slots marked [`cancel_at_once`](crate::TaskSlot::cancel_at_once) are
/// cancelled, and the others get the grace to return by themselves: until every task of
/// the thread has ended, at most [`ThreadConfig::shutdown_grace`] and at most half of
/// the time left before `deadline`. What is still running then is deleted.
///
/// [`ThreadConfig::shutdown_grace`]: crate::thread::ThreadConfig::shutdown_grace
async fn end_tasks(core: &ThreadCore, deadline: Instant, forced: &mut Vec<String>) {
    let now = Instant::now();
    // Half of what is left before `deadline` at most, so that cancelling what did not
    // return, `exit` and the children keep the other half.
    let half_way = |deadline: Instant| {
        let now = Instant::now();
        now + deadline.saturating_duration_since(now) / 2
    };
    let mut grace_end = (now + core.settings.shutdown_grace).min(half_way(deadline));
    // Cancelled first: a task that asked for no grace takes no step after the notice.
    core.tasks.cancel_at_once_tasks();
    core.tasks.fire_notice();
    // Told, most tasks return within a turn of the scheduler: looked at again after one,
    // before any listener is made (each allocates; a tree of 10,000 stopping made 20,000).
    // Only a saving: a yield that comes back early makes the look come early, and the
    // wait below covers it.
    if core.tasks.live_tasks() > 0 {
        core.runtime().yield_now().await;
    }
    loop {
        if core.tasks.live_tasks() == 0 {
            return;
        }
        // Listening before reading the cap: a parent's terminate after the read wakes us.
        let lowered = core.deadline_lowered();
        grace_end = grace_end.min(half_way(core.capped(deadline)));
        let idle_or_lowered = first(core.tasks.idle().map(Some), lowered.map(|()| None));
        match before(core.runtime(), grace_end, idle_or_lowered).await {
            Some(Some(())) => return,
            // A parent's cascade brought a sooner deadline: a shorter grace.
            Some(None) => continue,
            None => break,
        }
    }
    let deadline = core.capped(deadline);
    let grace = grace_end.saturating_duration_since(now);
    tracing::info!(
        thread = %core.id(),
        live_tasks = core.tasks.live_tasks(),
        "tasks still running after the grace of {grace:?}: cancelling them"
    );
    delete_tasks(core, deadline, forced).await;
}

/// Deletes the thread's tasks by `deadline`; out of budget, cancels them without waiting
/// for each in turn, then gives the runtime a moment to drop them all.
async fn delete_tasks(core: &ThreadCore, deadline: Instant, forced: &mut Vec<String>) {
    if before(core.runtime(), deadline, core.tasks.delete_all()).await == Some(Ok(())) {
        return;
    }
    core.tasks.cancel_all();
    if !core.tasks_idle_within(FORCE_GRACE).await && !forced.iter().any(|what| what == "tasks") {
        forced.push("tasks".to_owned());
    }
}

/// What was still queued (or taken and not handled) goes to the thread's hooks.
fn hand_over_undelivered<T: TaskThread>(
    thread: &mut T,
    cx: &ThreadCx<T>,
    receiver: &mut Receiver<T>,
) {
    let core = &cx.handle.core;
    let (signals, from_children) = receiver.close_and_drain();
    if !signals.is_empty() {
        hook(core, "on_undelivered", || thread.on_undelivered(signals));
    }
    if !from_children.is_empty() {
        hook(core, "on_undelivered_from_children", || {
            thread.on_undelivered_from_children(from_children)
        });
    }
}

/// Runs a synchronous hook, containing a panic in it (logged; the shutdown goes on).
fn hook(core: &ThreadCore, name: &str, call: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(call)) {
        tracing::error!(
            thread = %core.id(),
            method = name,
            "panicked: {}",
            panic_message(panic.as_ref())
        );
    }
}

/// Removes the ended thread from its parent's registry and tells the parent.
pub(crate) fn tell_parent<T: TaskThread>(cx: &ThreadCx<T>, end: ThreadEnd) {
    let link = lock(&cx.handle.mailbox.parent).take();
    let Some(ParentLink { inbox: parent }) = link else {
        return;
    };
    parent.core().remove_child(&cx.handle.core);
    parent.push_child_end(cx.handle.as_child(), end);
}

/// Runs a user method of the shutdown (`exit`), contained as the loop's methods are (see
/// [`failed_as_end`]). A combinator, not an `async fn`: it holds the method's future once.
fn guarded<'a, R>(
    thread_id: &'a str,
    method: &'static str,
    call: impl Future<Output = Result<R, BoxError>> + 'a,
) -> impl Future<Output = Result<R, ThreadEnd>> + 'a {
    AssertUnwindSafe(call)
        .catch_unwind()
        .map(move |outcome| failed_as_end(thread_id, method, outcome))
}
