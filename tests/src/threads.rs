//! TaskThreads: lifecycle, typed signals, children, the terminate cascade, deadlines and
//! failures. Each case names the defect of the original it would have caught.

use std::time::Duration;

use task_thread::{start, Panicked, Runtime, SendError, SpawnerExt, ThreadEnd, ThreadError};

use crate::fixtures::EventLog;
use crate::tree::{hold, start_exposed, start_inside, Cmd, Contexts, Failure, Node};

/// `enter` runs before any signal is handled, and signals from one sender arrive in order.
pub async fn enter_runs_first_and_signals_keep_their_order(rt: Runtime) {
    let log = EventLog::default();
    let mut node = Node::new("t", &log);
    node.capacity = 4;
    let thread = start(&rt, node).await.unwrap();
    for n in 0..200 {
        thread.send(Cmd::Note(n)).await.unwrap();
    }
    log.wait_for("t got 199").await;
    let expected: Vec<String> = std::iter::once("enter t".to_owned())
        .chain((0..200).map(|n| format!("t got {n}")))
        .collect();
    assert_eq!(log.events(), expected);
    thread.terminate();
    assert_eq!(thread.join().await, ThreadEnd::Stopped);
}

/// A handler's `Flow::Stop` ends the thread; only then does it stop (defect 2: the
/// original's default handler stopped on the first signal).
pub async fn a_handler_stop_ends_the_thread(rt: Runtime) {
    let log = EventLog::default();
    let thread = start(&rt, Node::new("t", &log)).await.unwrap();
    thread.send(Cmd::Note(1)).await.unwrap();
    thread.send(Cmd::Stop).await.unwrap();
    assert_eq!(thread.join().await, ThreadEnd::Stopped);
    assert_eq!(log.events(), ["enter t", "t got 1", "exit t"]);
}

/// Terminate runs the thread's own exit, then its children's (each subtree in the same
/// order), and `join` returns after all of them.
pub async fn terminate_cascades_exit_first_then_children(rt: Runtime) {
    let log = EventLog::default();
    let tree = Node::new("root", &log).with_children(vec![
        Node::new("a", &log).with_children(vec![Node::new("a1", &log)]),
        Node::new("b", &log),
    ]);
    let (root, nodes) = start_exposed(&rt, tree).await;
    let everyone = [
        nodes.handle("a1"),
        nodes.handle("a"),
        nodes.handle("b"),
        root.clone(),
    ];
    assert!(everyone.iter().all(|thread| thread.live_tasks() == 1));
    root.terminate();
    assert_eq!(root.join().await, ThreadEnd::Stopped);
    for thread in &everyone {
        assert_eq!(thread.end(), Some(ThreadEnd::Stopped), "{}", thread.id());
        assert_eq!(
            thread.live_tasks(),
            0,
            "{} left a task running",
            thread.id()
        );
    }
    for (before, after) in [
        ("exit root", "exit a"),
        ("exit root", "exit b"),
        ("exit a", "exit a1"),
    ] {
        assert!(
            log.position(before) < log.position(after),
            "{before} after {after}"
        );
    }
    assert_eq!(log.starting_with("exit").len(), 4);
}

/// `join` returns the same end to any number of waiters, before and after the end.
pub async fn join_serves_every_waiter(rt: Runtime) {
    let log = EventLog::default();
    let thread = start(&rt, Node::new("t", &log)).await.unwrap();
    let mut waiters = std::pin::pin!(futures::future::join_all((0..5).map(|_| thread.join())));
    // Polled once, so the waiters are registered before the end.
    assert!(futures::poll!(waiters.as_mut()).is_pending());
    thread.terminate();
    thread.terminate();
    assert!(waiters.await.iter().all(|end| *end == ThreadEnd::Stopped));
    assert_eq!(thread.join().await, ThreadEnd::Stopped);
    assert_eq!(thread.clone().join().await, ThreadEnd::Stopped);
}

/// Sending to a thread that has ended hands the signal back (defect 6).
pub async fn sending_to_an_ended_thread_hands_the_signal_back(rt: Runtime) {
    let log = EventLog::default();
    let thread = start(&rt, Node::new("t", &log)).await.unwrap();
    thread.terminate();
    thread.join().await;
    match thread.send(Cmd::Note(7)).await {
        Err(SendError::Ended(Cmd::Note(7))) => {}
        other => panic!("expected the signal back, got {:?}", other.err()),
    }
}

/// Signals still queued when a thread ends reach its undelivered hook, and a sender
/// waiting for room gets its signal back.
pub async fn queued_signals_reach_the_undelivered_hook(rt: Runtime) {
    let log = EventLog::default();
    let mut node = Node::new("t", &log);
    node.capacity = 3;
    let thread = start(&rt, node).await.unwrap();
    let open = hold(&thread, &log).await;
    for n in 0..3 {
        thread.send(Cmd::Note(n)).await.unwrap();
    }
    let sender = thread.clone();
    let blocked = rt.spawn(async move { sender.send(Cmd::Note(99)).await });
    thread.terminate();
    open.send(()).unwrap();
    assert_eq!(thread.join().await, ThreadEnd::Stopped);
    assert!(matches!(
        blocked.await.unwrap(),
        Err(SendError::Ended(Cmd::Note(99)))
    ));
    assert!(log.events().contains(&"t undelivered 3".to_owned()));
    assert!(!log.events().iter().any(|e| e.starts_with("t got")));
}

/// Two children's signals, queued interleaved behind a held loop: `c m0, c m1, d m2, c m3`.
/// (A lane names a signal's sender only when it differs from the one queued before.)
async fn queue_interleaved_from_two_children(nodes: &Contexts, log: &EventLog) {
    for (child, text) in [("c", "m0"), ("c", "m1"), ("d", "m2"), ("c", "m3")] {
        nodes
            .handle(child)
            .send(Cmd::Up(text.into()))
            .await
            .unwrap();
        log.wait_for(&format!("{child} sent up {text}")).await;
    }
}

fn parent_of_c_and_d(log: &EventLog) -> Node {
    Node::new("p", log).with_children(vec![Node::new("c", log), Node::new("d", log)])
}

/// Signals from children still queued when their parent ends reach the parent's hook for
/// them, each with its sender's id, in the order they were queued.
pub async fn queued_child_signals_reach_the_undelivered_hook(rt: Runtime) {
    let log = EventLog::default();
    let (parent, nodes) = start_exposed(&rt, parent_of_c_and_d(&log)).await;
    let open = hold(&parent, &log).await;
    queue_interleaved_from_two_children(&nodes, &log).await;
    parent.terminate();
    open.send(()).unwrap();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
    assert!(log
        .events()
        .contains(&"p undelivered from children c:m0,c:m1,d:m2,c:m3".to_owned()));
    assert!(!log.events().iter().any(|e| e.starts_with("p from")));
}

/// A signal left queued behind one the loop took (and that stopped the thread) reaches the
/// undelivered hook with its sender's id, though the lane named the sender only once, in
/// the signal taken.
pub async fn a_signal_queued_behind_a_taken_one_keeps_its_sender(rt: Runtime) {
    let log = EventLog::default();
    let (parent, nodes) = start_exposed(&rt, parent_of_c_and_d(&log)).await;
    let open = hold(&parent, &log).await;
    for text in ["stop", "m1"] {
        nodes.handle("c").send(Cmd::Up(text.into())).await.unwrap();
        log.wait_for(&format!("c sent up {text}")).await;
    }
    open.send(()).unwrap();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
    let events = log.events();
    assert!(events.contains(&"p from c: stop".to_owned()), "{events:?}");
    assert!(
        events.contains(&"p undelivered from children c:m1".to_owned()),
        "{events:?}"
    );
}

/// Each child signal reaches the handler with its own sender, whichever child queued the
/// signals around it.
pub async fn each_child_signal_comes_with_its_sender(rt: Runtime) {
    let log = EventLog::default();
    let (parent, nodes) = start_exposed(&rt, parent_of_c_and_d(&log)).await;
    let open = hold(&parent, &log).await;
    queue_interleaved_from_two_children(&nodes, &log).await;
    open.send(()).unwrap();
    log.wait_for("p from c: m3").await;
    let handled: Vec<String> = log.starting_with("p from");
    assert_eq!(
        handled,
        [
            "p from c: m0",
            "p from c: m1",
            "p from d: m2",
            "p from c: m3"
        ]
    );
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
}

/// A child that stops leaves its parent's registry, the parent is told (after the child's
/// last signals), and keeps running.
pub async fn a_stopped_child_leaves_the_registry(rt: Runtime) {
    let log = EventLog::default();
    let tree =
        Node::new("p", &log).with_children(vec![Node::new("c1", &log), Node::new("c2", &log)]);
    let parent = start_inside(&rt, tree).await;
    let mut ids = parent.child_ids();
    ids.sort();
    assert_eq!(ids, ["c1", "c2"]);
    let child = parent.find_child_of::<Node>("c1").unwrap();
    child.send(Cmd::Up("last words".into())).await.unwrap();
    child.send(Cmd::Stop).await.unwrap();
    log.wait_for("p saw c1 end: Stopped").await;
    assert_eq!(parent.child_ids(), ["c2"]);
    // What a child sent before it stopped reaches its parent before its end does.
    assert!(log.position("p from c1: last words") < log.position("p saw c1 end: Stopped"));
    let parent = parent.handle();
    parent.send(Cmd::Note(5)).await.unwrap();
    log.wait_for("p got 5").await;
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
}

/// Child -> parent signals arrive in order and are handled one at a time (defect 13: the
/// original's parent started a task per message and overflowed at once).
pub async fn child_signals_reach_the_parent_in_order(rt: Runtime) {
    let log = EventLog::default();
    let tree = Node::new("p", &log).with_children(vec![Node::new("c", &log)]);
    let (parent, nodes) = start_exposed(&rt, tree).await;
    let child = nodes.handle("c");
    for n in 0..300 {
        child.send(Cmd::Up(format!("m{n}"))).await.unwrap();
    }
    log.wait_for("p from c: m299").await;
    let received: Vec<String> = log.starting_with("p from c");
    let expected: Vec<String> = (0..300).map(|n| format!("p from c: m{n}")).collect();
    assert_eq!(received, expected);
    parent.terminate();
    parent.join().await;
}

/// A thread whose exit hangs is forced when its shutdown budget runs out (defect 11), and
/// a hanging grandchild never outlives the root's `join`.
pub async fn the_shutdown_budget_forces_a_hanging_exit(rt: Runtime) {
    let log = EventLog::default();
    let alone = start(
        &rt,
        Node::new("t", &log)
            .failing(Failure::HangingExit)
            .budget(Duration::from_millis(100)),
    )
    .await
    .unwrap();
    alone.terminate();
    assert_eq!(
        alone.join().await,
        ThreadEnd::Forced {
            what: "exit".into()
        }
    );

    let contexts = Contexts::default();
    let tree = Node::new("root", &log)
        .budget(Duration::from_millis(200))
        .with_children(vec![Node::new("child", &log)
            .exposed(&contexts)
            .with_children(vec![Node::new("grandchild", &log)
                .failing(Failure::HangingExit)
                .budget(Duration::from_secs(3600))
                .exposed(&contexts)])])
        .exposed(&contexts);
    start(&rt, tree).await.unwrap();
    let (root, child) = (contexts.of("root"), contexts.of("child"));
    let grandchild = contexts.of("grandchild").handle().clone();
    root.handle().terminate();
    root.handle().join().await;
    assert!(matches!(grandchild.end(), Some(ThreadEnd::Forced { .. })));
    // Its task, hanging in `exit`, has been dropped, not left running.
    log.wait_for("exit grandchild dropped").await;
    assert!(child.handle().end().is_some());
    // Forced or not, an ended child leaves its parent's registry.
    assert!(child.child_ids().is_empty(), "{:?}", child.child_ids());
    assert!(root.child_ids().is_empty(), "{:?}", root.child_ids());
    assert_eq!(
        root.tasks().live_tasks() + child.tasks().live_tasks() + grandchild.live_tasks(),
        0
    );
}

/// A panic in enter, in a handler or in a task is contained: logged, the thread's exit still
/// runs, its children are terminated, and the parent is told (defect 3).
pub async fn a_failure_is_contained_and_reported_to_the_parent(rt: Runtime) {
    crate::logs::capture();
    let log = EventLog::default();
    let tree = Node::new("p", &log).with_children(vec![
        Node::new("by_handler", &log).with_children(vec![Node::new("grandchild", &log)]),
        Node::new("by_task", &log).failing(Failure::Task),
    ]);
    let parent = start_inside(&rt, tree).await;
    let by_handler = parent.find_child_of::<Node>("by_handler").unwrap();
    by_handler.send(Cmd::Panic).await.unwrap();
    log.wait_for_prefix("p saw by_handler end: Failed").await;
    log.wait_for_prefix("p saw by_task end: Failed").await;
    for exited in ["exit by_handler", "exit grandchild", "exit by_task"] {
        log.position(exited);
    }
    assert!(log.position("exit by_handler") < log.position("exit grandchild"));
    assert!(parent.child_ids().is_empty());
    assert!(crate::logs::contains_line(&[
        "ERROR",
        "by_handler",
        "on_signal",
        "fails in on_signal"
    ]));
    assert!(crate::logs::contains_line(&[
        "ERROR",
        "by_task",
        "doomed",
        "task of by_task fails"
    ]));

    match start(&rt, Node::new("e", &log).failing(Failure::Enter)).await {
        Err(ThreadError::EnterFailed {
            child,
            end: ThreadEnd::Failed(failure),
        }) => {
            assert_eq!(child, "e");
            assert_eq!(failure.during(), "enter");
            let panic = failure.downcast_ref::<Panicked>().unwrap();
            assert_eq!(panic.message(), "e fails in enter");
        }
        other => panic!("enter's panic was not reported: {other:?}"),
    }
    log.wait_for("exit e").await;
    let parent = parent.handle();
    parent.send(Cmd::Note(1)).await.unwrap();
    log.wait_for("p got 1").await;
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
}

/// A stop requested before the signal loop runs still ends the thread (defect 10), and
/// children stopping themselves while their parent terminates change nothing (defect 9).
pub async fn early_stops_and_racing_children_still_end_the_tree(rt: Runtime) {
    let log = EventLog::default();
    let early = start(&rt, Node::new("early", &log).failing(Failure::StopInEnter))
        .await
        .unwrap();
    assert_eq!(early.join().await, ThreadEnd::Stopped);
    let children = (0..50).map(|i| Node::new(&format!("c{i}"), &log)).collect();
    let (parent, nodes) = start_exposed(&rt, Node::new("p", &log).with_children(children)).await;
    let children: Vec<_> = (0..50).map(|i| nodes.handle(&format!("c{i}"))).collect();
    for (i, child) in children.iter().enumerate() {
        let _ = child.send(Cmd::Stop).await;
        if i == 25 {
            parent.terminate();
        }
    }
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
    assert_eq!(log.starting_with("exit c").len(), 50);
}

/// Deep chains (each thread creating its child in enter, defect 12) and wide trees start
/// and terminate, and leave no task behind.
pub async fn deep_and_wide_trees_start_and_terminate(rt: Runtime) {
    let log = EventLog::default();
    let mut chain = Node::new("d1000", &log);
    for depth in (1..1000).rev() {
        chain = Node::new(&format!("d{depth}"), &log).with_children(vec![chain]);
    }
    let root = start(&rt, chain).await.unwrap();
    root.terminate();
    assert_eq!(root.join().await, ThreadEnd::Stopped);
    assert_eq!(log.starting_with("exit d").len(), 1000);

    let wide_log = EventLog::default();
    let children = (0..10_000)
        .map(|i| Node::new(&format!("w{i}"), &wide_log))
        .collect();
    let root = start_inside(
        &rt,
        Node::new("root_of_all", &wide_log).with_children(children),
    )
    .await;
    assert_eq!(root.child_ids().len(), 10_000);
    let root = root.handle();
    root.terminate();
    assert_eq!(root.join().await, ThreadEnd::Stopped);
    assert_eq!(wide_log.starting_with("exit w").len(), 10_000);
}

/// Several roots in one process each end on SIGINT (defect 4); a root whose shutdown hangs
/// still ends when its budget runs out (defect 11), and a second SIGINT forces it at once.
pub async fn roots_end_on_shutdown_signals(rt: Runtime) {
    let _alone = crate::fixtures::signal_lock().await;
    let log = EventLog::default();
    let run = |node: Node| {
        let rt2 = rt.clone();
        rt.spawn(async move { task_thread::run(&rt2, node).await.end().clone() })
    };
    let plain = run(Node::new("r1", &log));
    let hanging = run(Node::new("r2", &log)
        .failing(Failure::HangingExit)
        .budget(Duration::from_millis(100)));
    log.wait_for("enter r1").await;
    log.wait_for("enter r2").await;
    crate::spawner::send_signal_to_self("INT");
    assert_eq!(plain.await.unwrap(), ThreadEnd::Stopped);
    assert_eq!(
        hanging.await.unwrap(),
        ThreadEnd::Forced {
            what: "exit".into()
        }
    );

    let stubborn = run(Node::new("r3", &log)
        .failing(Failure::HangingExit)
        .budget(Duration::from_secs(3600)));
    log.wait_for("enter r3").await;
    crate::spawner::send_signal_to_self("TERM");
    log.wait_for("exit r3").await;
    crate::spawner::send_signal_to_self("INT");
    assert!(matches!(stubborn.await.unwrap(), ThreadEnd::Forced { .. }));
    // Forced while its exit hangs, with an hour of budget left: its task is dropped.
    log.wait_for("exit r3 dropped").await;
}

/// A handler that never returns does not keep a terminated thread alive: it is dropped at
/// the shutdown deadline (defect 11 for a hung handler), and a panic in an undelivered
/// hook is contained too.
pub async fn a_hung_handler_or_a_failing_hook_cannot_block_the_end(rt: Runtime) {
    let log = EventLog::default();
    let hung = start(
        &rt,
        Node::new("hung", &log).budget(Duration::from_millis(100)),
    )
    .await
    .unwrap();
    let _never_opened = hold(&hung, &log).await;
    hung.terminate();
    assert_eq!(
        hung.join().await,
        ThreadEnd::Forced {
            what: "on_signal".into()
        }
    );
    log.position("exit hung");

    let mut fragile = Node::new("fragile", &log).failing(Failure::PanicInUndelivered);
    fragile.capacity = 4;
    let fragile = start(&rt, fragile).await.unwrap();
    let open = hold(&fragile, &log).await;
    fragile.send(Cmd::Note(1)).await.unwrap();
    fragile.terminate();
    open.send(()).unwrap();
    assert_eq!(fragile.join().await, ThreadEnd::Stopped);
    log.position("exit fragile");
}

/// A tree that has ended holds on to nothing: once its handles are dropped, every clone of
/// the runtime its threads, slots and tasks used is released. A reference cycle anywhere
/// (a slot and its group, a child and its parent) would keep one forever.
pub async fn an_ended_tree_releases_everything_it_held(rt: Runtime) {
    let (tracked, released) = crate::runtimes::Tracked::wrap(&rt);
    let log = EventLog::default();
    let tree = Node::new("root", &log).with_children(vec![
        Node::new("a", &log).with_children(vec![Node::new("a1", &log)]),
        Node::new("b", &log).failing(Failure::Task),
    ]);
    let (root, nodes) = start_exposed(&tracked, tree).await;
    nodes
        .handle("a")
        .send(Cmd::Up("hello".into()))
        .await
        .unwrap();
    // The contexts the nodes handed out would keep the tree.
    drop(nodes);
    log.wait_for("root from a: hello").await;
    let tasks = task_thread::TaskGroup::new(tracked.clone(), "bare");
    tasks
        .slot("sleeper")
        .re_create_fn(|task| async move { task.sleep(Duration::from_secs(3600)).await })
        .await
        .unwrap();
    tasks.delete_all().await.unwrap();
    root.terminate();
    assert_eq!(root.join().await, ThreadEnd::Stopped);
    drop((root, tasks, tracked));
    released.wait().await;
}
