//! [`ThreadReport`]: how a thread and its subtree lived and ended, for the operator to read
//! at the end of a program.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::definition::ThreadEnd;

/// How a thread lived and ended, with its children's reports: what
/// [`run`](crate::run) returns (and logs), and [`ThreadHandle::report`](crate::ThreadHandle::report)
/// gives once a thread has ended. `Display` prints it as an indented tree:
///
/// ```text
/// server (12.31s): stopped
/// ├── listener (12.30s): stopped
/// ├── worker (3.20s): stopped, restarted 2 times
/// │         restart 1 (0.40s): failed in task work: panicked: bad input
/// │         restart 2 (0.01s): failed in enter: connection refused
/// └── 9,900 more children ended, not kept: 9,899 stopped, 1 failed
/// ```
///
/// A parent keeps the reports of its first [`KEPT_CHILDREN`](Self::KEPT_CHILDREN) ended
/// children, and past that replaces a stopped one by one that failed or was forced; the
/// others are counted, so that a server's report stays small after a million connections.
/// A supervised child's restarts are listed with its report (the last
/// [`KEPT_RESTARTS`](Self::KEPT_RESTARTS), and their count).
///
/// ```
/// use task_thread_core::{Backend, LeafThread, ThreadEnd};
///
/// struct Main;
/// impl LeafThread for Main {
///     type Signal = ();
///     type Output = ();
/// }
///
/// fn main_of_a_program(backend: impl Backend) -> std::process::ExitCode {
///     // `run` has logged the report; the program may look into it too.
///     let report = backend.block_on(|rt| async move { task_thread_core::run(&rt, Main).await });
///     let failed = report.children().filter(|c| matches!(c.end(), ThreadEnd::Failed(_)));
///     if failed.count() > 0 && *report.end() == ThreadEnd::Stopped {
///         return std::process::ExitCode::from(2); // it ran, but not all of it well
///     }
///     report.end().exit_code()
/// }
/// ```
#[derive(Clone, Debug)]
pub struct ThreadReport {
    pub(crate) id: String,
    pub(crate) info: String,
    pub(crate) end: ThreadEnd,
    pub(crate) lifetime: Duration,
    pub(crate) restarts: Vec<Restarted>,
    pub(crate) restarts_not_kept: usize,
    pub(crate) children: Vec<Arc<ThreadReport>>,
    pub(crate) not_kept: NotKept,
    /// Which thread it is (its core's address, while the thread is alive): a restarted
    /// child's report is told from an earlier child's of the same id by this.
    pub(crate) thread: usize,
}

/// One incarnation of a supervised child that ended and was restarted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restarted {
    pub(crate) end: ThreadEnd,
    pub(crate) lived: Duration,
}

impl Restarted {
    /// How the incarnation ended.
    #[must_use]
    pub fn end(&self) -> &ThreadEnd {
        &self.end
    }

    /// How long it ran.
    #[must_use]
    pub fn lived(&self) -> Duration {
        self.lived
    }
}

/// How many ended children a report counts without keeping, by how they ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotKept {
    /// Ended [`ThreadEnd::Stopped`].
    pub stopped: usize,
    /// Ended [`ThreadEnd::Failed`].
    pub failed: usize,
    /// Ended otherwise ([`ThreadEnd::Forced`]).
    pub forced: usize,
}

impl NotKept {
    /// All of them.
    #[must_use]
    pub fn total(&self) -> usize {
        self.stopped + self.failed + self.forced
    }

    fn count(&mut self, end: &ThreadEnd) {
        *self.kind(end) += 1;
    }

    fn uncount(&mut self, end: &ThreadEnd) {
        let count = self.kind(end);
        *count = count.saturating_sub(1);
    }

    fn kind(&mut self, end: &ThreadEnd) -> &mut usize {
        match end {
            ThreadEnd::Stopped => &mut self.stopped,
            ThreadEnd::Failed(_) => &mut self.failed,
            _ => &mut self.forced,
        }
    }
}

impl ThreadReport {
    /// How many ended children's reports a parent keeps.
    pub const KEPT_CHILDREN: usize = 100;
    /// How many restarts a child's report keeps.
    pub const KEPT_RESTARTS: usize = 10;

    /// The thread's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The thread's info.
    #[must_use]
    pub fn info(&self) -> &str {
        &self.info
    }

    /// How it ended (its last incarnation, for a restarted child).
    #[must_use]
    pub fn end(&self) -> &ThreadEnd {
        &self.end
    }

    /// How long it ran, from its start to its end (its last incarnation's).
    #[must_use]
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// The incarnations before the last, for a restarted child, oldest first (the last
    /// [`KEPT_RESTARTS`](Self::KEPT_RESTARTS)).
    #[must_use]
    pub fn restarts(&self) -> &[Restarted] {
        &self.restarts
    }

    /// How many times it was restarted in all.
    #[must_use]
    pub fn restart_count(&self) -> usize {
        self.restarts.len() + self.restarts_not_kept
    }

    /// The reports of its children that were kept, in the order they ended.
    pub fn children(&self) -> impl ExactSizeIterator<Item = &ThreadReport> {
        self.children.iter().map(|child| &**child)
    }

    /// The children that ended without their report being kept.
    #[must_use]
    pub fn children_not_kept(&self) -> NotKept {
        self.not_kept
    }

    fn write_tree(&self, f: &mut fmt::Formatter<'_>, prefix: &str) -> fmt::Result {
        let children = self.children.len() + usize::from(self.not_kept.total() > 0);
        // Lines under this one: its restarts, then its children, indented past the branch.
        let below = |last_child: bool| {
            let bar = if last_child { "    " } else { "│   " };
            format!("{prefix}{bar}")
        };
        for (n, restart) in self.restarts.iter().enumerate() {
            let number = n + 1 + self.restarts_not_kept;
            let bar = if children > 0 { "│" } else { " " };
            writeln!(
                f,
                "{prefix}{bar}         restart {number} ({}): {}",
                seconds(restart.lived),
                restart.end
            )?;
        }
        for (n, child) in self.children.iter().enumerate() {
            let last = n + 1 == children;
            let branch = if last { "└── " } else { "├── " };
            write!(f, "{prefix}{branch}")?;
            child.write_line(f)?;
            child.write_tree(f, &below(last))?;
        }
        let not_kept = self.not_kept;
        if not_kept.total() > 0 {
            let kinds = [
                (not_kept.stopped, "stopped"),
                (not_kept.failed, "failed"),
                (not_kept.forced, "forced"),
            ];
            let kinds: Vec<String> = kinds
                .iter()
                .filter(|(count, _)| *count > 0)
                .map(|(count, kind)| format!("{} {kind}", thousands(*count)))
                .collect();
            let more = if self.children.is_empty() {
                ""
            } else {
                " more"
            };
            writeln!(
                f,
                "{prefix}└── {}{more} children ended, not kept: {}",
                thousands(not_kept.total()),
                kinds.join(", ")
            )?;
        }
        Ok(())
    }

    fn write_line(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)?;
        if self.info != self.id {
            write!(f, " [{}]", self.info)?;
        }
        write!(f, " ({}): {}", seconds(self.lifetime), self.end)?;
        match self.restart_count() {
            0 => writeln!(f),
            1 => writeln!(f, ", restarted once"),
            n => writeln!(f, ", restarted {n} times"),
        }
    }
}

impl fmt::Display for ThreadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_line(f)?;
        self.write_tree(f, "")
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.2}s", duration.as_secs_f64())
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// When a thread started, in 8 bytes rather than an `Instant`'s 16: nanoseconds since the
/// process's first thread (every idle thread carries one).
#[derive(Clone, Copy)]
pub(crate) struct StartTime(u64);

fn epoch() -> std::time::Instant {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

impl StartTime {
    pub(crate) fn now() -> Self {
        let nanos = epoch().elapsed().as_nanos();
        StartTime(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// The instant of this start.
    pub(crate) fn instant(self) -> std::time::Instant {
        epoch() + Duration::from_nanos(self.0)
    }

    /// How long from this start to `at`.
    pub(crate) fn until(self, at: std::time::Instant) -> Duration {
        let at = at.saturating_duration_since(epoch());
        at.saturating_sub(Duration::from_nanos(self.0))
    }
}

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
