//! Full queues: the overflow hook's argument and the policy that follows it.

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
