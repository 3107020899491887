//! Forcing a thread: what still runs of it is cancelled, its subtree forced, its life let
//! go of (its queues handed to its hooks first), and its end recorded, even if the force
//! itself is dropped half-way; and the ends that do not go through the thread's own
//! shutdown.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::FutureExt;

use super::ThreadCore;
use crate::group::lock;
use crate::notify::wait_for;
use crate::thread::definition::ThreadEnd;

/// How long a forced shutdown waits for cancelled tasks to be dropped (a task that blocks
/// its thread cannot be dropped sooner).
pub(crate) const FORCE_GRACE: Duration = Duration::from_millis(500);

impl ThreadCore {
    /// Waits until the thread's task has let go of its life, at most until `deadline`;
    /// false if it has not (a task blocking its worker, or one its runtime no longer polls).
    async fn life_gone_by(&self, deadline: Instant) -> bool {
        let gone = || self.life_gone.load(Ordering::Acquire).then_some(());
        let waiting = wait_for(&self.ended, gone);
        crate::spawner::before(self.runtime(), deadline, waiting)
            .await
            .is_some()
    }

    /// Cancels whatever of the thread still runs (its loop, its tasks, its subtree), waits
    /// at most [`FORCE_GRACE`] for the cancelled tasks and the thread's life to be dropped
    /// (its loop hands what is queued to its hooks first), and ends the thread as forced.
    /// So by the time a `join` returns `Forced`, nothing of the thread is held or running,
    /// on any runtime, unless it blocks a worker past the grace (logged).
    pub(crate) fn force(self: &Arc<Self>, what: String) -> BoxFuture<'static, ()> {
        let core = self.clone();
        async move {
            let grace_end = Instant::now() + FORCE_GRACE;
            let children = {
                let mut state = lock(&core.state);
                // Listed, not removed: if this forcing is itself cut short by an ancestor's,
                // the ancestor's still reaches every one of them.
                state.end.is_none().then(|| {
                    state.running = false;
                    state.children.list()
                })
            };
            let Some(children) = children else {
                // Ended by itself: out of the registry, and its life let go of (on another
                // worker it may still be finishing), when the force completes.
                core.leave_parent();
                core.life_gone_by(grace_end).await;
                return;
            };
            tracing::error!(thread = %core.id(), "shutdown forced: {what}");
            core.mark_forced();
            // From here the thread's life may be gone without its end recorded: if this
            // future is dropped half-way (its caller's task dropped by its runtime), the
            // guard records it.
            let mut unfinished = UnfinishedForce {
                core: &core,
                what: Some(what),
            };
            core.wake_loop();
            core.tasks.fire_notice();
            core.tasks.close();
            core.tasks.cancel_all();
            let subtree = children.iter().map(|child| {
                child
                    .core()
                    .force("its parent's shutdown was forced".into())
            });
            futures::future::join_all(subtree).await;
            core.tasks_idle_within(FORCE_GRACE).await;
            if !core.life_gone_by(grace_end).await {
                tracing::error!(
                    thread = %core.id(),
                    "its task still holds the thread after {FORCE_GRACE:?}: ended without it"
                );
            }
            unfinished.finish();
        }
        .boxed()
    }

    /// Ends a thread whose own shutdown did not end it (it was forced, it panicked outside
    /// its methods, its task was dropped by its runtime): records `end` unless it had one,
    /// then leaves the parent's registry, as a child that tells its parent of its end does.
    /// It leaves also if it had ended by itself meanwhile: its life may still be between
    /// recording its end and telling its parent, on another worker, and a parent whose
    /// force of it has completed must not find it registered (random trees found a
    /// parent ended with its child still in its registry, on async-std).
    pub(crate) fn end_without_shutdown(self: &Arc<Self>, end: ThreadEnd) {
        self.finish(end);
        self.leave_parent();
    }

    /// Takes an ended thread out of its parent's registry, as a child that ends by itself
    /// is (for the ends that do not go through the thread's own shutdown).
    pub(crate) fn leave_parent(self: &Arc<Self>) {
        let parent = lock(&self.state).parent.as_ref().and_then(Weak::upgrade);
        if let Some(parent) = parent {
            parent.remove_child(self);
        }
    }

    /// Waits until the thread's tasks have all been dropped, at most `grace`; logs and
    /// returns false if some are still running then.
    pub(crate) async fn tasks_idle_within(&self, grace: Duration) -> bool {
        let deadline = Instant::now() + grace;
        let all_ended = crate::spawner::before(self.runtime(), deadline, self.tasks.idle())
            .await
            .is_some();
        if !all_ended {
            tracing::error!(
                thread = %self.id(),
                live_tasks = self.tasks.live_tasks(),
                "cancelled tasks still running after {grace:?}"
            );
        }
        all_ended
    }
}

/// A force under way: its end is recorded when it completes, or at once if the force is
/// dropped before (what it was waiting for, its tasks and its subtree, has been told; each
/// forced child's own guard records its end).
struct UnfinishedForce<'a> {
    core: &'a Arc<ThreadCore>,
    what: Option<String>,
}

impl UnfinishedForce<'_> {
    fn finish(&mut self) {
        if let Some(what) = self.what.take() {
            self.core.end_without_shutdown(ThreadEnd::Forced { what });
        }
    }
}

impl Drop for UnfinishedForce<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}
