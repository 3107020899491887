//! Notifying an event only when it has listeners.
//!
//! event-listener allocates an event's list (72 bytes) on its first `notify`, listener or
//! not; most of our events (a thread's end, a group's idleness, a full queue's room, a
//! slot's lock) are never listened to. `total_listeners` answers without allocating. The
//! pattern every waiter here follows: the notifier changes the state, then asks for
//! listeners; the waiter listens, then looks at the state again. Either the notifier sees
//! the listener or the waiter sees the state, provided the two sides are ordered: the
//! state's lock orders them once the list exists (`total_listeners` takes the list's lock,
//! which `listen` took), but the first `listen` only publishes the list with an atomic
//! swap, which `total_listeners` reads without a lock, and an atomic state (the operation
//! lock's flag, a lane's room) is no lock at all. Each side therefore puts a `SeqCst`
//! fence between its write and its read (Dekker's pattern): without them a waiter and a
//! notifier could each miss the other (found by loom once the model allocated the list
//! lazily, as event-listener does; see `crate::loom_models`). A fence is a few cycles;
//! these paths are not the hot ones (a signal, a hop and a task never notify).

use std::sync::atomic::Ordering::SeqCst;

use crate::sync::{fence, Event, EventListener};

/// Wakes every listener of `event`, if it has any.
pub(crate) fn notify_all(event: &Event) {
    fence(SeqCst);
    if event.total_listeners() > 0 {
        event.notify(usize::MAX);
    }
}

/// Wakes one more listener of `event` (one that was not woken yet), if it has any.
pub(crate) fn notify_one_more(event: &Event) {
    fence(SeqCst);
    if event.total_listeners() > 0 {
        event.notify_additional(1);
    }
}

/// Listens to `event`, fenced (see the module's docs): the caller looks at its state after.
pub(crate) fn listen(event: &Event) -> EventListener {
    let listener = event.listen();
    fence(SeqCst);
    listener
}

/// The waiter's side of that pattern: `ready` is looked at, then looked at again after
/// listening to `event`, and the wait goes on until it gives a value.
pub(crate) async fn wait_for<T>(event: &Event, mut ready: impl FnMut() -> Option<T>) -> T {
    loop {
        if let Some(value) = ready() {
            return value;
        }
        let listener = listen(event);
        if let Some(value) = ready() {
            return value;
        }
        listener.await;
    }
}
