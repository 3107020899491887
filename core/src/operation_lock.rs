//! [`OperationLock`]: what runs a slot's `re_create` and `delete` one at a time.
//!
//! An async lock without data, of 16 bytes, because every slot has one: futures' `Mutex` is
//! 56 bytes (a slab of waiters behind a std mutex), and async-lock's notifies its event on
//! every unlock, which allocates the event's list (72 bytes) even when nobody waits.
//! Uncontended, locking is one compare-and-swap and unlocking one store.

use std::sync::atomic::Ordering;

use crate::sync::{AtomicBool, Event};

use crate::notify::{notify_one_more, wait_for};

/// Invariants: at most one [`OperationGuard`] exists at a time; every unlock wakes one
/// more waiter if there is one, and a waiter listens before trying again, so no unlock is
/// missed (see `crate::notify`).
pub(crate) struct OperationLock {
    locked: AtomicBool,
    unlocked: Event,
}

/// Held while an operation runs; unlocks when dropped.
pub(crate) struct OperationGuard<'a>(&'a OperationLock);

impl OperationLock {
    pub(crate) fn new() -> Self {
        OperationLock {
            locked: AtomicBool::new(false),
            unlocked: Event::new(),
        }
    }

    /// The lock, if it is free now.
    fn try_lock(&self) -> Option<OperationGuard<'_>> {
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| OperationGuard(self))
    }

    /// Waits for the lock.
    pub(crate) async fn lock(&self) -> OperationGuard<'_> {
        wait_for(&self.unlocked, || self.try_lock()).await
    }
}

impl Drop for OperationGuard<'_> {
    fn drop(&mut self) {
        self.0.locked.store(false, Ordering::Release);
        notify_one_more(&self.0.unlocked);
    }
}
