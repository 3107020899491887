//! What the conformance suite cannot reach from outside: a force's `cancel_all` landing
//! while `re_create` spawns, between the spawn and the storing of the handle (see
//! `slot::InFlight`). A runtime of its own calls `cancel_all` from inside `spawn_raw`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;

use crate::{RawOutput, RawTask, Runtime, ShutdownSignal, Spawner, TaskGroup};

/// A task that is never run: its cancel drops it.
struct Parked {
    future: Option<BoxFuture<'static, RawOutput>>,
    cancelled: Arc<AtomicBool>,
}

impl RawTask for Parked {
    fn cancel(&mut self) {
        self.future = None;
        self.cancelled.store(true, Ordering::SeqCst);
    }

    fn poll_end(&mut self, _cx: &mut Context<'_>) -> Poll<Option<RawOutput>> {
        match self.future {
            None => Poll::Ready(None),
            Some(_) => Poll::Pending,
        }
    }
}

/// Cancels every task of `group` from inside each spawn, then parks the spawned task.
struct CancelsWhileSpawning {
    group: Arc<OnceLock<TaskGroup>>,
    cancelled: Arc<AtomicBool>,
}

impl Spawner for CancelsWhileSpawning {
    fn name(&self) -> &'static str {
        "cancels-while-spawning"
    }
    fn spawn_raw(&self, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        if let Some(group) = self.group.get() {
            group.cancel_all();
        }
        Box::new(Parked {
            future: Some(future),
            cancelled: self.cancelled.clone(),
        })
    }
    fn sleep(&self, _duration: Duration) -> BoxFuture<'static, ()> {
        futures::future::pending().boxed()
    }
    fn defer_wake(&self, waker: &std::task::Waker) {
        waker.wake_by_ref();
    }
    fn shutdown_signal(&self) -> BoxFuture<'static, std::io::Result<ShutdownSignal>> {
        futures::future::pending().boxed()
    }
}

/// Looks at its slot when dropped, from another OS thread, and says what it saw: `None`
/// if the look did not come back (the slot's lock is held by whoever drops this).
struct LooksWhenDropped {
    slot: crate::TaskSlot,
    saw: std::sync::mpsc::Sender<Option<bool>>,
}

impl Drop for LooksWhenDropped {
    fn drop(&mut self) {
        let slot = self.slot.clone();
        let (looked, look) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = looked.send(slot.is_live());
        });
        let _ = self
            .saw
            .send(look.recv_timeout(Duration::from_secs(10)).ok());
    }
}

#[test]
fn a_cancel_while_re_create_spawns_cancels_the_new_task() {
    let group_cell = Arc::new(OnceLock::new());
    let cancelled = Arc::new(AtomicBool::new(false));
    let runtime = Runtime::new(CancelsWhileSpawning {
        group: group_cell.clone(),
        cancelled: cancelled.clone(),
    });
    let group = TaskGroup::new(runtime, "forced");
    let _ = group_cell.set(group.clone());
    let slot = group.slot("late");
    let (saw, seen) = std::sync::mpsc::channel();
    let looks = LooksWhenDropped {
        slot: slot.clone(),
        saw,
    };
    let started = futures::executor::block_on(slot.re_create_fn(move |_cx| {
        let _looks = &looks;
        async {}
    }));
    // Started, then cancelled at once: as if the cancel had come just after.
    assert_eq!(started, Ok(()));
    assert!(
        cancelled.load(Ordering::SeqCst),
        "the new task was not cancelled"
    );
    assert!(!slot.is_live());
    assert_eq!(group.live_tasks(), 0);
    // Cancelled (and so dropped) without the slot's lock held.
    assert_eq!(seen.try_recv(), Ok(Some(false)));
}
