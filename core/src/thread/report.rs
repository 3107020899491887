//! [`ThreadReport`]: how a thread and its subtree lived and ended, for the operator to read
//! at the end of a program. A parent's record of its ended children, from which its report
//! is made, is in `ended_children`.

mod ended_children;

pub(crate) use ended_children::EndedChildren;

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
