//! The loop's side of a thread's mailbox: [`Receiver`] takes the events, keeps the signals
//! it has taken from the lanes in a batch and not handled yet ([`InHand`]), and drains the
//! mailbox at the end. The mailbox's methods it does so through are here too:
//! [`Mailbox::try_next`] (priority order, and when to take a batch) and
//! [`Mailbox::close_and_drain`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::Poll;

use crate::group::lock;
use crate::thread::definition::TaskThread;
use crate::thread::family::children::ChildRef;
use crate::thread::mailbox::child_lane::{FromChild, LastSender};
use crate::thread::mailbox::room::MAX_IN_HAND;
use crate::thread::mailbox::{Event, Mailbox, Queued, Undelivered};

/// The loop's side of a thread's mailbox: it takes the events, holds what it has taken
/// and not handled, and drains the mailbox at the end. If the loop is dropped before its
/// shutdown drained the mailbox (its life panicked outside every user method: even a
/// forced loop drains it first), what is left is counted in the log and released, so the
/// children's signals do not keep their senders alive.
pub(crate) struct Receiver<T: TaskThread> {
    mailbox: Arc<Mailbox<T>>,
    /// Boxed on the first batch or the first child signal taken: an idle thread that has
    /// never had one holds nothing in hand.
    hand: Option<Box<InHand<T>>>,
}

impl<T: TaskThread> Receiver<T> {
    pub(crate) fn new(mailbox: Arc<Mailbox<T>>) -> Self {
        Receiver {
            mailbox,
            hand: None,
        }
    }

    /// Waits for the next event (see [`Mailbox::try_next`]). The busy path takes a queued
    /// event without registering a waker.
    pub(crate) async fn next(&mut self) -> Event<T> {
        let Receiver { mailbox, hand } = self;
        futures::future::poll_fn(|cx| {
            if let Some(event) = mailbox.try_next(hand) {
                return Poll::Ready(event);
            }
            mailbox.core.register_loop(cx.waker());
            match mailbox.try_next(hand) {
                Some(event) => Poll::Ready(event),
                None => Poll::Pending,
            }
        })
        .await
    }

    /// The sender of the child signal taken last.
    pub(crate) fn sender(&self) -> &ChildRef {
        let held = self.hand.as_ref();
        held.expect("a child signal is taken into the hand")
            .sender
            .get()
    }

    /// Closes the mailbox and returns what was not handled (see
    /// [`Mailbox::close_and_drain`]). Idempotent.
    pub(crate) fn close_and_drain(&mut self) -> Undelivered<T> {
        self.mailbox.close_and_drain(&mut self.hand)
    }
}

impl<T: TaskThread> Drop for Receiver<T> {
    fn drop(&mut self) {
        // The loop is gone, however it ended: the child lets go of its parent's mailbox
        // (already taken if the child told its parent of its end; see `ParentLink`).
        let link = lock(&self.mailbox.parent).take();
        drop(link);
        let (signals, from_children) = self.close_and_drain();
        if !signals.is_empty() || !from_children.is_empty() {
            tracing::warn!(
                thread = %self.mailbox.core.id(),
                from_parent = signals.len(),
                from_children = from_children.len(),
                "signals undelivered: the thread's life ended before it could hand them to its hooks"
            );
        }
    }
}

/// How many queued signals make the loop take its signal lanes whole (into its hand)
/// rather than one signal; a full lane does too, whatever its capacity (a lane of one
/// gains nothing: it is taken one signal at a time).
const BATCH: usize = 8;

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
impl<T: TaskThread> Mailbox<T> {
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
