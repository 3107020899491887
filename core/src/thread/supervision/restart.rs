//! Acting on a supervised child's end: [`child_ended`], which the parent's loop calls
//! (it records the decision, stops the group's siblings, fails the parent or starts the
//! restart), and the restart itself, a task of the parent's that waits the backoff and
//! starts each child of the plan again.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;

use super::decision::RestartDecision;
use super::supervisor::{NextStart, Plan, Supervisor};
use crate::join::panic_message;
use crate::thread::context::ThreadCx;
use crate::thread::definition::{TaskThread, ThreadEnd};
use crate::thread::errors::ThreadError;
use crate::thread::failure::Failure;
use crate::thread::family::children::ChildRef;
use crate::thread::life::thread_core::{Control, Supervision};
use crate::SpawnerExt;

/// The parent's loop calls this when a child has ended, before `on_child_ended`: decides
/// (if the child is supervised), records the decision with the child (for
/// [`ChildRef::restart`]), and starts what it asks.
pub(crate) fn child_ended<T: TaskThread>(cx: &ThreadCx<T>, child: &ChildRef, end: &ThreadEnd) {
    let core = &cx.handle.core;
    let parent_ending = core.is_ending();
    let id = child.id().to_owned();
    let started = child.child.core().started_at();
    let decided = core.supervisor(
        Supervision::Existing,
        |supervisor: &mut Supervisor<T>, children| {
            let entered = |id: &str| children.get(id).is_some_and(|c| c.core().has_entered());
            supervisor.decide(&id, end, started, parent_ending, entered)
        },
    );
    let Some((decision, plan, to_stop)) = decided else {
        return;
    };
    if let Some(decision) = &decision {
        child.child.core().decided(decision.clone());
    }
    if let Some(RestartDecision::Restart { .. } | RestartDecision::RestartWithGroup { .. }) =
        &decision
    {
        core.child_restarting(child.child.core());
    }
    for sibling in &to_stop {
        if let Some(sibling) = core.find_child(sibling) {
            sibling.core().terminate(None);
        }
    }
    match plan {
        Plan::Nothing => {}
        Plan::Forget(removed) => drop(removed),
        Plan::Escalate(failure) => {
            tracing::error!(thread = %cx.id(), child = %id, "{}", failure);
            core.send_control(Control::Fail(failure));
        }
        Plan::Restart {
            ids,
            after,
            slot,
            plan,
        } => {
            tracing::warn!(thread = %cx.id(), child = %id, "child ended ({end}): restarting in {after:?}");
            start_restart(cx, slot, ids, after, plan, id);
        }
    }
}

/// Starts the restart's task, in the parent's slot `slot` (so that the parent's shutdown
/// cancels it), from a task of the runtime's: starting a slot's task is async (it waits for
/// a task the slot may still hold), and the loop does not wait for it.
fn start_restart<T: TaskThread>(
    cx: &ThreadCx<T>,
    slot: String,
    ids: Vec<Arc<str>>,
    after: Duration,
    plan: u64,
    id: String,
) {
    let restart = cx.slot(&slot);
    let thread = cx.id().to_owned();
    let starting = cx.runtime().spawn(async move {
        let started = restart
            .cancel_at_once()
            .re_create_fn(move |task| {
                let ids = ids.clone();
                async move {
                    // A zero wait is no wait: a runtime's timer may round it up to its tick
                    // (a millisecond on tokio). The notice ends the wait, and the restart.
                    if !after.is_zero() {
                        task.sleep(after).await;
                    }
                    if !task.is_shutting_down() {
                        restart_all(task.thread(), &ids, plan).await;
                    }
                }
            })
            .await;
        if let Err(refused) = started {
            // The parent is ending (its slots are closed): nothing to restart into.
            tracing::info!(%thread, child = %id, "not restarted: {refused}");
        }
    });
    // Detached: it ends as soon as the slot's task has started (or was refused).
    drop(starting);
}

/// Starts each of `ids` again, in order; a sibling stopped for its group first has to
/// have left the registry. What cannot be started fails the parent, but for a parent
/// that is ending and a child whose `enter` failed (its end is decided in the loop, as
/// every end is).
async fn restart_all<T: TaskThread>(cx: &ThreadCx<T>, ids: &[Arc<str>], plan: u64) {
    let core = &cx.handle.core;
    for id in ids {
        if let Some(previous) = core.find_child(id) {
            // Terminated already, as a rule; but a restart this one replaced may have
            // started it after the decision looked for it.
            let previous = previous.core().clone();
            previous.terminate(None);
            previous.join().await;
            previous.leave_parent();
        }
        let start = loop {
            let next = core.supervisor(
                Supervision::WhileRunning,
                |supervisor: &mut Supervisor<T>, _| supervisor.restarting(id, plan),
            );
            match next {
                Some(NextStart::Now(start)) => break Some(start),
                Some(NextStart::AfterItsEnd(listener)) => listener.await,
                // No longer supervised, taken over by a newer restart, or the parent is
                // ending.
                Some(NextStart::NotSupervised) | None => {
                    tracing::info!(thread = %cx.id(), child = %id, "not restarted by this restart: no longer supervised, taken over by a newer one, or the thread is ending");
                    break None;
                }
            }
        };
        let Some(start) = start else {
            continue;
        };
        let started = AssertUnwindSafe(async { start.start(cx, id).await })
            .catch_unwind()
            .await;
        let failure = match started {
            Ok(Ok(())) => {
                // A newer plan may have taken the child over while it started (it could
                // not stop an incarnation not registered yet): this one ends it for it.
                let ours = core.supervisor(
                    Supervision::Existing,
                    |supervisor: &mut Supervisor<T>, _| supervisor.still_started_by(id, plan),
                );
                if ours == Some(false) {
                    if let Some(started) = core.find_child(id) {
                        started.core().terminate(None);
                    }
                }
                continue;
            }
            Ok(Err(ThreadError::EnterFailed { .. } | ThreadError::ParentShuttingDown { .. })) => {
                continue
            }
            Ok(Err(error)) => Failure::new(format!("restart {id}"), Box::new(error)),
            Err(panic) => Failure::panicked(format!("restart {id}"), panic_message(&*panic)),
        };
        tracing::error!(thread = %cx.id(), child = %id, "{failure}");
        core.send_control(Control::Fail(Box::new(failure)));
        return;
    }
}
