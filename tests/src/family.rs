//! Children of several types: lookups by id and type, sends to one or all, adding errors,
//! and full queues under both overflow policies.

use futures::channel::oneshot;
use task_thread::{start, OverflowPolicy, Runtime, SendError, SpawnerExt, ThreadEnd, ThreadError};

use crate::fixtures::EventLog;
use crate::logs;
use crate::tree::{hold, start_inside, Cmd, Contexts, Failure, Leaf, Node};

/// A parent finds its children by id, by type, or both, and sends to one child or to every
/// child that accepts the signal's type.
pub async fn children_are_found_and_signalled_by_id_and_type(rt: Runtime) {
    let log = EventLog::default();
    let parent = start_inside(
        &rt,
        Node::new("p", &log).with_children(vec![Node::new("n1", &log), Node::new("n2", &log)]),
    )
    .await;
    for id in ["l1", "l2"] {
        let leaf = Leaf {
            id: id.into(),
            log: log.clone(),
        };
        parent.spawn_child(leaf).await.unwrap();
    }
    let mut ids = parent.child_ids();
    ids.sort();
    assert_eq!(ids, ["l1", "l2", "n1", "n2"]);
    let mut leaves = parent.child_ids_of::<Leaf>();
    leaves.sort();
    assert_eq!(leaves, ["l1", "l2"]);
    assert!(parent.find_child("l1").unwrap().is::<Leaf>());
    assert!(parent.find_child_of::<Leaf>("n1").is_none());
    assert_eq!(parent.find_child_of::<Node>("n1").unwrap().id(), "n1");
    assert!(parent.find_child("nobody").is_none());

    parent.send_to_child::<Leaf>("l1", 5).await.unwrap();
    log.wait_for("l1 got 5").await;
    parent
        .send_to_child::<Node>("n2", Cmd::Note(6))
        .await
        .unwrap();
    log.wait_for("n2 got 6").await;
    // The signal's type is checked when compiling (a `Cmd` to a `Leaf` does not build);
    // that the child is of the type named is checked when sending.
    assert!(matches!(
        parent.send_to_child::<Node>("l1", Cmd::Note(1)).await,
        Err(SendError::NoSuchChild(Cmd::Note(1)))
    ));
    assert_eq!(
        parent.send_to_child::<Leaf>("n1", 1).await,
        Err(SendError::NoSuchChild(1))
    );
    assert_eq!(
        parent.send_to_child::<Leaf>("nobody", 2).await,
        Err(SendError::NoSuchChild(2))
    );

    assert!(parent.send_to_children::<Leaf>(7).await.is_empty());
    log.wait_for("l1 got 7").await;
    log.wait_for("l2 got 7").await;
    assert!(!log
        .events()
        .iter()
        .any(|e| e.starts_with("n") && e.ends_with("got 7")));
    parent.handle().terminate();
    assert_eq!(parent.handle().join().await, ThreadEnd::Stopped);
}

/// Adding a child that already has a parent is refused and leaves it running; a duplicate
/// id or a parent that has ended is refused and the child is terminated: no orphan.
pub async fn add_child_refuses_with_a_reason_and_leaves_no_orphan(rt: Runtime) {
    let log = EventLog::default();
    let parent = start_inside(&rt, Node::new("p", &log)).await;
    let other_parent = start_inside(&rt, Node::new("q", &log)).await;
    let child = start(&rt, Node::new("x", &log)).await.unwrap();
    parent.add_child(&child).unwrap();
    assert_eq!(
        other_parent.add_child(&child),
        Err(ThreadError::AlreadyHasParent { child: "x".into() })
    );
    assert_eq!(
        child.end(),
        None,
        "a refused child that has a parent keeps running"
    );

    let twin = start(&rt, Node::new("x", &log)).await.unwrap();
    assert_eq!(
        parent.add_child(&twin),
        Err(ThreadError::DuplicateId { child: "x".into() })
    );
    assert_eq!(twin.join().await, ThreadEnd::Stopped);

    parent.handle().terminate();
    parent.handle().join().await;
    let late = start(&rt, Node::new("late", &log)).await.unwrap();
    assert_eq!(
        parent.add_child(&late),
        Err(ThreadError::ParentShuttingDown { parent: "p".into() })
    );
    assert_eq!(late.join().await, ThreadEnd::Stopped);
    assert!(matches!(
        parent.spawn_child(Node::new("later", &log)).await,
        Err(ThreadError::ParentShuttingDown { .. })
    ));
    assert_eq!(child.join().await, ThreadEnd::Stopped);
    other_parent.handle().terminate();
    other_parent.handle().join().await;
}

/// A full queue calls the receiver's overflow hook, then a reject policy hands the signal
/// back while a wait policy waits for room; nothing is lost or reordered.
pub async fn full_queues_call_the_hook_then_apply_the_policy(rt: Runtime) {
    logs::capture();
    let log = EventLog::default();
    let mut rejecting = Node::new("rejecting", &log);
    rejecting.capacity = 2;
    rejecting.overflow = OverflowPolicy::Reject;
    let rejecting = start(&rt, rejecting).await.unwrap();
    let open = hold(&rejecting, &log).await;
    rejecting.send(Cmd::Note(1)).await.unwrap();
    rejecting.send(Cmd::Note(2)).await.unwrap();
    assert!(matches!(
        rejecting.send(Cmd::Note(3)).await,
        Err(SendError::Full(Cmd::Note(3)))
    ));
    assert!(logs::contains_line(&[
        "WARN",
        "rejecting",
        "FromParent",
        "queue full"
    ]));
    open.send(()).unwrap();
    log.wait_for("rejecting got 2").await;
    rejecting.terminate();
    rejecting.join().await;

    let mut waiting = Node::new("waiting", &log);
    waiting.capacity = 2;
    let waiting = start(&rt, waiting).await.unwrap();
    let open = hold(&waiting, &log).await;
    let sender = waiting.clone();
    let sending = rt.spawn(async move {
        for n in 0..10 {
            sender.send(Cmd::Note(n)).await.unwrap();
        }
    });
    log_until_full("waiting").await;
    open.send(()).unwrap();
    sending.await.unwrap();
    log.wait_for("waiting got 9").await;
    let got: Vec<String> = log.starting_with("waiting got");
    assert_eq!(
        got,
        (0..10)
            .map(|n| format!("waiting got {n}"))
            .collect::<Vec<_>>()
    );
    waiting.terminate();
    waiting.join().await;

    let mut parent = Node::new("busy_parent", &log).with_children(vec![Node::new("chatty", &log)]);
    parent.child_capacity = 1;
    parent.overflow = OverflowPolicy::Reject;
    let parent = start_inside(&rt, parent).await;
    let open = hold(parent.handle(), &log).await;
    let chatty = parent.find_child_of::<Node>("chatty").unwrap();
    chatty.send(Cmd::Up("first".into())).await.unwrap();
    chatty.send(Cmd::Up("second".into())).await.unwrap();
    log.wait_for("chatty up refused: SendError::Full(..)").await;
    assert!(logs::contains_line(&[
        "WARN",
        "busy_parent",
        "FromChildren",
        "queue full"
    ]));
    open.send(()).unwrap();
    log.wait_for("busy_parent from chatty: first").await;
    parent.handle().terminate();
    parent.handle().join().await;
}

/// Signals the loop has taken from a full queue but not handled yet still count against
/// its capacity, however the loop takes them (one by one, or the whole queue at once when
/// many wait): a sender never finds room the handlers have not made. At the end they go to
/// the undelivered hook with what was still queued.
pub async fn signals_taken_but_not_handled_count_against_the_capacity(rt: Runtime) {
    let log = EventLog::default();
    let mut node = Node::new("batched", &log);
    node.capacity = 10;
    node.overflow = OverflowPolicy::Reject;
    let node = start(&rt, node).await.unwrap();
    let open_first = hold(&node, &log).await;
    // While the loop waits, a second gate and nine notes fill the queue.
    let (open_second, second) = oneshot::channel();
    node.send(Cmd::Wait(second)).await.unwrap();
    for n in 1..=9 {
        node.send(Cmd::Note(n)).await.unwrap();
    }
    assert!(matches!(
        node.send(Cmd::Note(10)).await,
        Err(SendError::Full(Cmd::Note(10)))
    ));
    // The loop takes the second gate and waits there: nine signals are still unhandled,
    // so exactly one more fits.
    open_first.send(()).unwrap();
    log.wait_for_times("batched waits", 2).await;
    node.send(Cmd::Note(10)).await.unwrap();
    assert!(matches!(
        node.send(Cmd::Note(11)).await,
        Err(SendError::Full(Cmd::Note(11)))
    ));
    // Ended there: what was taken but not handled goes to the undelivered hook with what
    // was still queued, nothing is lost and nothing more is handled.
    node.terminate();
    open_second.send(()).unwrap();
    assert_eq!(node.join().await, ThreadEnd::Stopped);
    log.wait_for("batched undelivered 10").await;
    assert!(!log.events().iter().any(|e| e.starts_with("batched got")));
}

/// A sender waiting for room when the thread ends gets its signal back in
/// `SendError::Ended`; the signal that was queued goes to the undelivered hook.
pub async fn a_sender_waiting_for_room_gets_its_signal_back_at_the_end(rt: Runtime) {
    logs::capture();
    let log = EventLog::default();
    let mut closing = Node::new("closing", &log);
    closing.capacity = 1;
    let closing = start(&rt, closing).await.unwrap();
    let open = hold(&closing, &log).await;
    closing.send(Cmd::Note(1)).await.unwrap();
    let sender = closing.clone();
    let waiting = rt.spawn(async move { sender.send(Cmd::Note(2)).await });
    log_until_full("closing").await;
    closing.terminate();
    open.send(()).unwrap();
    assert!(matches!(
        waiting.await.unwrap(),
        Err(SendError::Ended(Cmd::Note(2)))
    ));
    assert_eq!(closing.join().await, ThreadEnd::Stopped);
    log.wait_for("closing undelivered 1").await;
}

/// Waits until the overflow hook of the thread `id` has logged.
async fn log_until_full(id: &str) {
    logs::wait_for_line(&["WARN", id, "FromParent", "queue full"]).await
}

/// Children can be added from `enter`, from a handler and from a task; a child's own
/// `enter` can already send to its parent; a thread without a parent gets its output back.
pub async fn children_are_added_from_enter_handlers_and_tasks(rt: Runtime) {
    let log = EventLog::default();
    let parent = start_inside(
        &rt,
        Node::new("p", &log).with_children(vec![
            Node::new("from_enter", &log),
            Node::new("eager", &log),
        ]),
    )
    .await;
    parent
        .handle()
        .send(Cmd::SpawnHere("from_handler".into()))
        .await
        .unwrap();
    parent
        .handle()
        .send(Cmd::SpawnFromTask("from_task".into()))
        .await
        .unwrap();
    log.wait_for("enter from_handler").await;
    log.wait_for("p added from_task").await;
    let mut ids = parent.child_ids();
    ids.sort();
    assert_eq!(ids, ["eager", "from_enter", "from_handler", "from_task"]);
    // A child is registered before its enter runs: what it sends from there arrives.
    log.wait_for("p from eager: eager says hi").await;
    log.position("eager greeted its parent");
    assert_eq!(
        parent.send_to_parent("nobody above".into()).await,
        Err(SendError::NoParent("nobody above".into()))
    );
    let parent = parent.handle();
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
    for id in ["from_enter", "from_handler", "from_task"] {
        log.position(&format!("exit {id}"));
    }
}

/// A child whose `enter` fails is reported both ways: `spawn_child` returns the error and
/// the parent's `on_child_ended` sees it end; adding a child that has ended, or the parent
/// itself or an ancestor, is refused.
pub async fn refused_and_failed_children_are_reported(rt: Runtime) {
    let log = EventLog::default();
    let contexts = Contexts::default();
    let child = Node::new("c", &log).exposed(&contexts);
    let parent = start_inside(&rt, Node::new("p", &log).with_children(vec![child])).await;
    let child = contexts.of("c");
    match parent
        .spawn_child(Node::new("e", &log).failing(Failure::Enter))
        .await
    {
        Err(ThreadError::EnterFailed { child, .. }) => assert_eq!(child, "e"),
        other => panic!("expected EnterFailed, got {other:?}"),
    }
    log.wait_for_prefix("p saw e end: Failed").await;

    let ended = start(&rt, Node::new("gone", &log)).await.unwrap();
    ended.terminate();
    ended.join().await;
    assert_eq!(
        parent.add_child(&ended),
        Err(ThreadError::Ended {
            child: "gone".into()
        })
    );
    assert!(parent.find_child("gone").is_none());

    assert_eq!(
        parent
            .find_child_of::<Node>("c")
            .unwrap()
            .parent_id()
            .as_deref(),
        Some("p")
    );
    assert_eq!(
        child.add_child(parent.handle()),
        Err(ThreadError::WouldCycle {
            child: "p".into(),
            parent: "c".into()
        })
    );
    assert_eq!(
        parent.add_child(parent.handle()),
        Err(ThreadError::WouldCycle {
            child: "p".into(),
            parent: "p".into()
        })
    );
    assert_eq!(parent.handle().parent_id(), None);
    parent.handle().terminate();
    assert_eq!(parent.handle().join().await, ThreadEnd::Stopped);
}
