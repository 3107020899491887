//! What a parent decides when a supervised child ends ([`RestartDecision`]), how it counts
//! restarts (`RestartHistory`), and the error it fails with when they are too many
//! ([`Escalation`]).

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use super::policy::{Restart, RestartPolicy};
use crate::thread::definition::ThreadEnd;

/// What the parent did about a supervised child's end: seen in
/// [`on_child_ended`](crate::TaskThread::on_child_ended) through
/// [`ChildRef::restart`](crate::ChildRef::restart), before the restart happens.
///
/// ```
/// use task_thread_core::{ChildRef, Flow, RestartDecision, TaskThread, ThreadCx, ThreadEnd};
///
/// struct Pool;
///
/// impl TaskThread for Pool {
///     type Signal = ();
///     type Output = ();
///     type ChildOutput = ();
///
///     async fn on_child_ended(&mut self, child: &ChildRef, end: ThreadEnd, _: &ThreadCx<Self>) -> Flow {
///         match child.restart() {
///             Some(RestartDecision::Restart { attempt, after }) => {
///                 tracing::warn!("{} {end}: restart {attempt} in {after:?}", child.id())
///             }
///             Some(RestartDecision::Escalate) => tracing::error!("{} keeps failing", child.id()),
///             _ => {}
///         }
///         Flow::Continue
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestartDecision {
    /// Started again under the same id after `after`: the `attempt`-th restart in a row
    /// (it goes back to 1 once a child has run its policy's `reset_after`).
    Restart {
        /// The restarts in a row, this one included.
        attempt: u32,
        /// The wait before the new start.
        after: Duration,
    },
    /// Terminated because `cause`, another child of its group, ended
    /// ([`Strategy::OneForAll`](super::Strategy::OneForAll)): it starts again with the group.
    RestartWithGroup {
        /// The id of the child whose end restarts the group.
        cause: String,
    },
    /// Not restarted: the policy does not restart this end, the parent is ending, or its
    /// first start failed. It is no longer supervised.
    LetEnd,
    /// Not restarted: the restarts went past the policy's intensity, and the parent fails
    /// with an [`Escalation`].
    Escalate,
}

/// Why a thread failed: a supervised child (or group) or a supervised task went past its
/// restart intensity. The thread's end is [`ThreadEnd::Failed`] with this error; `during`
/// reads `"supervising <child id>"` for a child, `"task <slot name>"` for a task.
///
/// ```
/// use task_thread_core::{Escalation, ThreadEnd};
///
/// fn what_kept_failing(end: &ThreadEnd) -> Option<&str> {
///     let ThreadEnd::Failed(failure) = end else { return None };
///     failure.downcast_ref::<Escalation>().map(Escalation::supervised)
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Escalation {
    pub(crate) supervised: String,
    pub(crate) is_task: bool,
    pub(crate) restarts: u32,
    pub(crate) within: Duration,
    pub(crate) last_end: ThreadEnd,
}

impl Escalation {
    /// The id of the child, or the name of the task's slot, that went past the intensity.
    #[must_use]
    pub fn supervised(&self) -> &str {
        &self.supervised
    }

    /// Whether it is a task (a slot's), not a child.
    #[must_use]
    pub fn is_task(&self) -> bool {
        self.is_task
    }

    /// How it ended the last time (a task's panic reads as a failure of `task <name>`).
    #[must_use]
    pub fn last_end(&self) -> &ThreadEnd {
        &self.last_end
    }

    /// The restarts allowed within [`within`](Self::within), all used.
    #[must_use]
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// The policy's period.
    #[must_use]
    pub fn within(&self) -> Duration {
        self.within
    }
}

impl fmt::Display for Escalation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_task { "task" } else { "child" };
        write!(
            f,
            "{kind} {} ended ({}) after {} restarts within {:?}: giving up",
            self.supervised, self.last_end, self.restarts, self.within
        )
    }
}

impl std::error::Error for Escalation {}

/// The restarts of one child (or one group) that count: those within the policy's period,
/// and how many came in a row.
#[derive(Default)]
pub(crate) struct RestartHistory {
    recent: VecDeque<Instant>,
    in_a_row: u32,
}

impl RestartHistory {
    /// Decides about an `end` at `now` of a child that started at `started`, and counts the
    /// restart if there is one. `spread` is the jitter's draw, in `[0, 1]`.
    pub(crate) fn decide(
        &mut self,
        policy: &RestartPolicy,
        end: &ThreadEnd,
        started: Instant,
        now: Instant,
        spread: f64,
    ) -> RestartDecision {
        let restarts = match policy.restart {
            Restart::Never => false,
            Restart::OnFailure => *end != ThreadEnd::Stopped,
            Restart::Always => true,
        };
        if !restarts {
            return RestartDecision::LetEnd;
        }
        let intensity = policy.intensity;
        // A zero period forgets nothing (a window of no time would let every restart
        // through, and a child failing at once would restart without end).
        while let Some(&first) = self.recent.front() {
            let forgotten = now.saturating_duration_since(first) >= intensity.within;
            if intensity.within.is_zero() || !forgotten {
                break;
            }
            self.recent.pop_front();
        }
        if self.recent.len() >= intensity.max_restarts as usize {
            return RestartDecision::Escalate;
        }
        if now.saturating_duration_since(started) >= policy.backoff.reset_after {
            self.in_a_row = 0;
        }
        self.in_a_row = self.in_a_row.saturating_add(1);
        self.recent.push_back(now);
        RestartDecision::Restart {
            attempt: self.in_a_row,
            after: policy.backoff.delay(self.in_a_row, spread),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thread::supervision::policy::{Backoff, Intensity};

    fn policy(restart: Restart, max_restarts: u32) -> RestartPolicy {
        RestartPolicy {
            restart,
            intensity: Intensity {
                max_restarts,
                within: Duration::from_secs(10),
            },
            backoff: Backoff {
                min: Duration::from_millis(10),
                max: Duration::from_secs(1),
                reset_after: Duration::from_secs(3),
                jitter: false,
            },
        }
    }

    fn failed() -> ThreadEnd {
        ThreadEnd::Forced {
            what: "exit".into(),
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn the_policy_picks_which_ends_restart() {
        let t0 = Instant::now();
        let decide = |restart, end: &ThreadEnd| {
            RestartHistory::default().decide(&policy(restart, 5), end, t0, t0, 0.0)
        };
        let first = RestartDecision::Restart {
            attempt: 1,
            after: Duration::from_millis(10),
        };
        assert_eq!(decide(Restart::Never, &failed()), RestartDecision::LetEnd);
        assert_eq!(decide(Restart::OnFailure, &failed()), first);
        assert_eq!(
            decide(Restart::OnFailure, &ThreadEnd::Stopped),
            RestartDecision::LetEnd
        );
        assert_eq!(decide(Restart::Always, &ThreadEnd::Stopped), first);
    }

    #[test]
    fn more_restarts_than_the_intensity_within_its_period_escalate() {
        let policy = policy(Restart::OnFailure, 2);
        let mut history = RestartHistory::default();
        let t0 = Instant::now();
        let mut at = |s| history.decide(&policy, &failed(), t0, t0 + secs(s), 0.0);
        assert!(matches!(at(0), RestartDecision::Restart { attempt: 1, .. }));
        assert!(matches!(at(1), RestartDecision::Restart { attempt: 2, .. }));
        assert_eq!(at(2), RestartDecision::Escalate);
        // The restart at 0 s has left the 10 s window by 10 s: one more is allowed.
        assert!(matches!(at(10), RestartDecision::Restart { .. }));
    }

    #[test]
    fn a_child_that_ran_long_enough_waits_the_shortest_time_again() {
        let policy = policy(Restart::OnFailure, 100);
        let mut history = RestartHistory::default();
        let t0 = Instant::now();
        let mut ended =
            |started, s| history.decide(&policy, &failed(), t0 + secs(started), t0 + secs(s), 0.0);
        let waits: Vec<_> = [ended(0, 0), ended(0, 1), ended(1, 2), ended(2, 10)]
            .into_iter()
            .map(|decision| match decision {
                RestartDecision::Restart { attempt, after } => (attempt, after.as_millis()),
                other => panic!("{other:?}"),
            })
            .collect();
        // Three in a row double; the fourth ran 8 s (past reset_after, 3 s): back to 10 ms.
        assert_eq!(waits, [(1, 10), (2, 20), (3, 40), (1, 10)]);
    }

    #[test]
    fn a_zero_period_counts_every_restart() {
        let mut policy = policy(Restart::OnFailure, 2);
        policy.intensity.within = Duration::ZERO;
        let mut history = RestartHistory::default();
        let t0 = Instant::now();
        let mut at = |s| history.decide(&policy, &failed(), t0, t0 + secs(s), 0.0);
        assert!(matches!(at(0), RestartDecision::Restart { .. }));
        assert!(matches!(at(100), RestartDecision::Restart { .. }));
        assert_eq!(at(10_000), RestartDecision::Escalate);
    }

    #[test]
    fn zero_restarts_allowed_escalates_at_once() {
        let t0 = Instant::now();
        let mut history = RestartHistory::default();
        let decision = history.decide(&policy(Restart::Always, 0), &failed(), t0, t0, 0.0);
        assert_eq!(decision, RestartDecision::Escalate);
    }
}
