//! [`RestartPolicy`]: when a supervised child is restarted, how often at most, and after
//! how long a wait.

use std::time::Duration;

/// How a supervised child (see
/// [`ThreadCx::spawn_supervised`](crate::ThreadCx::spawn_supervised)) or a slot's task
/// (see [`TaskSlot::re_create_supervised`](crate::TaskSlot::re_create_supervised)) is
/// restarted: which ends are restarted, how many restarts are too many, and how long to
/// wait before each.
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::{Backoff, Intensity, Restart, RestartPolicy};
///
/// // A connection pool: a worker that fails is replaced after 50 ms, then 100, 200, ...
/// // at most 2 s (each wait drawn from its upper half); more than 5 restarts within a
/// // minute means something is wrong above it.
/// let pool = RestartPolicy {
///     restart: Restart::OnFailure,
///     intensity: Intensity { max_restarts: 5, within: Duration::from_secs(60) },
///     backoff: Backoff {
///         min: Duration::from_millis(50),
///         max: Duration::from_secs(2),
///         ..Backoff::default()
///     },
/// };
/// assert_eq!(pool.backoff.delay(1, 1.0), Duration::from_millis(50));
/// assert_eq!(pool.backoff.delay(3, 0.0), Duration::from_millis(100));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RestartPolicy {
    /// Which ends are restarted (default: [`Restart::OnFailure`]).
    pub restart: Restart,
    /// How many restarts are too many: past it, the parent fails (default: 3 within 5 s).
    pub intensity: Intensity,
    /// How long to wait before each restart (default: 10 ms doubling to 5 s, with jitter).
    pub backoff: Backoff,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            restart: Restart::OnFailure,
            intensity: Intensity::default(),
            backoff: Backoff::default(),
        }
    }
}

/// Which ends of a supervised child are restarted (OTP's `restart` of a child spec).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Never (OTP's `temporary`): the parent sees the end and the child is gone.
    Never,
    /// When it failed ([`ThreadEnd::Failed`](crate::ThreadEnd::Failed): an error or a
    /// panic, in `enter` too) or was forced ([`ThreadEnd::Forced`](crate::ThreadEnd::Forced)),
    /// not when it stopped (OTP's `transient`).
    OnFailure,
    /// Whenever it ends while its parent runs, a clean stop too (OTP's `permanent`). To end
    /// such a child for good, [stop supervising](crate::ThreadCx::stop_supervising) it first.
    Always,
}

/// OTP's restart intensity: more than `max_restarts` restarts within `within` and the
/// parent gives up: it fails ([`Escalation`](super::Escalation)), and its own parent's
/// policy decides what happens to it. Counted per child under
/// [`Strategy::OneForOne`], per group under [`Strategy::OneForAll`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Intensity {
    /// The restarts allowed within the period (0: the first failure escalates).
    pub max_restarts: u32,
    /// The sliding period over which restarts are counted; zero counts every restart of
    /// the child's (or group's) whole life.
    pub within: Duration,
}

impl Default for Intensity {
    fn default() -> Self {
        Intensity {
            max_restarts: 3,
            within: Duration::from_secs(5),
        }
    }
}

/// The wait before a restart: `min` for the first restart in a row, doubled for each next
/// one up to `max`. A child that ran `reset_after` or longer before it ended starts again
/// from `min`. With `jitter`, each wait is drawn between half of it and all of it, so that
/// children that failed together do not restart together.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The first wait (default 10 ms).
    pub min: Duration,
    /// The longest wait (default 5 s).
    pub max: Duration,
    /// How long a child must run for its next restart to wait `min` again (default 30 s).
    pub reset_after: Duration,
    /// Whether waits are spread at random over `[wait / 2, wait]` (default true).
    pub jitter: bool,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            min: Duration::from_millis(10),
            max: Duration::from_secs(5),
            reset_after: Duration::from_secs(30),
            jitter: true,
        }
    }
}

impl Backoff {
    /// No wait at all: restarts at once (still bounded by the intensity). The restarts in
    /// a row are never reset, so [`attempt`](super::RestartDecision::Restart) counts them all.
    pub const NONE: Backoff = Backoff {
        min: Duration::ZERO,
        max: Duration::ZERO,
        reset_after: Duration::MAX,
        jitter: false,
    };

    /// The wait before the `attempt`-th restart in a row (1 for the first), given a
    /// random draw `spread` in `[0, 1]` (used only with `jitter`).
    #[must_use]
    pub fn delay(&self, attempt: u32, spread: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        let wait = self
            .min
            .saturating_mul(1 << doublings)
            .min(self.max.max(self.min));
        if !self.jitter {
            return wait;
        }
        // Within [wait / 2, wait]; computed in floating point, so a wait near
        // `Duration::MAX` keeps its whole length rather than overflow.
        let factor = 0.5 + 0.5 * spread.clamp(0.0, 1.0);
        Duration::try_from_secs_f64(wait.as_secs_f64() * factor)
            .map_or(wait, |spread| spread.min(wait))
    }
}

/// What a child's restart takes with it (OTP's supervisor strategies).
///
/// Left out: OTP's `rest_for_one` (a failure restarts the children started after the
/// failing one), because a thread's children have no start order a program could rely on
/// once some have been restarted, and a group says the same thing by name; and
/// `simple_one_for_one`, which is what [`Strategy::OneForOne`] with a factory already is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// A child is restarted alone.
    OneForOne,
    /// A child whose end is restarted takes the other children of its group with it: they
    /// are terminated, and all are started again (in the order they were first started)
    /// once the wait is over. The group is named by the parent; the intensity counts the
    /// group's restarts.
    OneForAll {
        /// The group's name, among the parent's groups.
        group: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_wait_doubles_from_min_to_max() {
        let backoff = Backoff {
            min: ms(10),
            max: ms(50),
            jitter: false,
            ..Backoff::default()
        };
        let waits: Vec<_> = (1..=5).map(|n| backoff.delay(n, 0.0)).collect();
        assert_eq!(waits, [ms(10), ms(20), ms(40), ms(50), ms(50)]);
        // No overflow, however many restarts in a row.
        assert_eq!(backoff.delay(u32::MAX, 0.0), ms(50));
    }

    #[test]
    fn jitter_spreads_a_wait_over_its_upper_half() {
        let backoff = Backoff {
            min: ms(100),
            ..Backoff::default()
        };
        assert_eq!(backoff.delay(1, 0.0), ms(50));
        assert_eq!(backoff.delay(1, 1.0), ms(100));
        assert_eq!(backoff.delay(2, 0.5), ms(150));
    }

    #[test]
    fn the_longest_wait_does_not_overflow() {
        let backoff = Backoff {
            min: Duration::MAX,
            max: Duration::MAX,
            ..Backoff::default()
        };
        assert!(backoff.delay(3, 1.0) <= Duration::MAX);
        assert!(backoff.delay(3, 0.0) >= Duration::MAX / 3);
    }

    #[test]
    fn no_backoff_waits_nothing() {
        assert_eq!(Backoff::NONE.delay(7, 0.3), Duration::ZERO);
    }
}
