//! A parent's record of its ended children while it lives: which reports it keeps, which
//! it only counts, and which wait for a supervised child's restart.

use std::sync::Arc;

use super::{NotKept, Restarted, ThreadReport};
use crate::thread::definition::ThreadEnd;

/// A parent's record of its ended children, kept while it lives.
#[derive(Default)]
pub(crate) struct EndedChildren {
    kept: Vec<Arc<ThreadReport>>,
    not_kept: NotKept,
    /// Supervised children waiting for their restart, by id: the ended incarnation's
    /// report, with the restarts before it. If the parent ends first, that report is the
    /// child's last.
    waiting_restart: std::collections::HashMap<Arc<str>, ThreadReport>,
}

impl EndedChildren {
    /// Whether the report of the child `id` ending so is wanted: kept, or carrying the
    /// restarts waiting for it; if not, the end is counted now, and the report need not be
    /// made (most of a busy server's ends).
    pub(crate) fn takes(&mut self, id: &str, end: &ThreadEnd) -> bool {
        let takes = self.kept.len() < ThreadReport::KEPT_CHILDREN
            || *end != ThreadEnd::Stopped
            || self.waiting_restart.contains_key(id);
        if !takes {
            self.not_kept.count(end);
        }
        takes
    }

    /// Records a child's report, with the restarts it had before.
    pub(crate) fn record(&mut self, mut report: ThreadReport) {
        if let Some(previous) = self.waiting_restart.remove(report.id.as_str()) {
            report.restarts = previous.restarts;
            report.restarts_not_kept = previous.restarts_not_kept;
            report.restarts.push(Restarted {
                end: previous.end,
                lived: previous.lifetime,
            });
            let excess = report
                .restarts
                .len()
                .saturating_sub(ThreadReport::KEPT_RESTARTS);
            report.restarts.drain(..excess);
            report.restarts_not_kept += excess;
        }
        if self.kept.len() < ThreadReport::KEPT_CHILDREN {
            self.kept.push(Arc::new(report));
            return;
        }
        let stopped = self
            .kept
            .iter()
            .position(|kept| kept.end == ThreadEnd::Stopped);
        match stopped {
            Some(stopped) if report.end != ThreadEnd::Stopped => {
                let replaced = self.kept.remove(stopped);
                self.not_kept.count(&replaced.end);
                self.kept.push(Arc::new(report));
            }
            _ => self.not_kept.count(&report.end),
        }
    }

    /// The ended child's report (that of the thread `thread`, or `made` if it was not
    /// kept: then its end was counted, and is no longer) waits for its next incarnation's,
    /// which it becomes a restart of.
    pub(crate) fn restarting(&mut self, thread: usize, made: Option<ThreadReport>) {
        let ended = match self.kept.iter().rposition(|kept| kept.thread == thread) {
            Some(at) => {
                let kept = self.kept.remove(at);
                Arc::try_unwrap(kept).unwrap_or_else(|shared| (*shared).clone())
            }
            None => {
                let Some(made) = made else { return };
                self.not_kept.uncount(&made.end);
                made
            }
        };
        self.waiting_restart.insert(ended.id.as_str().into(), ended);
    }

    /// The kept reports (those waiting for a restart last) and the count of the others.
    pub(crate) fn snapshot(&self) -> (Vec<Arc<ThreadReport>>, NotKept) {
        let mut reports = self.kept.clone();
        let waiting = self.waiting_restart.values().cloned().map(Arc::new);
        reports.extend(waiting);
        (reports, self.not_kept)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn report(id: &str, end: ThreadEnd, children: Vec<ThreadReport>) -> ThreadReport {
        ThreadReport {
            id: id.into(),
            info: id.into(),
            end,
            lifetime: Duration::from_millis(1500),
            restarts: Vec::new(),
            restarts_not_kept: 0,
            children: children.into_iter().map(Arc::new).collect(),
            not_kept: NotKept::default(),
            thread: 0,
        }
    }

    fn forced() -> ThreadEnd {
        ThreadEnd::Forced {
            what: "exit".into(),
        }
    }

    #[test]
    fn a_report_prints_as_an_indented_tree() {
        let mut book = EndedChildren::default();
        book.record(report("worker", forced(), Vec::new()));
        book.restarting(0, None);
        book.record(report(
            "worker",
            ThreadEnd::Stopped,
            vec![report("job", ThreadEnd::Stopped, vec![])],
        ));
        book.record(report("listener", ThreadEnd::Stopped, Vec::new()));
        let (children, not_kept) = book.snapshot();
        let mut root = report("server", ThreadEnd::Stopped, Vec::new());
        root.children = children;
        root.not_kept = not_kept;
        root.not_kept.stopped = 9_899;
        root.not_kept.failed = 1;
        assert_eq!(
            root.to_string(),
            "server (1.50s): stopped\n\
             ├── worker (1.50s): stopped, restarted once\n\
             │   │         restart 1 (1.50s): forced to end: exit\n\
             │   └── job (1.50s): stopped\n\
             ├── listener (1.50s): stopped\n\
             └── 9,900 more children ended, not kept: 9,899 stopped, 1 failed\n"
        );
    }

    #[test]
    fn past_its_bound_a_parent_keeps_failures_and_counts_stops() {
        let mut book = EndedChildren::default();
        for n in 0..ThreadReport::KEPT_CHILDREN + 5 {
            book.record(report(&format!("c{n}"), ThreadEnd::Stopped, Vec::new()));
        }
        book.record(report("bad", forced(), Vec::new()));
        let (kept, not_kept) = book.snapshot();
        assert_eq!(kept.len(), ThreadReport::KEPT_CHILDREN);
        assert_eq!(kept.last().unwrap().id(), "bad");
        assert_eq!(kept[0].id(), "c1", "the oldest stopped one made room");
        assert_eq!(
            not_kept,
            NotKept {
                stopped: 6,
                failed: 0,
                forced: 0
            }
        );
    }

    #[test]
    fn a_restarted_child_ending_past_the_bound_takes_its_restarts_along() {
        let mut book = EndedChildren::default();
        book.record(report("w", forced(), Vec::new()));
        book.restarting(0, None);
        for n in 0..ThreadReport::KEPT_CHILDREN {
            book.record(report(&format!("c{n}"), ThreadEnd::Stopped, Vec::new()));
        }
        // Wanted though the bound is reached: the waiting restart must not stay behind.
        assert!(book.takes("w", &ThreadEnd::Stopped));
        assert!(!book.takes("other", &ThreadEnd::Stopped));
        book.record(report("w", ThreadEnd::Stopped, Vec::new()));
        let (kept, not_kept) = book.snapshot();
        assert_eq!(kept.len(), ThreadReport::KEPT_CHILDREN);
        assert!(kept.iter().all(|k| k.id() != "w" || k.restart_count() == 1));
        assert_eq!(not_kept.total(), 2, "the stopped w, and the other");
        assert!(
            book.waiting_restart.is_empty(),
            "nothing waits for a restart any more"
        );
    }

    #[test]
    fn a_restart_whose_report_was_not_kept_is_made_from_the_child() {
        let mut book = EndedChildren::default();
        for n in 0..ThreadReport::KEPT_CHILDREN {
            book.record(report(&format!("c{n}"), ThreadEnd::Stopped, Vec::new()));
        }
        // Stopped past the bound: counted, its report not made.
        assert!(!book.takes("w", &ThreadEnd::Stopped));
        let mut made = report("w", ThreadEnd::Stopped, Vec::new());
        made.thread = 7;
        book.restarting(7, Some(made));
        assert_eq!(
            book.snapshot().1.total(),
            0,
            "its end is a restart now, not a count"
        );
        book.record(report("w", forced(), Vec::new()));
        let (kept, _) = book.snapshot();
        let w = kept
            .iter()
            .find(|k| k.id() == "w")
            .expect("a failure is kept");
        assert_eq!(w.restarts()[0].end(), &ThreadEnd::Stopped);
    }

    #[test]
    fn a_child_keeps_its_last_restarts_and_counts_them_all() {
        let mut book = EndedChildren::default();
        for _ in 0..ThreadReport::KEPT_RESTARTS + 3 {
            book.record(report("w", forced(), Vec::new()));
            book.restarting(0, None);
        }
        book.record(report("w", ThreadEnd::Stopped, Vec::new()));
        let (kept, _) = book.snapshot();
        assert_eq!(kept[0].restarts().len(), ThreadReport::KEPT_RESTARTS);
        assert_eq!(kept[0].restart_count(), ThreadReport::KEPT_RESTARTS + 3);
    }

    #[test]
    fn a_child_still_waiting_for_its_restart_keeps_its_last_end() {
        let mut book = EndedChildren::default();
        book.record(report("w", forced(), Vec::new()));
        book.restarting(0, None);
        book.record(report("w", forced(), Vec::new()));
        book.restarting(0, None);
        let (kept, _) = book.snapshot();
        let ids: Vec<_> = kept
            .iter()
            .map(|k| (k.id(), k.end().clone(), k.restart_count()))
            .collect();
        assert_eq!(ids, [("w", forced(), 1)]);
    }
}
