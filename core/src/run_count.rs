//! [`RunCount`]: how many runs a slot has started, and whether its next one is due, for a
//! snapshot to read without the slot's lock.

use std::sync::atomic::{AtomicU64, Ordering};

/// The runs a slot has started (the high 63 bits) and whether a run has returned asking
/// for a successor that has not started yet (the low bit).
///
/// Written by the slot's task alone (a slot never has two runs alive), so each change is a
/// load and a store, not a read-modify-write: the rescheduling hot path pays two plain
/// stores per hop. A reader sees a value before or after a change, never a torn one.
pub(crate) struct RunCount(AtomicU64);

const DUE: u64 = 1;

impl RunCount {
    pub(crate) fn new() -> Self {
        RunCount(AtomicU64::new(0))
    }

    /// A run starts: counted, and no successor is due any more.
    pub(crate) fn run_starts(&self) {
        let seen = self.0.load(Ordering::Relaxed);
        // (seen | DUE) + 1 adds one run (two, in this encoding) and clears the flag.
        let next = (seen | DUE).wrapping_add(1);
        self.0.store(next, Ordering::Relaxed);
    }

    /// A run returned asking for a successor, which starts after a turn of the scheduler.
    pub(crate) fn successor_due(&self) {
        let seen = self.0.load(Ordering::Relaxed);
        self.0.store(seen | DUE, Ordering::Relaxed);
    }

    /// A new task is spawned into the slot (the last one has ended): nothing is due.
    pub(crate) fn new_task(&self) {
        let seen = self.0.load(Ordering::Relaxed);
        self.0.store(seen & !DUE, Ordering::Relaxed);
    }

    /// The runs started, and whether a successor is due.
    pub(crate) fn read(&self) -> (u64, bool) {
        let seen = self.0.load(Ordering::Relaxed);
        (seen >> 1, seen & DUE == DUE)
    }
}

#[cfg(test)]
mod tests {
    use super::RunCount;

    #[test]
    fn runs_are_counted_and_a_due_successor_is_seen_until_it_starts() {
        let count = RunCount::new();
        assert_eq!(count.read(), (0, false));
        count.run_starts();
        assert_eq!(count.read(), (1, false));
        count.successor_due();
        assert_eq!(count.read(), (1, true));
        count.run_starts();
        assert_eq!(count.read(), (2, false));
    }
}
