//! A thread's [`ThreadReport`], made from its core once it has ended, and its parent's
//! record of the children that ended.

use std::time::Instant;

use super::ThreadCore;
use crate::group::lock;
use crate::thread::definition::ThreadEnd;
use crate::thread::report::ThreadReport;

impl ThreadCore {
    /// The thread's report, once it has ended.
    pub(crate) fn report(&self) -> Option<ThreadReport> {
        let state = lock(&self.state);
        let ended = state.end.as_deref()?;
        let (children, not_kept) = state.children.ended_snapshot();
        let mut report = self.report_ending(ended.end.clone(), ended.at);
        report.children = children;
        report.not_kept = not_kept;
        Some(report)
    }

    /// A report for a thread whose end was not recorded (its task ended without it).
    pub(crate) fn report_of(&self, end: ThreadEnd) -> ThreadReport {
        self.report()
            .unwrap_or_else(|| self.report_ending(end, Instant::now()))
    }

    /// The report of this thread ending `end` at `at`, without children.
    fn report_ending(&self, end: ThreadEnd, at: Instant) -> ThreadReport {
        ThreadReport {
            id: self.id().to_string(),
            info: self.info().to_owned(),
            end,
            lifetime: self.started.until(at),
            restarts: Vec::new(),
            restarts_not_kept: 0,
            children: Vec::new(),
            not_kept: Default::default(),
            thread: self.address(),
        }
    }

    /// Which thread this is, while it lives: its core's address.
    fn address(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// The ended `child`'s report becomes a restart of its next incarnation.
    pub(crate) fn child_restarting(&self, child: &ThreadCore) {
        // Made first, the child's lock let go: the parent's report may not have kept it.
        let made = child.report();
        lock(&self.state)
            .children
            .ended_children()
            .restarting(child.address(), made);
    }
}
