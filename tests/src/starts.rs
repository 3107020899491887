//! Starting a thread: a start that is cut short, and what a handle tells of its place in
//! the tree.

use std::time::Duration;

use task_thread::{
    start, Elapsed, Runtime, SpawnerExt, ThreadCx, ThreadEnd, ThreadError, ThreadHandle,
};

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

/// A failed `enter` is reported once the thread has shut down: its `exit` has run to its
/// end (here a slow flush), it has left its parent's registry, and another thread can be
/// started under its id at once. (It was reported as soon as `enter` returned: a root's
/// `run` returned, and its runtime was dropped, in the middle of its `exit`, and a retry
/// under the same id was refused as a duplicate.)
pub async fn a_failed_enter_is_reported_once_the_thread_has_shut_down(rt: Runtime) {
    let log = EventLog::default();
    let root = Node::new("f", &log).failing(Failure::FailingEnterSlowExit);
    match start(&rt, root).await {
        Err(ThreadError::EnterFailed {
            child,
            end: ThreadEnd::Failed(failure),
        }) => {
            assert_eq!(child, "f");
            assert_eq!(failure.during(), "enter");
            assert_eq!(failure.error().to_string(), "f fails in enter");
        }
        other => panic!("the failed enter was not reported: {other:?}"),
    }
    assert_eq!(log.events(), ["enter f", "exit f", "exit f flushed"]);

    let log = EventLog::default();
    let parent = start_inside(&rt, Node::new("p", &log)).await;
    let failing = Node::new("c", &log).failing(Failure::FailingEnterSlowExit);
    assert!(parent.spawn_child(failing).await.is_err());
    assert_eq!(parent.child_count(), 0);
    // As `spawn_child` returns, the child's exit is over (its parent may or may not have
    // handled its end yet).
    let when_returned = log.events();
    assert_eq!(
        when_returned[..4],
        ["enter p", "enter c", "exit c", "exit c flushed"]
    );
    log.wait_for_prefix("p saw c end: Failed").await;
    parent.spawn_child(Node::new("c", &log)).await.unwrap();
    assert_eq!(parent.child_ids(), ["c"]);
    parent.handle().terminate();
    assert_eq!(parent.handle().join().await, ThreadEnd::Stopped);
}

/// A root's `run` whose future is dropped (a `select!` or a timeout in the program that
/// embeds it) terminates its root: the tree ends instead of running on unreachable.
pub async fn a_dropped_run_terminates_its_root(rt: Runtime) {
    let _no_signals = crate::fixtures::signal_lock().await;
    let log = EventLog::default();
    let root = Node::new("r", &log).with_children(vec![Node::new("kid", &log)]);
    let given_up = rt.timeout(Duration::from_millis(10), task_thread::run(&rt, root));
    assert!(given_up.await.is_err());
    log.wait_for("exit kid").await;
    assert_eq!(log.events(), ["enter r", "enter kid", "exit r", "exit kid"]);
}
