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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::ThreadCore;
    use crate::test_runtime::TestRuntime;
    use crate::thread::definition::ThreadConfig;
    use crate::{RawOutput, RawTask, Runtime};

    /// A task its runtime refused: it reads as cancelled.
    struct Refused;

    impl RawTask for Refused {
        fn cancel(&mut self) {}
        fn poll_end(
            &mut self,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<RawOutput>> {
            std::task::Poll::Ready(None)
        }
    }

    fn core() -> std::sync::Arc<ThreadCore> {
        let config = ThreadConfig::default();
        // A core alone asks for no spawn: a runtime refusing every one, dropping the future.
        let unused = TestRuntime {
            name: "unused",
            spawn: |future| {
                drop(future);
                Box::new(Refused) as Box<dyn RawTask>
            },
        };
        ThreadCore::new("t".into(), "t".into(), Runtime::new(unused), config)
    }

    /// Issue 15's review: a thread whose shutdown began with no control message (a
    /// handler's `Stop`) took its parent's later terminate as its first control message,
    /// which no loop reads, and kept its own deadline.
    #[test]
    fn a_parent_s_sooner_deadline_bounds_a_thread_that_stopped_by_itself() {
        let core = core();
        let own = Instant::now() + Duration::from_secs(60);
        core.bound_shutdown(own);
        let parents = Instant::now() + Duration::from_secs(1);
        core.terminate(Some(parents));
        assert_eq!(core.shutdown_deadline(), Some(parents));
        // Only ever sooner.
        core.terminate(Some(own));
        assert_eq!(core.shutdown_deadline(), Some(parents));
    }

    /// Before its shutdown, a terminate is the loop's control message, whose deadline the
    /// shutdown takes when it begins (`Pending::new`).
    #[test]
    fn before_its_shutdown_a_terminate_s_deadline_waits_for_the_loop() {
        let core = core();
        core.terminate(Some(Instant::now() + Duration::from_secs(1)));
        assert_eq!(core.shutdown_deadline(), None);
        assert!(core.has_control());
    }
}
