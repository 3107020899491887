//! [`OperationLock`]: what runs a slot's `re_create` and `delete` one at a time.
//!
//! An async lock without data, of 16 bytes, because every slot has one: futures' `Mutex` is
//! 56 bytes (a slab of waiters behind a std mutex), and async-lock's notifies its event on
//! every unlock, which allocates the event's list (72 bytes) even when nobody waits.
//! Uncontended, locking is one compare-and-swap and unlocking one store.

use std::sync::atomic::{AtomicBool, Ordering};

use event_listener::Event;

/// Invariants: at most one [`OperationGuard`] exists at a time; once a locker has had to
/// wait, every unlock notifies one waiter (`contended` is never cleared), and a waiter
/// listens before trying again, so no unlock is missed.
pub(crate) struct OperationLock {
    locked: AtomicBool,
    /// Set by the first locker that had to wait.
    contended: AtomicBool,
    unlocked: Event,
}

/// Held while an operation runs; unlocks when dropped.
pub(crate) struct OperationGuard<'a>(&'a OperationLock);

impl OperationLock {
    pub(crate) fn new() -> Self {
        OperationLock {
            locked: AtomicBool::new(false),
            contended: AtomicBool::new(false),
            unlocked: Event::new(),
        }
    }

    /// The lock, if it is free now.
    pub(crate) fn try_lock(&self) -> Option<OperationGuard<'_>> {
        self.locked
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .ok()
            .map(|_| OperationGuard(self))
    }

    /// Waits for the lock.
    pub(crate) async fn lock(&self) -> OperationGuard<'_> {
        loop {
            if let Some(guard) = self.try_lock() {
                return guard;
            }
            // SeqCst with the unlock's store and load: either the unlock sees this flag
            // and notifies, or the try below sees the lock free.
            self.contended.store(true, Ordering::SeqCst);
            let listener = self.unlocked.listen();
            if let Some(guard) = self.try_lock() {
                return guard;
            }
            listener.await;
        }
    }
}

impl Drop for OperationGuard<'_> {
    fn drop(&mut self) {
        self.0.locked.store(false, Ordering::SeqCst);
        if self.0.contended.load(Ordering::SeqCst) {
            self.0.unlocked.notify(1);
        }
    }
}
