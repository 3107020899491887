//! A bounded lane's room, outside the lanes' lock: what counts against its capacity (the
//! signals the loop holds in hand), who waits for room and who has been told of it, and the
//! sending that waits for room when a push is refused. What a full queue tells its hook and
//! the policy that follows live in [`overflow`](super::overflow).

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::Ordering;

use futures::future::{select, Either};

use crate::sync::{AtomicU64, Event, EventListener};

use crate::notify::{notify_all, notify_one_more};

use crate::thread::errors::SendError;
use crate::thread::mailbox::overflow::OverflowPolicy;

/// Why a lane did not take a signal; the signal is handed back.
pub(crate) enum Refused<S> {
    Full(S),
    Closed(S),
}

impl<S> Refused<S> {
    /// The same refusal, of what `f` makes of the signal.
    pub(crate) fn map<R>(self, f: impl FnOnce(S) -> R) -> Refused<R> {
        match self {
            Refused::Full(signal) => Refused::Full(f(signal)),
            Refused::Closed(signal) => Refused::Closed(f(signal)),
        }
    }
}

/// The room of a bounded lane, as the loop and waiting senders see it outside the lanes'
/// lock: how many of the lane's signals the loop holds in hand (they count against the
/// capacity), how many senders wait for room, how many of them the loop has told of room
/// since, and the event they wait on.
///
/// The three counts are one atomic, so that the loop making room (handing a signal out of
/// its hand, without the lanes' lock) and a sender starting to wait are ordered: each sees
/// the other's change. The loop then notifies only when someone waits, and pays nothing
/// for it otherwise.
///
/// It notifies once per wait, not once per signal it hands out while a sender waits: a
/// sender runs (and stops counting itself) only when its runtime polls it, and a loop
/// handing out a batch would otherwise notify on every signal of it, with one notification
/// of the lot useful. So the loop counts the senders it has told (`told`) and notifies only
/// while fewer are told than wait. No wake-up is lost that way, because every notification
/// counted either reaches a sender that takes it into account or is counted again:
/// - a sender woken stops counting itself and one told (the told count never goes below
///   zero: a wake-up not counted, handed on by event-listener, makes it count low, which
///   only costs a notification more);
/// - a sender that starts to wait sets the told count to zero, so the loop tells every
///   sender waiting then again (at most a notification per sender more): a notification
///   counted may have gone to a listener not counted as waiting yet, or, handed on when
///   a sender found room by itself, to no listener at all, and counted still, it would
///   keep the new sender from being told;
/// - a sender that stops waiting without being woken (room found, or given up) drops its
///   listener: a notification that reached it is handed on to the next listener by
///   event-listener (and, if none is left, every sender still waiting was told).
pub(crate) struct LaneRoom {
    /// Low bits: signals in the loop's hand. Then senders waiting for room, then how many
    /// of them the loop has told since the last one started to wait.
    counts: AtomicU64,
    room: Event,
}

const IN_HAND_BITS: u32 = 22;
const COUNT_BITS: u32 = 21;
const IN_HAND: u64 = (1 << IN_HAND_BITS) - 1;
const WAITER: u64 = 1 << IN_HAND_BITS;
const TOLD: u64 = 1 << (IN_HAND_BITS + COUNT_BITS);
const COUNT: u64 = (1 << COUNT_BITS) - 1;

/// The most signals of one lane the loop may hold in hand (4,194,303): a bigger batch is
/// not taken whole.
pub(crate) const MAX_IN_HAND: usize = IN_HAND as usize;

/// The most senders that may wait for room in one lane at once (2,097,151).
const MAX_WAITING: u64 = COUNT;

fn waiting(counts: u64) -> u64 {
    (counts / WAITER) & COUNT
}

fn told(counts: u64) -> u64 {
    counts / TOLD
}

impl LaneRoom {
    pub(crate) fn new() -> Self {
        LaneRoom {
            counts: AtomicU64::new(0),
            room: Event::new(),
        }
    }

    /// Signals of the lane in the loop's hand; read under the lanes' lock by a push.
    #[inline]
    pub(crate) fn in_hand(&self) -> usize {
        (self.counts.load(Ordering::Acquire) & IN_HAND) as usize
    }

    /// The loop has taken `taken` signals of the lane into its hand (under the lanes' lock).
    pub(crate) fn take(&self, taken: usize) {
        self.counts.fetch_add(taken as u64, Ordering::AcqRel);
    }

    /// The loop hands one signal out of its hand: room for one more, and a waiting sender
    /// not told yet is told.
    #[inline]
    pub(crate) fn hand_out_one(&self) {
        let before = self.counts.fetch_sub(1, Ordering::AcqRel);
        self.tell_one_more(before);
    }

    /// Room made under the lanes' lock (a signal taken on its own): a sender that waits
    /// re-checks under that lock, which orders the two.
    #[inline]
    pub(crate) fn made_under_the_lock(&self) {
        let counts = self.counts.load(Ordering::Acquire);
        self.tell_one_more(counts);
    }

    /// Notifies one more waiting sender if the counts (`seen` by the loop as it made room)
    /// say one is not told yet.
    #[inline]
    fn tell_one_more(&self, seen: u64) {
        if waiting(seen) > told(seen) {
            self.tell();
        }
    }

    /// Tells one more waiting sender; out of line, as most room made tells nobody.
    #[cold]
    fn tell(&self) {
        // Only the loop adds to the told count, and only while it is below the waiting
        // one: it stays within its bits.
        self.counts.fetch_add(TOLD, Ordering::AcqRel);
        // A sender counted itself after it listened: its listener is seen.
        notify_one_more(&self.room);
    }

    /// The lane has closed: every waiting sender gets its signal back.
    pub(crate) fn close(&self) {
        notify_all(&self.room);
    }

    fn listen(&self) -> EventListener {
        crate::notify::listen(&self.room)
    }

    /// Counts a sender waiting for room (it has listened) until the guard is dropped (also
    /// if the send is), and sets the told count to zero (see the type's docs).
    fn wait(&self) -> Waiting<'_> {
        let start = |counts: u64| {
            assert!(
                waiting(counts) < MAX_WAITING,
                "more than {MAX_WAITING} senders wait for room in one queue"
            );
            // The told count cleared (it is the highest bits), one more waiting.
            Some(counts % TOLD + WAITER)
        };
        let _ = self
            .counts
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, start);
        Waiting {
            room: self,
            woken: false,
        }
    }
}

/// A sender counted as waiting for room.
struct Waiting<'a> {
    room: &'a LaneRoom,
    /// Its listener completed: it was told (or the lane closed), and stops counting as told.
    woken: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let counts = &self.room.counts;
        if !self.woken {
            counts.fetch_sub(WAITER, Ordering::AcqRel);
            return;
        }
        let stop = |counts: u64| {
            let told = if told(counts) > 0 { TOLD } else { 0 };
            Some(counts - WAITER - told)
        };
        let _ = counts.fetch_update(Ordering::AcqRel, Ordering::Acquire, stop);
    }
}

/// Why [`wait_for_room`] did not deliver a signal; the signal is handed back either way.
pub(crate) enum NotDelivered<S, G> {
    /// The lane refused it: the receiver has ended, or its queue is full under the reject
    /// policy.
    Refused(SendError<S>),
    /// The sender gave up (with what its `give_up` future returned) while waiting for room.
    GaveUp(S, G),
}

impl<S> NotDelivered<S, Infallible> {
    /// The refusal of a sender that never gives up.
    pub(crate) fn refused(self) -> SendError<S> {
        match self {
            NotDelivered::Refused(error) => error,
            NotDelivered::GaveUp(_, never) => match never {},
        }
    }
}

/// After a first push was refused: a closed lane hands the signal back; a full one calls
/// the receiver's hook (`on_full`), whose policy says whether to hand it back too or to
/// wait for `room` and push again. The caller makes the first push itself, so that a lane
/// with room (the busy path) costs one push and no future of this waiting path.
///
/// Gives up if `give_up` completes while the sender waits (a deadline, say): the signal is
/// then handed back with `give_up`'s output. `give_up` is polled only while waiting: a
/// lane with room takes the signal whatever it says.
pub(crate) async fn wait_for_room<S, G: Future>(
    mut push: impl FnMut(S) -> Result<(), Refused<S>>,
    room: &LaneRoom,
    on_full: impl FnOnce() -> OverflowPolicy,
    first: Refused<S>,
    give_up: G,
) -> Result<(), NotDelivered<S, G::Output>> {
    let refused = |error| Err(NotDelivered::Refused(error));
    let mut signal = match first {
        Refused::Closed(signal) => return refused(SendError::Ended(signal)),
        Refused::Full(signal) => signal,
    };
    if on_full() == OverflowPolicy::Reject {
        return refused(SendError::Full(signal));
    }
    let mut give_up = std::pin::pin!(give_up);
    loop {
        // Listening, then counted as waiting, then trying again: room the loop makes
        // before the count is seen by this try; room it makes after, it notifies.
        let listener = room.listen();
        let mut waiting = room.wait();
        signal = match push(signal) {
            Ok(()) => return Ok(()),
            Err(Refused::Closed(signal)) => return refused(SendError::Ended(signal)),
            Err(Refused::Full(signal)) => signal,
        };
        if let Either::Right((gave_up, _)) = select(listener, give_up.as_mut()).await {
            return Err(NotDelivered::GaveUp(signal, gave_up));
        }
        waiting.woken = true;
        drop(waiting);
    }
}
