//! Full queues: the overflow hook's argument, the policy that follows it, and the sending
//! that applies both.

use event_listener::Event as Room;

use super::errors::SendError;

/// What a sender does when the receiving queue is full, after the receiver's
/// [`on_overflow`](super::TaskThread::on_overflow) hook has been called.
///
/// ```
/// use task_thread_core::{OverflowPolicy, SendError, TaskThread, ThreadConfig, ThreadHandle};
///
/// struct Sink {
///     lossy: bool,
/// }
///
/// impl TaskThread for Sink {
///     type Signal = String;
///     type Output = ();
///     type ChildOutput = ();
///     fn id(&self) -> String { "sink".into() }
///
///     fn config(&self) -> ThreadConfig {
///         // Metrics may be dropped to keep their senders fast; audit records may not.
///         let overflow = if self.lossy { OverflowPolicy::Reject } else { OverflowPolicy::Wait };
///         ThreadConfig { overflow, ..ThreadConfig::default() }
///     }
/// }
///
/// async fn emit(sink: &ThreadHandle<Sink>, line: String) {
///     // Under Wait this never returns Full: it waits for room instead.
///     if let Err(SendError::Full(line)) = sink.send(line).await {
///         tracing::debug!("dropped: {line}");
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OverflowPolicy {
    /// Wait for room, like the original (default).
    #[default]
    Wait,
    /// Hand the signal back at once in [`SendError::Full`](super::SendError::Full).
    Reject,
}

/// Which queue of a thread is full.
///
/// ```
/// use task_thread_core::{Overflow, QueueKind, TaskThread};
///
/// struct Router;
///
/// impl TaskThread for Router {
///     type Signal = String;
///     type Output = ();
///     type ChildOutput = String;
///     fn id(&self) -> String { "router".into() }
///
///     fn on_overflow(overflow: &Overflow<'_>) {
///         match overflow.queue {
///             // The parent sends a few commands: a full queue there means a stuck router.
///             QueueKind::FromParent => tracing::error!("{} stuck", overflow.thread),
///             // Children outpacing the router under load is expected; the wait is the brake.
///             QueueKind::FromChildren => tracing::debug!("{} busy", overflow.thread),
///         }
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueKind {
    /// The queue from the thread's parent (the original's input queue).
    FromParent,
    /// The queue from the thread's children (where their output goes).
    FromChildren,
}

/// Told to [`on_overflow`](super::TaskThread::on_overflow): whose queue is full.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use task_thread_core::{Overflow, TaskThread};
///
/// // The hook runs on the sender's side and has no `self`: a metric goes in a static.
/// static OVERFLOWS: AtomicUsize = AtomicUsize::new(0);
///
/// struct Ingest;
///
/// impl TaskThread for Ingest {
///     type Signal = Vec<u8>;
///     type Output = ();
///     type ChildOutput = ();
///     fn id(&self) -> String { "ingest".into() }
///
///     fn on_overflow(overflow: &Overflow<'_>) {
///         let total = OVERFLOWS.fetch_add(1, Ordering::Relaxed) + 1;
///         tracing::warn!(
///             "{}: {:?} queue full at {} (overflow #{total})",
///             overflow.thread,
///             overflow.queue,
///             overflow.capacity,
///         );
///     }
/// }
/// ```
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
        // Listening before trying again: room made in between is not missed. The fence
        // pairs with the one after room is made outside the lanes' lock (the loop handing
        // out a batch): either it sees this listener, or this retry sees the room.
        let listener = room.listen();
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        signal = match push(signal) {
            Ok(()) => return Ok(()),
            Err(Refused::Closed(signal)) => return Err(SendError::Ended(signal)),
            Err(Refused::Full(signal)) => signal,
        };
        listener.await;
    }
}
