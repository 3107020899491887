//! What a snapshot reads of a thread's core: where it is in its life, and its age.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::ThreadCore;
use crate::group::lock;
use crate::thread::snapshot::{ShutdownPhase, ThreadState};

impl ThreadCore {
    /// The thread's shutdown has reached `phase`.
    pub(crate) fn enter_phase(&self, phase: ShutdownPhase) {
        let stage = match phase {
            ShutdownPhase::Tasks => 1,
            ShutdownPhase::Exit => 2,
            ShutdownPhase::Children => 3,
        };
        self.phase.store(stage, Ordering::Release);
    }

    /// Where the thread is in its life, for a snapshot.
    pub(crate) fn state(&self) -> ThreadState {
        if lock(&self.state).end.is_some() {
            return ThreadState::Ended;
        }
        match self.phase.load(Ordering::Acquire) {
            1 => ThreadState::ShuttingDown(ShutdownPhase::Tasks),
            2 => ThreadState::ShuttingDown(ShutdownPhase::Exit),
            3 => ThreadState::ShuttingDown(ShutdownPhase::Children),
            _ if self.has_entered() => ThreadState::Running,
            _ => ThreadState::Entering,
        }
    }

    /// How long since the thread was started.
    pub(crate) fn age(&self) -> Duration {
        self.started.until(Instant::now())
    }

    /// How many tasks have been started in its slots.
    pub(crate) fn tasks_started(&self) -> u64 {
        u64::from(lock(&self.state).tasks_started)
    }

    /// The runs of its slots that have been forgotten.
    pub(crate) fn runs_of_forgotten_slots(&self) -> u64 {
        self.runs_of_forgotten_slots
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}
