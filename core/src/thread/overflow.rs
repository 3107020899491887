//! Full queues: the overflow hook's argument and the policy that follows it.

use super::errors::SendError;

/// What a sender does when the receiving queue is full, after the receiver's
/// [`on_overflow`](super::TaskThread::on_overflow) hook has been called.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OverflowPolicy {
    /// Wait for room, like the original (default).
    #[default]
    Wait,
    /// Hand the signal back at once in [`SendError::Full`].
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

/// The overflow rules of one queue, as its senders need them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OverflowRules {
    pub(crate) policy: OverflowPolicy,
    pub(crate) capacity: usize,
    /// The receiving thread type's `on_overflow`.
    pub(crate) hook: Option<fn(&Overflow<'_>)>,
}

/// Sends `signal`, calling `on_full` first if the queue is full, then applying `policy`.
pub(crate) async fn deliver<S>(
    queue: &async_channel::Sender<S>,
    signal: S,
    policy: OverflowPolicy,
    on_full: impl FnOnce(),
) -> Result<(), SendError<S>> {
    let signal = match queue.try_send(signal) {
        Ok(()) => return Ok(()),
        Err(async_channel::TrySendError::Closed(signal)) => return Err(SendError::Ended(signal)),
        Err(async_channel::TrySendError::Full(signal)) => signal,
    };
    on_full();
    match policy {
        OverflowPolicy::Reject => Err(SendError::Full(signal)),
        OverflowPolicy::Wait => queue
            .send(signal)
            .await
            .map_err(|closed| SendError::Ended(closed.into_inner())),
    }
}
