//! Full queues: the overflow hook's argument, the policy that follows it, and the sending
//! that applies both.

use event_listener::Event as Room;

use super::errors::SendError;

/// What a sender does when the receiving queue is full, after the receiver's
/// [`on_overflow`](super::TaskThread::on_overflow) hook has been called.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OverflowPolicy {
    /// Wait for room, like the original (default).
    #[default]
    Wait,
    /// Hand the signal back at once in [`SendError::Full`](super::SendError::Full).
    Reject,
}

/// Which queue of a thread is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueKind {
    /// The queue from the thread's parent (the original's input queue).
    FromParent,
    /// The queue from the thread's children (where their output goes).
    FromChildren,
}

/// Told to [`on_overflow`](super::TaskThread::on_overflow): whose queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow<'a> {
    /// The id of the thread owning the full queue (the receiver).
    pub thread: &'a str,
    /// Which of its queues.
    pub queue: QueueKind,
    /// The queue's capacity.
    pub capacity: usize,
}

/// Why a lane did not take a signal; the signal is handed back.
pub(crate) enum Refused<S> {
    Full(S),
    Closed(S),
}

/// Sends `signal` through `push`; when the lane is full, `on_full` calls the receiver's
/// hook and says its policy: hand the signal back, or wait for `room` and try again.
pub(crate) async fn deliver<S>(
    mut push: impl FnMut(S) -> Result<(), Refused<S>>,
    room: &Room,
    on_full: impl FnOnce() -> OverflowPolicy,
    signal: S,
) -> Result<(), SendError<S>> {
    let mut signal = match push(signal) {
        Ok(()) => return Ok(()),
        Err(Refused::Closed(signal)) => return Err(SendError::Ended(signal)),
        Err(Refused::Full(signal)) => signal,
    };
    if on_full() == OverflowPolicy::Reject {
        return Err(SendError::Full(signal));
    }
    loop {
        // Listening before trying again: room made in between is not missed.
        let listener = room.listen();
        signal = match push(signal) {
            Ok(()) => return Ok(()),
            Err(Refused::Closed(signal)) => return Err(SendError::Ended(signal)),
            Err(Refused::Full(signal)) => signal,
        };
        listener.await;
    }
}
