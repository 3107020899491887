//! Runtimes that refuse a spawn or drop a task without its ending, as a runtime shutting
//! down does (the fixture runtimes of `runtimes.rs`): slots and threads are left in order,
//! with no lock held while user code is dropped, no stale handle, and no `join` left
//! waiting.

use std::sync::atomic::Ordering;
use std::time::Duration;

use task_thread::{start, Runtime, SlotError, TaskGroup, TaskSlot, ThreadEnd, ThreadError};

use crate::fixtures::{Counter, EventLog};
use crate::logs;
use crate::runtimes::{Dropping, OnTheSpot, Refusing, StartsThenDrops, Tracked};
use crate::tree::{start_inside, Cmd, Contexts, Node};

/// Looks at its slot when dropped, and says what it saw.
struct LooksWhenDropped {
    slot: TaskSlot,
    saw: std::sync::mpsc::Sender<bool>,
}

impl Drop for LooksWhenDropped {
    fn drop(&mut self) {
        let _ = self.saw.send(self.slot.is_live());
    }
}

/// A runtime that refuses the spawn (it is shutting down) makes `re_create` fail with
/// `SlotError::Refused` naming the thread and the task, and leaves the slot empty; the
/// task function is dropped without the slot's lock held, so its destructor can look at
/// the slot (with the lock held, it would deadlock).
pub async fn a_refused_spawn_is_an_error_and_leaves_the_slot_empty(rt: Runtime) {
    logs::capture();
    let group = TaskGroup::new(Refusing::wrap(&rt), "doomed");
    let slot = group.slot("never");
    let (saw, seen) = std::sync::mpsc::channel();
    let looks = LooksWhenDropped {
        slot: slot.clone(),
        saw,
    };
    let started = slot
        .re_create_fn(move |cx| {
            let _looks = &looks;
            async move { cx.sleep(Duration::from_secs(3600)).await }
        })
        .await;
    assert_eq!(
        started,
        Err(SlotError::Refused {
            thread: "doomed".into(),
            task: "never".into(),
        })
    );
    assert_eq!(seen.try_recv(), Ok(true), "dropped while being spawned");
    assert!(!slot.is_live());
    assert_eq!(group.live_tasks(), 0);
    assert!(logs::contains_line(&["doomed", "never", "refused"]));
}

/// A task its runtime starts and then drops while `re_create` spawns it is not reported
/// as refused (it ran): `re_create` succeeds and the slot is left empty.
pub async fn a_task_started_then_dropped_while_spawned_is_not_refused(rt: Runtime) {
    let group = TaskGroup::new(StartsThenDrops::wrap(&rt), "shutting-down");
    let slot = group.slot("brief");
    let ran = Counter::default();
    let runs = ran.clone();
    slot.re_create_fn(move |_cx| {
        runs.bump();
        futures::future::pending::<()>()
    })
    .await
    .unwrap();
    assert_eq!(ran.get(), 1);
    assert!(!slot.is_live());
    assert_eq!(group.live_tasks(), 0);
}

/// A task its runtime drops without its ending (the runtime is shutting down) leaves its
/// slot empty, as if it had ended: the slot keeps no handle to a task that is gone.
pub async fn a_task_its_runtime_drops_leaves_the_slot_empty(rt: Runtime) {
    let (dropping, dropper) = Dropping::wrap(&rt);
    let group = TaskGroup::new(dropping, "shutting-down");
    let slot = group.slot("sleeper");
    slot.re_create_fn(|cx| async move { cx.sleep(Duration::from_secs(3600)).await })
        .await
        .unwrap();
    assert!(slot.is_live());
    dropper.drop_all();
    group.idle().await;
    assert!(!slot.is_live());
}

/// A task that ends before its spawn has returned (a runtime that runs it on the spot)
/// leaves the slot empty, and `re_create` succeeds: the task ran.
pub async fn a_task_that_ends_while_spawned_leaves_the_slot_empty(rt: Runtime) {
    let group = TaskGroup::new(OnTheSpot::wrap(&rt), "quick");
    let slot = group.slot("blink");
    let ran = Counter::default();
    let runs = ran.clone();
    slot.re_create_fn(move |_cx| {
        runs.bump();
        async {}
    })
    .await
    .unwrap();
    assert_eq!(ran.get(), 1);
    assert!(!slot.is_live());
    assert_eq!(group.live_tasks(), 0);
}

/// A child whose own task the runtime refuses to spawn (it is shutting down) is reported
/// by `spawn_child` (naming why), leaves its parent's registry, and is not waited for by
/// the parent's shutdown, which ends as stopped.
pub async fn a_child_the_runtime_refuses_to_run_leaves_no_trace(rt: Runtime) {
    logs::capture();
    let (rt, refusing) = Refusing::switchable(&rt, false);
    let log = EventLog::default();
    let parent = start_inside(&rt, Node::new("p", &log)).await;
    refusing.store(true, Ordering::SeqCst);
    match parent.spawn_child(Node::new("kid", &log)).await {
        Err(ThreadError::EnterFailed { child, end }) => {
            assert_eq!(child, "kid");
            let dropped = ThreadEnd::Forced {
                what: "its task, dropped by its runtime".into(),
            };
            assert_eq!(end, dropped);
        }
        other => panic!("the refused child was not reported: {other:?}"),
    }
    assert_eq!(parent.child_count(), 0);
    refusing.store(false, Ordering::SeqCst);
    parent.handle().terminate();
    assert_eq!(parent.handle().join().await, ThreadEnd::Stopped);
}

/// When its runtime drops a tree's tasks without a shutdown (as a runtime that is itself
/// shutting down does), every thread ends, so that its `join`s return: as forced, or, for
/// a child whose parent's dropped task terminated it before its own was dropped (two
/// workers can do both at once), as stopped. Nothing of the tree keeps anything alive once
/// its handles are dropped: the links between parents and children (and a child's signal
/// the parent took last) are released.
pub async fn a_tree_whose_tasks_its_runtime_drops_ends_and_is_released(rt: Runtime) {
    let (dropping, dropper) = Dropping::wrap(&rt);
    let (tracked, released) = Tracked::wrap(&dropping);
    drop(dropping);
    let log = EventLog::default();
    let contexts = Contexts::default();
    let tree = Node::new("root", &log).with_children(vec![
        Node::new("a", &log)
            .with_children(vec![Node::new("a1", &log)])
            .exposed(&contexts),
        Node::new("b", &log),
    ]);
    let root = start(&tracked, tree).await.unwrap();
    drop(tracked);
    let a = contexts.of("a").handle().clone();
    drop(contexts);
    a.send(Cmd::Up("x".into())).await.unwrap();
    log.wait_for("root from a: x").await;
    dropper.drop_all();
    let dropped = ThreadEnd::Forced {
        what: "its task, dropped by its runtime".into(),
    };
    assert_eq!(root.join().await, dropped);
    let child_end = a.join().await;
    assert!(
        child_end == dropped || child_end == ThreadEnd::Stopped,
        "{child_end:?}"
    );
    drop((root, a));
    released.wait().await;
}
