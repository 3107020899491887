//! Notifying an event only when it has listeners.
//!
//! event-listener allocates an event's list (72 bytes) on its first `notify`, listener or
//! not; most of our events (a thread's end, a group's idleness, a full queue's room, a
//! slot's lock) are never listened to. `total_listeners` answers without allocating. It
//! is sound for the pattern every waiter here follows: the notifier changes the state,
//! then asks; the waiter listens, then looks at the state again, and the state changes
//! under a lock the waiter also takes to look at it: the lock orders the two, so either
//! the notifier sees the listener or the waiter sees the state. (Where the state changes
//! outside such a lock, the mailbox's loop making room as it hands out a batch, the
//! ordering comes from one atomic instead: see `thread::mailbox::overflow::LaneRoom`.)

use crate::sync::Event;

/// Wakes every listener of `event`, if it has any.
pub(crate) fn notify_all(event: &Event) {
    if event.total_listeners() > 0 {
        event.notify(usize::MAX);
    }
}

/// Wakes one more listener of `event` (one that was not woken yet), if it has any.
pub(crate) fn notify_one_more(event: &Event) {
    if event.total_listeners() > 0 {
        event.notify_additional(1);
    }
}

/// The waiter's side of that pattern: `ready` is looked at, then looked at again after
/// listening to `event`, and the wait goes on until it gives a value.
pub(crate) async fn wait_for<T>(event: &Event, mut ready: impl FnMut() -> Option<T>) -> T {
    loop {
        if let Some(value) = ready() {
            return value;
        }
        let listener = event.listen();
        if let Some(value) = ready() {
            return value;
        }
        listener.await;
    }
}
