//! A thread's mailbox: the one queue its signal loop takes events from, in lanes.
//!
//! One lock and one waker per thread, instead of a channel per kind of event: the loop
//! takes events in a fixed priority order across the lanes (which separate channels cannot
//! give without polling each of them), each lane keeps its own capacity, and the lanes are
//! allocated only when something is first queued, so an idle thread's mailbox is a few
//! words. The control lane (terminate, a task's failure) lives in [`ThreadCore`], beside
//! the loop's waker, because it is sent to threads of any type.
//!
//! When signals pile up, the loop takes the signal lanes whole into its hand (see
//! `receiver`) and hands them out without the lock: senders and the loop then meet at
//! the lock once per batch, not once per signal, which on a multi-threaded runtime is what
//! a busy thread's signals cost most.
//!
//! The small functions a signal passes through are `#[inline]`: the loop and the senders
//! are instantiated in the user's crate, from which core's non-generic functions are
//! otherwise calls through the GOT (issue 17, BENCHMARKS.md).
//!
//! Here: the lanes and the one push they all go through. A parent's signals come in
//! through `sending`, a child's signals and end through `parent_link`, and the loop takes
//! them through `receiver`. A full lane's hook and policy are in `overflow`, its room (what
//! counts against its capacity, who waits for it) in `room`.

pub(crate) mod child_lane;
mod counting;
pub(crate) mod overflow;
mod parent_link;
pub(crate) mod receiver;
pub(crate) mod room;
mod sending;

pub(crate) use counting::{LaneCounts, LanesSeen};
pub(crate) use parent_link::{ChildInbox, ParentLink};

use std::any::{Any, TypeId};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::group::lock;
use crate::thread::definition::{TaskThread, ThreadEnd};
use crate::thread::family::children::ChildRef;
use crate::thread::family::registry::AnyChild;
use crate::thread::life::thread_core::{Control, ThreadCore};
use crate::thread::mailbox::child_lane::{ChildLane, Lane};
use crate::thread::mailbox::overflow::{LogRate, OverflowLog};
use crate::thread::mailbox::room::{LaneRoom, Refused};

/// What the loop takes from its mailbox.
pub(crate) enum Event<T: TaskThread> {
    Control(Control),
    Signal(T::Signal),
    /// Its sender is the receiver's [`LastSender`](child_lane::LastSender).
    ChildSignal(T::ChildOutput),
    /// Boxed: a child's end is rare, and an event is part of every thread's loop state.
    ChildEnded(ChildRef, Box<ThreadEnd>),
    /// The thread is forced: no handler runs any more, even for what is queued; the loop
    /// hands what is queued to its hooks and its life ends.
    Forced,
}

/// Signals still queued (or taken and not handled) at a thread's end: from the parent, and
/// from children (with the sender's id).
pub(crate) type Undelivered<T> = (
    Vec<<T as TaskThread>::Signal>,
    Vec<(String, <T as TaskThread>::ChildOutput)>,
);

/// Invariants:
/// - once closed (the loop has ended) no lane takes anything again, and every sender
///   waiting for room is woken to get its signal back;
/// - a lane never holds more than its capacity, counting what the loop holds in hand (the
///   ended-children lane is unbounded: a child's end is never refused while the parent's
///   loop runs);
/// - a child's end is queued after its last signal, and the loop takes the lanes in
///   priority order, so the parent sees a child's signals before its end;
/// - the children's signals are taken in the order queued, each resolving its sender
///   against the one taken before it (see `child_lane`);
/// - the priority order holds among what is queued when the loop takes it: a signal from
///   the parent that arrives while the loop hands out a batch it took waits for that
///   batch (at most the lanes' capacities); control messages never wait.
pub(crate) struct Mailbox<T: TaskThread> {
    pub(crate) core: Arc<ThreadCore>,
    lanes: Mutex<Lanes<T>>,
    /// The room of the bounded lanes: what the loop holds of each in hand (a lane's
    /// capacity counts it), and the senders waiting for room in each.
    room_from_parent: LaneRoom,
    room_from_children: LaneRoom,
    /// Where this thread's output goes; set when it is added as a child, taken at its end.
    pub(crate) parent: Mutex<Option<ParentLink<T::Output>>>,
}

struct Lanes<T: TaskThread> {
    open: bool,
    /// Boxed on the first push: most threads of a big tree are idle, and three empty
    /// queues are 96 bytes.
    queued: Option<Box<Queued<T>>>,
}

struct Queued<T: TaskThread> {
    from_parent: VecDeque<T::Signal>,
    from_children: ChildLane<T::ChildOutput>,
    ended_children: VecDeque<(ChildRef, ThreadEnd)>,
    /// Here, not in every thread: only a thread with something queued has a full queue.
    overflow_log: OverflowLog,
    /// Counted under the lock every push takes anyway, so they cost the busy path no
    /// atomic; here, so that an idle thread carries none. Kept after the lanes close.
    counts: LaneCounts,
}

impl<T: TaskThread> Default for Queued<T> {
    fn default() -> Self {
        Queued {
            from_parent: VecDeque::new(),
            from_children: ChildLane::default(),
            ended_children: VecDeque::new(),
            overflow_log: OverflowLog::default(),
            counts: LaneCounts::default(),
        }
    }
}

fn from_parent<T: TaskThread>(
    queued: &mut Queued<T>,
) -> (&mut VecDeque<T::Signal>, Option<&mut u64>) {
    (&mut queued.from_parent, Some(&mut queued.counts.received))
}

fn from_children<T: TaskThread>(
    queued: &mut Queued<T>,
) -> (&mut ChildLane<T::ChildOutput>, Option<&mut u64>) {
    let counted = &mut queued.counts.received_from_children;
    (&mut queued.from_children, Some(counted))
}

type EndedLane = VecDeque<(ChildRef, ThreadEnd)>;

/// Not counted here: a child's end is counted as it leaves the registry (see `ThreadCore`).
fn ended_children<T: TaskThread>(queued: &mut Queued<T>) -> (&mut EndedLane, Option<&mut u64>) {
    (&mut queued.ended_children, None)
}

impl<T: TaskThread> Mailbox<T> {
    pub(crate) fn new(core: Arc<ThreadCore>) -> Self {
        Mailbox {
            core,
            lanes: Mutex::new(Lanes {
                open: true,
                queued: None,
            }),
            room_from_parent: LaneRoom::new(),
            room_from_children: LaneRoom::new(),
            parent: Mutex::new(None),
        }
    }

    /// Queues `item` in a lane with room (`room`: the bounded lanes' bookkeeping of what
    /// the loop holds in hand), counts it (`lane` gives the lane and its count) and wakes
    /// the loop.
    fn push<S, L: Lane<S>>(
        &self,
        lane: impl FnOnce(&mut Queued<T>) -> (&mut L, Option<&mut u64>),
        capacity: usize,
        room: Option<&LaneRoom>,
        item: S,
    ) -> Result<(), Refused<S>> {
        let mut lanes = lock(&self.lanes);
        if !lanes.open {
            return Err(Refused::Closed(item));
        }
        let (queue, count) = lane(lanes.queued.get_or_insert_with(Box::default));
        let held = room.map_or(0, LaneRoom::in_hand);
        if queue.len() + held >= capacity.max(1) {
            return Err(Refused::Full(item));
        }
        // Only a push into an empty lane, while the loop holds nothing in hand, wakes it:
        // otherwise the loop has been woken since it last found the lanes empty, or it will
        // look at them again (under this lock) once its hand is empty, before it parks.
        let wake = queue.len() == 0 && held == 0;
        queue.push_back(item);
        if let Some(count) = count {
            *count += 1;
        }
        drop(lanes);
        if wake {
            self.core.wake_loop();
        }
        Ok(())
    }

    /// Whether the default overflow log says the overflow at hand (see
    /// [`Overflow::log`](overflow::Overflow::log)).
    fn overflow_log_rate(&self) -> LogRate {
        let mut lanes = lock(&self.lanes);
        if !lanes.open {
            // Closed since the push was refused: the sender gets its signal back.
            return LogRate::Quiet;
        }
        let queued = lanes.queued.get_or_insert_with(Box::default);
        queued.counts.overflows += 1;
        queued.overflow_log.next(std::time::Instant::now())
    }
}

/// A child in its parent's registry is its mailbox: no allocation of its own.
impl<C: TaskThread> AnyChild for Mailbox<C> {
    fn core(&self) -> &Arc<ThreadCore> {
        &self.core
    }

    fn thread_type(&self) -> TypeId {
        TypeId::of::<C>()
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}
