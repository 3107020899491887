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

pub(crate) mod child_lane;
mod counting;
pub(crate) mod overflow;
pub(crate) mod receiver;

pub(crate) use counting::{LaneCounts, LanesSeen};

use std::any::{Any, TypeId};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::group::lock;
use crate::thread::definition::{TaskThread, ThreadEnd};
use crate::thread::errors::SendError;
use crate::thread::family::children::ChildRef;
use crate::thread::family::registry::AnyChild;
use crate::thread::life::thread_core::{Control, ThreadCore};
use crate::thread::mailbox::child_lane::{ChildLane, FromChild, Lane, LastSender, Sender};
use crate::thread::mailbox::overflow::{
    wait_for_room, LaneRoom, LogRate, NotDelivered, Overflow, OverflowLog, OverflowPolicy,
    QueueKind, Refused, MAX_IN_HAND,
};

/// How many queued signals make the loop take its signal lanes whole (into its hand)
/// rather than one signal; a full lane does too, whatever its capacity (a lane of one
/// gains nothing: it is taken one signal at a time).
const BATCH: usize = 8;

/// What the loop takes from its mailbox.
pub(crate) enum Event<T: TaskThread> {
    Control(Control),
    Signal(T::Signal),
    /// Its sender is the receiver's [`LastSender`].
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

/// Signals the loop has taken from the lanes and not handled yet, and the sender of the
/// child signal it took last.
pub(crate) struct InHand<T: TaskThread> {
    from_parent: VecDeque<T::Signal>,
    from_children: VecDeque<FromChild<T::ChildOutput>>,
    pub(crate) sender: LastSender,
}

impl<T: TaskThread> Default for InHand<T> {
    fn default() -> Self {
        InHand {
            from_parent: VecDeque::new(),
            from_children: VecDeque::new(),
            sender: LastSender::default(),
        }
    }
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

/// A child's way to its parent's mailbox. Strong, so that a send is one lock and one
/// push, with no reference count to upgrade on the parent's busiest cache line (the
/// mailbox's header, next to its lanes' lock). The cycle it makes with the parent's
/// registry is broken from both sides when the child ends, however it ends: the child
/// leaves the registry (its end, a force, its task dropped by its runtime), and the link
/// is taken when the child tells its parent of its end or its
/// [`Receiver`](crate::thread::mailbox::receiver::Receiver) is dropped.
pub(crate) struct ParentLink<M> {
    pub(crate) inbox: Arc<dyn ChildInbox<M>>,
}

/// The part of a parent's mailbox its children use, whatever the parent's type.
pub(crate) trait ChildInbox<M>: Send + Sync + 'static {
    fn core(&self) -> &Arc<ThreadCore>;
    fn push_child_signal(&self, from: &dyn Sender, signal: M) -> Result<(), Refused<M>>;
    /// Queues a child's end (dropped if the parent's loop has ended: nobody would read it).
    fn push_child_end(&self, child: ChildRef, end: ThreadEnd);
    fn room_for_children(&self) -> &LaneRoom;
    /// The parent's overflow policy, after calling its hook (the queue is full).
    fn overflowed(&self, sender: &str) -> OverflowPolicy;
    /// Counts a child's signal the parent will not handle (handed back to the child).
    fn undelivered(&self);
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

    /// Sends a signal from the parent (or any holder of a handle): the thread's overflow
    /// hook and policy apply when the lane is full.
    pub(crate) async fn send(&self, signal: T::Signal) -> Result<(), SendError<T::Signal>> {
        match self.push_from_parent(signal) {
            Ok(()) => Ok(()),
            Err(first) => {
                let never = std::future::pending::<Infallible>();
                let sent = self.wait_for_room(first, never).await;
                sent.map_err(|refused| {
                    self.count_undelivered(1);
                    refused.refused()
                })
            }
        }
    }

    /// [`send`](Self::send), giving up if `give_up` completes while waiting for room (see
    /// [`wait_for_room`]).
    pub(crate) async fn send_unless<G: Future>(
        &self,
        signal: T::Signal,
        give_up: G,
    ) -> Result<(), NotDelivered<T::Signal, G::Output>> {
        match self.push_from_parent(signal) {
            Ok(()) => Ok(()),
            Err(first) => {
                let sent = self.wait_for_room(first, give_up).await;
                sent.inspect_err(|_| self.count_undelivered(1))
            }
        }
    }

    /// Whether the default overflow log says the overflow at hand (see [`Overflow::log`]).
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

    /// One push into the parent's lane.
    fn push_from_parent(&self, signal: T::Signal) -> Result<(), Refused<T::Signal>> {
        let capacity = self.core.settings.signal_capacity;
        self.push(from_parent, capacity, Some(&self.room_from_parent), signal)
    }

    /// The parent's lane refused `first`: its hook and policy, and the wait for room.
    async fn wait_for_room<G: Future>(
        &self,
        first: Refused<T::Signal>,
        give_up: G,
    ) -> Result<(), NotDelivered<T::Signal, G::Output>> {
        let capacity = self.core.settings.signal_capacity;
        let on_full = || {
            T::on_overflow(&Overflow {
                thread: self.core.id(),
                queue: QueueKind::FromParent,
                capacity,
                sender: None,
                rate: self.overflow_log_rate(),
            });
            self.core.settings.overflow
        };
        let push = |signal| self.push_from_parent(signal);
        wait_for_room(push, &self.room_from_parent, on_full, first, give_up).await
    }

    /// The next event if one is queued, in priority order: control (so a terminate
    /// overtakes queued signals), the parent's signals, the children's signals, and only
    /// then the children's ends. When signals pile up (see [`BATCH`]) the two signal lanes
    /// are taken into `hand` whole (their buffers swapped with the hand's empty ones), so
    /// the lock senders take is taken once per batch rather than once per signal: on a
    /// multi-threaded runtime a sender and the loop would otherwise contend for it on every
    /// signal. A few are taken one at a time.
    pub(super) fn try_next(&self, hand: &mut Option<Box<InHand<T>>>) -> Option<Event<T>> {
        if self.core.is_forced() {
            return Some(Event::Forced);
        }
        if let Some(control) = self.core.take_control() {
            return Some(Event::Control(control));
        }
        if let Some(event) = self.next_in_hand(hand) {
            return Some(event);
        }
        let mut lanes = lock(&self.lanes);
        // Looked at again under the lock: a control message sent before a signal was
        // pushed (by the same caller, say `terminate` then `send`) is taken first.
        if self.core.has_control() {
            drop(lanes);
            return self.try_next(hand);
        }
        let queued = lanes.queued.as_mut()?;
        let waiting = queued.from_parent.len() + queued.from_children.signals.len();
        let settings = &self.core.settings;
        let a_lane_is_full = queued.from_parent.len() >= settings.signal_capacity.max(2)
            || queued.from_children.signals.len() >= settings.child_signal_capacity.max(2);
        let fits = waiting <= MAX_IN_HAND;
        if (waiting < BATCH && !a_lane_is_full) || !fits {
            // A few (or more than the hand can count): one is taken. A loop that keeps up
            // with its senders would otherwise take batches of one, with the counting on top.
            if let Some(signal) = queued.from_parent.pop_front() {
                drop(lanes);
                self.room_from_parent.made_under_the_lock();
                return Some(Event::Signal(signal));
            }
            if let Some(entry) = queued.from_children.signals.pop_front() {
                drop(lanes);
                self.room_from_children.made_under_the_lock();
                let held = hand.get_or_insert_with(Box::default);
                return Some(Event::ChildSignal(held.sender.take(entry)));
            }
        } else {
            let held = hand.get_or_insert_with(Box::default);
            std::mem::swap(&mut queued.from_parent, &mut held.from_parent);
            std::mem::swap(&mut queued.from_children.signals, &mut held.from_children);
            // Counted under the lock, so a sender never sees a taken signal in neither place.
            self.room_from_parent.take(held.from_parent.len());
            self.room_from_children.take(held.from_children.len());
            drop(lanes);
            return self.next_in_hand(hand);
        }
        // Both signal lanes are empty and nothing is in hand: every signal a child sent
        // before its end has been handled.
        let (child, end) = queued.ended_children.pop_front()?;
        drop(lanes);
        if let Some(held) = hand {
            held.sender.forget();
        }
        Some(Event::ChildEnded(child, Box::new(end)))
    }

    /// The next signal in hand, the parent's first; its lane has room for one more.
    #[inline]
    fn next_in_hand(&self, hand: &mut Option<Box<InHand<T>>>) -> Option<Event<T>> {
        let held = hand.as_mut()?;
        if let Some(signal) = held.from_parent.pop_front() {
            self.room_from_parent.hand_out_one();
            return Some(Event::Signal(signal));
        }
        let entry = held.from_children.pop_front()?;
        self.room_from_children.hand_out_one();
        Some(Event::ChildSignal(held.sender.take(entry)))
    }

    /// Closes every lane (senders get their signals back from now on, waiting ones too)
    /// and returns what was still queued, what was in `hand` first. Idempotent.
    pub(super) fn close_and_drain(&self, hand: &mut Option<Box<InHand<T>>>) -> Undelivered<T> {
        let mut lanes = lock(&self.lanes);
        lanes.open = false;
        // The lanes' contents go; their counts stay, for a snapshot taken until the end.
        let queued = lanes.queued.as_mut().map(|queued| {
            let counts = queued.counts;
            let taken = std::mem::take(&mut **queued);
            queued.counts = counts;
            taken
        });
        drop(lanes);
        self.room_from_parent.close();
        self.room_from_children.close();
        let mut signals = Vec::new();
        let mut from_children = Vec::new();
        let mut sender = LastSender::default();
        if let Some(held) = hand.take() {
            let InHand {
                from_parent,
                from_children: children,
                sender: last,
            } = *held;
            sender = last;
            signals.extend(from_parent);
            from_children.extend(children);
        }
        if let Some(queued) = queued {
            let Queued {
                from_parent,
                from_children: children,
                ended_children: ended,
                overflow_log: _,
                counts: _,
            } = queued;
            // Dropped outside the lock: an ended child's handle may be the last one.
            drop(ended);
            signals.extend(from_parent);
            from_children.extend(children.signals);
        }
        self.count_undelivered(signals.len() + from_children.len());
        // In queue order: each resolves its sender against the one before.
        let from_children = from_children
            .into_iter()
            .map(|entry| {
                let signal = sender.take(entry);
                (sender.id(), signal)
            })
            .collect();
        (signals, from_children)
    }
}

/// A parent takes from its children whatever converts into its child output (`M` is the
/// child's output).
impl<P, M> ChildInbox<M> for Mailbox<P>
where
    P: TaskThread,
    M: Into<P::ChildOutput> + Send + 'static,
{
    fn core(&self) -> &Arc<ThreadCore> {
        &self.core
    }

    fn push_child_signal(&self, from: &dyn Sender, signal: M) -> Result<(), Refused<M>> {
        let capacity = self.core.settings.child_signal_capacity;
        let room = Some(&self.room_from_children);
        self.push(from_children, capacity, room, (from, signal))
            .map_err(|refused| refused.map(|(_, signal)| signal))
    }

    fn push_child_end(&self, child: ChildRef, end: ThreadEnd) {
        let _ = self.push(ended_children, usize::MAX, None, (child, end));
    }

    fn room_for_children(&self) -> &LaneRoom {
        &self.room_from_children
    }

    fn undelivered(&self) {
        self.count_undelivered(1);
    }

    fn overflowed(&self, sender: &str) -> OverflowPolicy {
        P::on_overflow(&Overflow {
            thread: self.core.id(),
            queue: QueueKind::FromChildren,
            capacity: self.core.settings.child_signal_capacity,
            sender: Some(sender),
            rate: self.overflow_log_rate(),
        });
        self.core.settings.overflow
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
