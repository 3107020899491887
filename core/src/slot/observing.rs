//! What is read of a slot besides its task: its state for a snapshot, its runs for its
//! thread's counters, whether it has been warned about as a runaway.

use std::sync::atomic::Ordering;

use super::{InFlight, SlotShared, SlotState};
use crate::group::lock;
use crate::thread::{SlotActivity, SlotSnapshot};

/// A forgotten slot's runs still count in its thread's.
impl Drop for SlotShared {
    fn drop(&mut self) {
        let runs = self.runs(&lock(&self.state));
        if runs > 0 {
            if let Some(hook) = self.group.owner_hook() {
                hook.slot_forgotten(runs);
            }
        }
    }
}

impl SlotShared {
    /// The runs its tasks have started or been scheduled for: the generations that were
    /// runs, and the later runs of its `Task`-form tasks, which loop in one generation.
    pub(crate) fn runs(&self, state: &SlotState) -> u64 {
        state
            .runs()
            .wrapping_add(self.looped_runs.load(Ordering::Relaxed))
    }

    /// The rate of reschedules without a wait above which this slot is warned about: its
    /// thread's (`None`: off, the default); a bare group's slots are never warned about.
    pub(crate) fn runaway_rate(&self) -> Option<std::num::NonZeroU32> {
        self.group.runaway_rate
    }

    /// True the first time it is called for this slot: a runaway is warned about once.
    pub(crate) fn first_runaway_warning(&self) -> bool {
        let mut state = lock(&self.state);
        !std::mem::replace(&mut state.runaway_warned, true)
    }

    /// The slot as a snapshot sees it: its state read under its lock, its runs beside it.
    pub(crate) fn snapshot(&self) -> SlotSnapshot {
        let state = lock(&self.state);
        let live = state.task.is_some() || state.in_flight == InFlight::Spawning;
        let asked = self.generations.asked(state.generation);
        let runs = self.runs(&state);
        drop(state);
        let activity = match (live, asked) {
            (false, _) => SlotActivity::Empty,
            (true, false) => SlotActivity::Running,
            (true, true) => SlotActivity::Rescheduling,
        };
        SlotSnapshot {
            name: self.name.to_string(),
            activity,
            runs,
        }
    }
}
