//! What the conformance suite cannot reach from outside: a force's `cancel_all` landing
//! while `re_create` spawns, between the spawn and the storing of the handle (see
//! `slot::InFlight`). A runtime of its own calls `cancel_all` from inside `spawn_raw`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;

use crate::test_runtime::TestRuntime;
use crate::{RawOutput, RawTask, Runtime, TaskGroup};

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
    let group_cell: Arc<OnceLock<TaskGroup>> = Arc::new(OnceLock::new());
    let cancelled = Arc::new(AtomicBool::new(false));
    // Cancels every task of the group from inside each spawn, then parks the spawned task.
    let (group_of_spawn, cancelled_by_spawn) = (group_cell.clone(), cancelled.clone());
    let runtime = Runtime::new(TestRuntime {
        name: "cancels-while-spawning",
        spawn: move |future| {
            if let Some(group) = group_of_spawn.get() {
                group.cancel_all();
            }
            Box::new(Parked {
                future: Some(future),
                cancelled: cancelled_by_spawn.clone(),
            }) as Box<dyn RawTask>
        },
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
