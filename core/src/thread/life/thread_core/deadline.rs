//! The deadline of a thread's shutdown: set as the shutdown begins, lowered by a parent's
//! cascade, read by what the shutdown bounds (its stages, and a blocking handler, which
//! must end what it holds before it).

use std::time::Instant;

use super::{CoreState, ThreadCore};
use crate::group::lock;

impl ThreadCore {
    /// The shutdown, begun, must be done by `deadline` (the thread's own budget from the
    /// control message that began it, or its parent's deadline if sooner): kept, for what
    /// reads [`shutdown_deadline`](Self::shutdown_deadline). Set before the notice fires,
    /// so that a handler told to stop finds it.
    pub(crate) fn bound_shutdown(&self, deadline: Instant) {
        lower_cap(&mut lock(&self.state), deadline);
    }

    /// The deadline of the thread's shutdown, once it has begun: what the cascade enforces
    /// (at it, what is still running is cut short, and the thread is forced). It only ever
    /// comes sooner (a parent's cascade: see [`deadline_lowered`](Self::deadline_lowered)).
    pub(crate) fn shutdown_deadline(&self) -> Option<Instant> {
        lock(&self.state).deadline_cap
    }

    /// `deadline`, or sooner if a terminate brought a sooner one once the shutdown had
    /// begun (see `deadline_cap`).
    pub(crate) fn capped(&self, deadline: Instant) -> Instant {
        lock(&self.state)
            .deadline_cap
            .map_or(deadline, |cap| cap.min(deadline))
    }

    /// Completes the next time a terminate lowers the deadline of this thread's shutdown.
    pub(crate) fn deadline_lowered(&self) -> crate::sync::EventListener {
        crate::notify::listen(&self.deadline_lowered)
    }
}

/// Lowers the deadline of the thread's shutdown to `deadline`, if that is sooner.
pub(super) fn lower_cap(state: &mut CoreState, deadline: Instant) {
    let cap = state.deadline_cap.map_or(deadline, |cap| cap.min(deadline));
    state.deadline_cap = Some(cap);
}
