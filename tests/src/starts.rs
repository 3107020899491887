//! Starting a thread: a start that is cut short, and what a handle tells of its place in
//! the tree.

use std::time::Duration;

use task_thread::{start, Elapsed, Runtime, SpawnerExt, ThreadCx, ThreadEnd, ThreadHandle};

use crate::fixtures::EventLog;
use crate::tree::{start_inside, Failure, Node};

/// A start whose `enter` hangs can be given a deadline: a timeout around `start` (or
/// `spawn_child`) drops it, and dropping a start before `enter` has returned terminates
/// the thread. Its `enter` gets the thread's shutdown budget to return, is then dropped,
/// and the thread ends as forced in `enter` after its `exit`; a parent sees that end and
/// no longer counts the child. (Before, a caller had no handle to stop such a thread.)
pub async fn a_start_cut_short_terminates_the_thread(rt: Runtime) {
    let log = EventLog::default();
    let hung = Node::new("hung", &log)
        .failing(Failure::HangingEnter)
        .budget(Duration::from_millis(20));
    let given_up = rt
        .timeout(Duration::from_millis(10), start(&rt, hung))
        .await;
    assert_eq!(given_up.err(), Some(Elapsed(Duration::from_millis(10))));
    log.wait_for("exit hung").await;
    assert_eq!(
        log.events(),
        ["enter hung", "enter hung dropped", "exit hung"]
    );

    let log = EventLog::default();
    let parent = start_inside(&rt, Node::new("p", &log)).await;
    let slow = Node::new("slow", &log)
        .failing(Failure::HangingEnter)
        .budget(Duration::from_millis(20));
    let given_up = rt
        .timeout(Duration::from_millis(10), parent.spawn_child(slow))
        .await;
    assert!(given_up.is_err());
    let forced_in_enter = ThreadEnd::Forced {
        what: "enter".into(),
    };
    log.wait_for(&format!("p saw slow end: {forced_in_enter:?}"))
        .await;
    assert_eq!(parent.child_count(), 0);
    parent.handle().terminate();
    assert_eq!(parent.handle().join().await, ThreadEnd::Stopped);
    assert_eq!(
        log.events(),
        [
            "enter p",
            "enter slow",
            "enter slow dropped",
            "exit slow",
            &format!("p saw slow end: {forced_in_enter:?}"),
            "exit p",
        ]
    );
}

/// A handle tells its thread's parent, read-only: a root has none, a child names its
/// parent, also once it has ended. Handles and contexts go anywhere: `Clone + Send + Sync`.
pub async fn a_handle_tells_its_parent(rt: Runtime) {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<ThreadHandle<Node>>();
    shareable::<ThreadCx<Node>>();
    let log = EventLog::default();
    let root = start_inside(
        &rt,
        Node::new("root", &log).with_children(vec![Node::new("kid", &log)]),
    )
    .await;
    let kid = root.find_child_of::<Node>("kid").unwrap();
    assert_eq!(root.handle().parent_id(), None);
    assert_eq!(kid.parent_id().as_deref(), Some("root"));
    root.handle().terminate();
    root.handle().join().await;
    assert_eq!(kid.join().await, ThreadEnd::Stopped);
    assert_eq!(kid.parent_id().as_deref(), Some("root"));
}
