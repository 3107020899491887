//! What a slot's handles and tasks share ([`SlotShared`]), what its lock guards
//! ([`SlotState`]: the generation, the current task's handle, a spawn in flight), and what a
//! task leaving the slot leaves behind for after the lock ([`Released`]).

use std::any::Any;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Waker;

use crate::generation_mirror::GenerationMirror;
use crate::group::GroupShared;
use crate::operation_lock::OperationLock;
use crate::spawner::RawTask;
use crate::{TaskThread, ThreadCx};

pub(crate) struct SlotShared {
    pub(crate) name: Arc<str>,
    pub(crate) group: Arc<GroupShared>,
    /// The span every incarnation of the slot's task runs in.
    pub(crate) span: tracing::Span,
    pub(crate) state: Mutex<SlotState>,
    /// The current generation and the last run's ask for a successor, read and written
    /// by the running task without the lock.
    pub(crate) generations: GenerationMirror,
    /// Serialises `re_create` and `delete`; never taken by the rescheduling hot path.
    pub(super) operations: OperationLock,
    /// The runs of its [`Task`](crate::Task)-form tasks after their first: such a task loops inside one
    /// generation (see `run_task`), so its runs are not generations. Written by the running
    /// task only (one at a time: `re_create` awaits the old task's end before spawning the
    /// next), as a relaxed load and store, no read-modify-write on the hop; read by
    /// snapshots.
    pub(crate) looped_runs: AtomicU64,
    /// The owning thread's context (a `ThreadCx<T>`), set when the thread first names the
    /// slot through its context: what [`TaskCx::thread`](crate::TaskCx::thread) hands out. Kept by the slot, not
    /// the group, which the thread holds: the slot is held by its handles and tasks only,
    /// so no cycle keeps an ended thread.
    pub(super) thread: OnceLock<Box<dyn Any + Send + Sync>>,
}

pub(crate) struct SlotState {
    /// Advanced (by [`advance`](SlotState::advance)) whenever the current task changes or leaves.
    pub(super) generation: u64,
    /// The handle of the current task.
    pub(crate) task: Option<Box<dyn RawTask>>,
    /// A task `re_create` is spawning outside the lock, and what became of it meanwhile.
    pub(crate) in_flight: InFlight,
    /// Set by [`TaskSlot::cancel_at_once`](crate::TaskSlot::cancel_at_once): the thread's shutdown cancels this slot's task
    /// when it begins, without the grace.
    pub(super) at_once: bool,
    /// The waker of the current task's pending [`TaskCx::sleep`](crate::TaskCx::sleep), which the thread's
    /// shutdown notice wakes (see `notice::Sleep`); let go when the task leaves the slot.
    pub(crate) sleeper: Option<Waker>,
    /// How many times a task left the slot (each a generation that was not a run): the
    /// runs are the generations less these, so the rescheduling path counts nothing more
    /// than it did. In what would be padding; it wraps after 2^32 tasks.
    releases: u32,
    /// Whether the slot has been warned about as a runaway (once per slot).
    pub(super) runaway_warned: bool,
}

/// The task of a `re_create` between its spawn and the storing of its handle: the spawn
/// is made outside the slot's lock, because a runtime that refuses it drops the task's
/// future (user code, which may use the slot) on the spot.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum InFlight {
    /// No spawn in progress.
    No,
    /// Spawned (or being spawned); its handle is not stored yet.
    Spawning,
    /// It has already ended (its last run returned or panicked): the handle is not stored.
    Ended,
    /// Cancelled meanwhile (a `cancel_all`): the handle is cancelled, not stored.
    Cancelled,
    /// Dropped by the runtime without having ended (it refused the spawn, or is shutting
    /// down): `re_create` fails with [`SlotError::Refused`](crate::SlotError::Refused).
    Refused,
}

impl SlotState {
    /// A slot that has never had a task.
    pub(crate) fn empty() -> Self {
        SlotState {
            generation: 0,
            task: None,
            in_flight: InFlight::No,
            at_once: false,
            sleeper: None,
            releases: 0,
            runaway_warned: false,
        }
    }

    /// The runs its tasks have started or been scheduled for, as generations count them:
    /// each generation is a task's first run (`begin_spawn`), a successor (`finish`) or a
    /// task leaving (`release`). A [`Task`](crate::Task)'s later runs are in
    /// [`SlotShared::looped_runs`] instead (see [`SlotShared::runs`]).
    pub(crate) fn runs(&self) -> u64 {
        self.generation.wrapping_sub(u64::from(self.releases))
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Moves the slot to its next generation (its lock held: `self`); returns the new one.
    pub(crate) fn advance(&mut self, generations: &GenerationMirror) -> u64 {
        self.generation += 1;
        generations.set_current(self.generation);
        self.generation
    }

    /// The current task leaves the slot: it ended, it is taken out, or its runtime dropped
    /// it. The slot moves to its next generation (nothing of that task can reschedule) and
    /// gives up the task's handle, to be dropped or cancelled outside the lock; a
    /// `re_create` still spawning the task finds `outcome` instead of storing its handle
    /// (see [`end_spawn`](Self::end_spawn)).
    ///
    /// A task sleeping through a context of the slot (a helper the task spawned with a
    /// clone of it) is woken as the [`Released`] is dropped, outside the lock: its sleep
    /// then listens to the notice by itself instead of through the slot.
    pub(crate) fn release(
        &mut self,
        generations: &GenerationMirror,
        outcome: InFlight,
    ) -> Released {
        self.advance(generations);
        self.releases = self.releases.wrapping_add(1);
        if self.in_flight == InFlight::Spawning {
            self.in_flight = outcome;
        }
        Released {
            task: self.task.take(),
            sleeper: self.sleeper.take(),
        }
    }

    /// `re_create` spawns a task, outside the lock from now on: the slot moves to the
    /// task's generation (returned), and what becomes of the task meanwhile is kept.
    pub(crate) fn begin_spawn(&mut self, generations: &GenerationMirror) -> u64 {
        self.in_flight = InFlight::Spawning;
        self.advance(generations)
    }

    /// The spawn begun by [`begin_spawn`](Self::begin_spawn) has returned the task's
    /// handle: kept if the task is still the slot's; otherwise handed back with what became
    /// of the task (it ended, was cancelled, or was refused), for the caller to cancel or
    /// drop outside the lock.
    pub(crate) fn end_spawn(
        &mut self,
        task: Box<dyn RawTask>,
    ) -> Result<(), (InFlight, Box<dyn RawTask>)> {
        match std::mem::replace(&mut self.in_flight, InFlight::No) {
            InFlight::Spawning => {
                self.task = Some(task);
                Ok(())
            }
            meanwhile => Err((meanwhile, task)),
        }
    }
}

impl SlotShared {
    /// The context of the thread `T` that owns the slot.
    pub(crate) fn thread<T: TaskThread>(&self) -> &ThreadCx<T> {
        self.thread
            .get()
            .and_then(|thread| thread.downcast_ref::<ThreadCx<T>>())
            .expect("a TaskCx<T> comes from a slot its thread T named through its context")
    }
}

/// What a task leaving its slot leaves behind, for after the slot's lock: its handle, to
/// drop or cancel, and the waker of a sleep through the slot, woken when this is dropped.
pub(crate) struct Released {
    pub(crate) task: Option<Box<dyn RawTask>>,
    sleeper: Option<Waker>,
}

impl Drop for Released {
    fn drop(&mut self) {
        if let Some(sleeper) = self.sleeper.take() {
            sleeper.wake();
        }
    }
}
