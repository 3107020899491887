//! What a thread's core keeps for supervision: its supervisor of children (typed by the
//! thread, so kept as `Any` in the registry), whether it has entered, and what its parent
//! decided about its end.

use std::any::Any;
use std::sync::atomic::Ordering;

use super::ThreadCore;
use crate::group::lock;
use crate::thread::family::registry::ChildrenById;
use crate::thread::supervision::RestartDecision;

/// How [`ThreadCore::supervisor`] reaches the supervisor.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Supervision {
    /// Only if there is one.
    Existing,
    /// Only if there is one and the thread has not been told to end: a restart checks this
    /// and marks its child running under one lock, so that no restart begins after a
    /// terminate.
    WhileRunning,
}

impl ThreadCore {
    /// Runs `act` on the thread's supervisor of children, with the registry's children
    /// beside it, under the core's lock (it must not come back to the core). `None` if
    /// `access` finds none, or if it is not an `S`.
    pub(crate) fn supervisor<S: Any + Send, R>(
        &self,
        access: Supervision,
        act: impl FnOnce(&mut S, &ChildrenById) -> R,
    ) -> Option<R> {
        let mut state = lock(&self.state);
        let refused = match access {
            Supervision::Existing => false,
            Supervision::WhileRunning => state.controlled || !state.running,
        };
        if refused {
            return None;
        }
        let (supervisor, children) = state.children.supervisor_and_children()?;
        Some(act(supervisor, children))
    }

    /// When the thread started (its core was made).
    pub(crate) fn started_at(&self) -> std::time::Instant {
        self.started.instant()
    }

    /// Records that the thread's `enter` has returned `Ok`.
    pub(crate) fn mark_entered(&self) {
        self.entered.store(true, Ordering::Release);
    }

    /// Whether the thread's `enter` has returned `Ok`.
    pub(crate) fn has_entered(&self) -> bool {
        self.entered.load(Ordering::Acquire)
    }

    /// What the parent decided about this thread's end, if it is supervised and ended.
    pub(crate) fn restart_decision(&self) -> Option<RestartDecision> {
        let state = lock(&self.state);
        state.end.as_deref()?.restart.clone()
    }

    /// Records the parent's decision about this thread's end.
    pub(crate) fn decided(&self, decision: RestartDecision) {
        if let Some(ended) = lock(&self.state).end.as_deref_mut() {
            ended.restart = Some(decision);
        }
    }
}
