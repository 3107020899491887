//! The runaway-rescheduling warning: a slot whose task runs [`WINDOW`] times in a row
//! with none of the runs returning `Pending`, faster than its thread's
//! [`runaway_rate`](crate::ThreadConfig::runaway_rate), is warned about once, with its
//! thread, its name and the rate.
//!
//! Off by default. What it can measure cheaply is whether a run returned `Pending`, and
//! that is not the bug the manual warns of (a loop that never waits on anything): a task
//! draining a backlog that is already there (each run takes a ready item) never returns
//! `Pending` and is warned about, while a busy loop that yields once a run returns it each
//! run and is not. A warning on by default would then fire for correct servers under load;
//! on demand, it is a cheap probe for who suspects a loop. Watching costs a task next to
//! nothing: a counter per run that did not wait, a clock read when such a streak begins
//! and every [`WINDOW`] runs of it, and nothing at all for a task whose runs wait.

use std::num::NonZeroU32;
use std::time::Instant;

use crate::slot::SlotShared;

/// How many runs in a row without a wait make one measurement of the rate.
pub(crate) const WINDOW: u16 = 1_000;

/// A [`runaway_rate`](crate::ThreadConfig::runaway_rate) to turn the warning on with
/// (10,000 runs a second in a row without `Pending`); the default is `None`, off.
pub const DEFAULT_RUNAWAY_RATE: NonZeroU32 = NonZeroU32::new(10_000).unwrap();

/// A task's streak of runs that rescheduled without waiting: 6 bytes, so that it fits
/// where the task's future had padding.
#[derive(Default)]
pub(crate) struct Streak {
    /// Runs in a row without a wait, since `since`.
    runs: u16,
    /// When the streak (or its current window) began: microseconds since the process's
    /// first thread, wrapping (a window that takes 71 minutes, the wrap, is no runaway).
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
            self.since = now_micros();
        }
        self.runs += 1;
        if self.runs == WINDOW {
            self.measure(slot);
        }
    }

    #[cold]
    fn measure(&mut self, slot: &SlotShared) {
        let elapsed = now_micros().wrapping_sub(self.since).max(1);
        self.runs = 0;
        // At most 10^9: a rate that high is never reached (documented on the config).
        let per_second = u64::from(WINDOW) * 1_000_000 / u64::from(elapsed);
        let Some(limit) = slot.runaway_rate() else {
            return;
        };
        if per_second > u64::from(limit.get()) && slot.first_runaway_warning() {
            tracing::warn!(
                thread = %slot.group.owner,
                slot = %slot.name,
                per_second,
                "task '{}' of thread '{}' reschedules itself about {per_second} times a second \
                 without waiting (none of its last {WINDOW} runs returned Pending; above \
                 {limit} a second): a busy loop that keeps its worker from other tasks, or a \
                 backlog of ready input being drained; wait on something between runs if it \
                 is a loop (warned once per slot)",
                slot.name,
                slot.group.owner,
            );
        }
    }
}

fn now_micros() -> u32 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    // Truncated on purpose: only differences are used, wrapping.
    epoch.elapsed().as_micros() as u32
}
