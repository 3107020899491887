//! The runaway-rescheduling warning: a slot whose task reschedules itself, run after run,
//! without ever waiting on anything, faster than its thread's
//! [`runaway_rate`](crate::ThreadConfig::runaway_rate), is warned about once, with its
//! thread, its name and the rate.
//!
//! On by default (10,000 a second): the manual calls such a loop a bug (it keeps a worker
//! busy and starves what shares it), a warning that must be turned on is only seen by who
//! already suspects the bug, and watching costs a task next to nothing: a counter per run
//! that did not wait, a clock read when such a streak begins and every
//! [`WINDOW`] runs of it, and nothing at all for a task whose runs wait.

use std::num::NonZeroU32;
use std::time::Instant;

use crate::slot::SlotShared;

/// How many runs in a row without a wait make one measurement of the rate.
pub(crate) const WINDOW: u16 = 1_000;

/// The default [`runaway_rate`](crate::ThreadConfig::runaway_rate), and the rate of a bare
/// [`TaskGroup`](crate::TaskGroup)'s slots: reschedules a second without a wait.
pub const DEFAULT_RUNAWAY_RATE: NonZeroU32 = NonZeroU32::new(10_000).unwrap();

/// A task's streak of runs that rescheduled without waiting: 6 bytes, so that it fits
/// where the task's future had padding.
#[derive(Default)]
pub(crate) struct Streak {
    /// Runs in a row without a wait, since `since`.
    runs: u16,
    /// When the streak (or its current window) began: milliseconds since the process's
    /// first thread, wrapping (a window is far shorter than the 49 days it takes).
    since: u32,
}

impl Streak {
    /// A run of `slot`'s task rescheduled; `waited`: it returned `Pending` at least once.
    #[inline]
    pub(crate) fn rescheduled(&mut self, waited: bool, slot: &SlotShared) {
        if waited {
            self.runs = 0;
            return;
        }
        if self.runs == 0 {
            self.since = now_millis();
        }
        self.runs += 1;
        if self.runs == WINDOW {
            self.measure(slot);
        }
    }

    #[cold]
    fn measure(&mut self, slot: &SlotShared) {
        let elapsed = now_millis().wrapping_sub(self.since).max(1);
        self.runs = 0;
        let per_second = u64::from(WINDOW) * 1_000 / u64::from(elapsed);
        let Some(limit) = slot.runaway_rate() else {
            return;
        };
        if per_second > u64::from(limit.get()) && slot.first_runaway_warning() {
            tracing::warn!(
                thread = %slot.group.owner,
                slot = %slot.name,
                per_second,
                "task '{}' of thread '{}' reschedules itself about {per_second} times a second \
                 without waiting on anything (above {limit} a second): a busy loop that keeps \
                 its worker from other tasks; wait on something, or sleep, between runs \
                 (warned once per slot)",
                slot.name,
                slot.group.owner,
            );
        }
    }
}

fn now_millis() -> u32 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    // Truncated on purpose: only differences are used, wrapping.
    epoch.elapsed().as_millis() as u32
}
