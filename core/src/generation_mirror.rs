//! [`GenerationMirror`]: what a slot's running task reads and writes without the slot's
//! lock, so that rescheduling (the hot path) takes no lock.

use std::sync::atomic::Ordering;

use crate::sync::AtomicU64;

/// A copy of a slot's generation, and the generation of the run that last asked for a
/// successor.
///
/// Invariants (checked by loom in `crate::loom_models`):
/// - `current` is written only under the slot's lock, as the slot's generation moves
///   (generations only grow), so a run that reads its own generation there was current
///   when it read it; the slot's lock decides in the end (`finish` looks at the slot's own
///   generation under it);
/// - `requested` only grows (`fetch_max`), so a run that is no longer current cannot undo
///   the request of a later one, and a request read under the lock is the current run's
///   only if it equals its generation.
pub(crate) struct GenerationMirror {
    current: AtomicU64,
    /// 0: no run has asked yet (generations start at 1).
    requested: AtomicU64,
}

impl GenerationMirror {
    pub(crate) fn new() -> Self {
        GenerationMirror {
            current: AtomicU64::new(0),
            requested: AtomicU64::new(0),
        }
    }

    /// The slot's generation has moved to `generation` (under the slot's lock).
    pub(crate) fn set_current(&self, generation: u64) {
        self.current.store(generation, Ordering::Release);
    }

    /// Whether run `generation` is the slot's current one, as far as a reader without the
    /// lock can tell.
    pub(crate) fn is_current(&self, generation: u64) -> bool {
        self.current.load(Ordering::Acquire) == generation
    }

    /// Run `generation` asks for a successor: true if this is its first ask and it was
    /// current (a stale run's ask is refused here, or ignored where it is read).
    pub(crate) fn ask(&self, generation: u64) -> bool {
        if !self.is_current(generation) {
            return false;
        }
        self.requested.fetch_max(generation, Ordering::AcqRel) < generation
    }

    /// Whether run `generation` has asked for a successor.
    pub(crate) fn asked(&self, generation: u64) -> bool {
        self.requested.load(Ordering::Acquire) == generation
    }
}
