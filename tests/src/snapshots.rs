//! Snapshots of a live tree: what a thread's handle shows of it and its subtree while it
//! runs, without waiting for any thread.

use std::time::Duration;

use task_thread::{
    BoxError, Flow, LeafThread, Next, Runtime, SlotActivity, Task, TaskCx, TaskSlot, TaskThread,
    ThreadConfig, ThreadCx, ThreadEnd, ThreadHandle, ThreadSnapshot, ThreadState,
};

use crate::fixtures::EventLog;
use crate::tree::Node;

/// The root: one slot whose task ran once and ended (kept by the handle it holds), and a
/// child.
struct Top {
    log: EventLog,
    gate: async_channel::Receiver<()>,
    leaf: async_channel::Sender<ThreadHandle<Leaf>>,
    once: Option<TaskSlot<Top>>,
}

impl TaskThread for Top {
    type Signal = ();
    type Output = ();
    type ChildOutput = ();

    fn id(&self) -> String {
        "top".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let once = cx.slot("once");
        let log = self.log.clone();
        once.re_create_fn(move |_| {
            let log = log.clone();
            async move { log.push("once ran") }
        })
        .await?;
        self.log.wait_for("once ran").await;
        // Awaited to its end: the slot is empty, its one run counted.
        once.delete().await?;
        self.once = Some(once);
        let middle = Middle {
            log: self.log.clone(),
            gate: self.gate.clone(),
            leaf: self.leaf.clone(),
        };
        cx.spawn_child(middle).await?;
        Ok(())
    }
}

/// The middle: a slot running (waiting), one rescheduling (its run asked for a successor
/// and still waits), one on its third run, a [`Task`] on its fourth; and a child.
struct Middle {
    log: EventLog,
    gate: async_channel::Receiver<()>,
    leaf: async_channel::Sender<ThreadHandle<Leaf>>,
}

impl TaskThread for Middle {
    type Signal = ();
    type Output = ();
    type ChildOutput = ();

    fn id(&self) -> String {
        "middle".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let log = self.log.clone();
        cx.slot("wait")
            .cancel_at_once()
            .re_create_fn(move |_| {
                let log = log.clone();
                async move {
                    log.push("wait runs");
                    std::future::pending::<()>().await
                }
            })
            .await?;
        let log = self.log.clone();
        cx.slot("again")
            .cancel_at_once()
            .re_create_fn(move |task| {
                let log = log.clone();
                async move {
                    task.re_schedule();
                    log.push("again asked");
                    std::future::pending::<()>().await
                }
            })
            .await?;
        let log = self.log.clone();
        let mut runs = 0;
        cx.slot("thrice")
            .cancel_at_once()
            .re_create_fn(move |task| {
                runs += 1;
                let log = log.clone();
                async move {
                    if runs < 3 {
                        task.re_schedule();
                        return;
                    }
                    log.push("thrice on its third run");
                    std::future::pending::<()>().await
                }
            })
            .await?;
        cx.slot("looped")
            .cancel_at_once()
            .re_create(FourthWaits(0, self.log.clone()))
            .await?;
        let leaf = Leaf(self.gate.clone(), self.log.clone());
        let leaf = cx.spawn_child(leaf).await?;
        let _ = self.leaf.send(leaf).await;
        Ok(())
    }
}

/// A [`Task`] (whose runs loop inside one runtime task) that waits on its fourth run.
struct FourthWaits(u32, EventLog);

impl Task<Middle> for FourthWaits {
    async fn run(&mut self, _: &TaskCx<Middle>) -> Next {
        self.0 += 1;
        if self.0 == 4 {
            self.1.push("looped on its fourth run");
            std::future::pending::<()>().await;
        }
        Next::Reschedule
    }
}

/// The leaf: its handler waits for the gate to close, so its queue fills behind it.
struct Leaf(async_channel::Receiver<()>, EventLog);

impl LeafThread for Leaf {
    type Signal = &'static str;
    type Output = ();

    fn id(&self) -> String {
        "leaf".into()
    }

    fn config(&self) -> ThreadConfig {
        ThreadConfig {
            signal_capacity: 8,
            ..ThreadConfig::default()
        }
    }

    async fn on_signal(&mut self, _: &'static str, _: &ThreadCx<Self>) -> Flow {
        self.1.push("leaf busy");
        let _ = self.0.recv().await;
        Flow::Continue
    }
}

/// The snapshot with every age zero, for an exact comparison.
fn without_ages(mut tree: ThreadSnapshot) -> ThreadSnapshot {
    tree.age = Duration::ZERO;
    tree.children = std::mem::take(&mut tree.children)
        .into_iter()
        .map(without_ages)
        .collect();
    tree
}

/// A known tree of three levels, with a slot in each state and a queue of known depth,
/// shows exactly so, and its handler, busy all along, did not hold the snapshot up.
pub async fn a_snapshot_shows_the_live_tree_while_a_handler_is_busy(rt: Runtime) {
    let log = EventLog::default();
    let (open, gate) = async_channel::bounded(1);
    let (leaf_out, leaf_in) = async_channel::bounded(1);
    let top = Top {
        log: log.clone(),
        gate,
        leaf: leaf_out,
        once: None,
    };
    let top = task_thread::start(&rt, top).await.unwrap();
    let leaf = leaf_in.recv().await.unwrap();
    for event in [
        "wait runs",
        "again asked",
        "thrice on its third run",
        "looped on its fourth run",
    ] {
        log.wait_for(event).await;
    }
    // The first is taken into the handler, which waits for the gate: three stay queued.
    for signal in ["first", "second", "third", "fourth"] {
        leaf.send(signal).await.unwrap();
    }
    // The loop takes one signal at a time when a few are queued: once the handler has the
    // first, the other three wait.
    log.wait_for("leaf busy").await;
    let tree = without_ages(top.snapshot());
    assert_eq!(
        tree.to_string(),
        concat!(
            "top (Top, 0.00s): running; queued 0/100 from parent, 0/100 from children; ",
            "runs 1, children started 1; slots: once empty (1 run)\n",
            "└── middle (Middle, 0.00s): running; queued 0/100 from parent, 0/100 from children; ",
            "runs 9, reschedules 5, children started 1; ",
            "slots: again rescheduling (1 run), looped running (4 runs), ",
            "thrice running (3 runs), wait running (1 run)\n",
            "    └── leaf (Leaf, 0.00s): running; queued 3/8 from parent, 0/100 from children; ",
            "received 4\n",
        )
    );
    // The structure behind the text.
    let middle = &tree.children[0];
    assert_eq!(middle.type_name, std::any::type_name::<Middle>());
    let activities: Vec<_> = middle.slots.iter().map(|s| (s.activity, s.runs)).collect();
    assert_eq!(
        activities,
        [
            (SlotActivity::Rescheduling, 1),
            (SlotActivity::Running, 4),
            (SlotActivity::Running, 3),
            (SlotActivity::Running, 1)
        ]
    );
    assert_eq!(middle.children[0].state, ThreadState::Running);
    // The picture: a box each, an arrow per parent and child.
    let dot = tree.to_dot();
    assert!(dot.starts_with("digraph tree {\n"), "{dot}");
    assert!(
        dot.contains("    n0 -> n1;\n    n1 [label=\"middle\\n"),
        "{dot}"
    );
    assert!(
        dot.contains("    n1 -> n2;\n    n2 [label=\"leaf\\n"),
        "{dot}"
    );
    assert_eq!(dot.matches(" [label=").count(), 3, "{dot}");
    drop(open);
    top.terminate();
    assert_eq!(top.join().await, ThreadEnd::Stopped);
}

/// A thread whose `enter` has not returned shows as entering, and one whose `exit` is under
/// way shows the stage of its shutdown, in its parent's snapshot.
pub async fn a_snapshot_shows_entering_and_shutting_down_threads(rt: Runtime) {
    let log = EventLog::default();
    let (open, gate) = async_channel::bounded::<()>(1);
    let (out, stuck_handle) = async_channel::bounded(1);
    let stuck = Stuck {
        log: log.clone(),
        gate,
    };
    let holder = task_thread::start(&rt, Holder(Some((stuck, out))))
        .await
        .unwrap();
    log.wait_for("entering").await;
    let stuck_line = |holder: &ThreadHandle<Holder>| {
        without_ages(holder.snapshot().children.remove(0)).to_string()
    };
    assert_eq!(
        stuck_line(&holder),
        "stuck (Stuck, 0.00s): entering; queued 0/100 from parent, 0/100 from children\n"
    );
    open.send(()).await.unwrap();
    let stuck: ThreadHandle<Stuck> = stuck_handle.recv().await.unwrap();
    stuck.terminate();
    log.wait_for("exiting").await;
    // Its queue closed as its shutdown began: handed back, and counted.
    assert!(stuck.send(()).await.is_err());
    assert_eq!(
        stuck_line(&holder),
        "stuck (Stuck, 0.00s): shutting down (exit); queued 0/100 from parent, \
         0/100 from children; undelivered 1\n"
    );
    open.send(()).await.unwrap();
    assert_eq!(stuck.join().await, ThreadEnd::Stopped);
    holder.terminate();
    assert_eq!(holder.join().await, ThreadEnd::Stopped);
}

type StuckAndItsWayOut = (Stuck, async_channel::Sender<ThreadHandle<Stuck>>);

/// Starts its child from a task, which hands the child's handle out once it has entered.
struct Holder(Option<StuckAndItsWayOut>);

impl TaskThread for Holder {
    type Signal = ();
    type Output = ();
    type ChildOutput = ();

    fn id(&self) -> String {
        "holder".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let mut child = self.0.take();
        cx.slot("spawn")
            .re_create_fn(move |task| {
                let child = child.take();
                async move {
                    let Some((stuck, out)) = child else { return };
                    if let Ok(stuck) = task.thread().spawn_child(stuck).await {
                        let _ = out.send(stuck).await;
                    }
                }
            })
            .await?;
        Ok(())
    }
}

/// Waits for the gate in `enter` and again in `exit`.
struct Stuck {
    log: EventLog,
    gate: async_channel::Receiver<()>,
}

impl LeafThread for Stuck {
    type Signal = ();
    type Output = ();

    fn id(&self) -> String {
        "stuck".into()
    }

    async fn enter(&mut self, _: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.log.push("entering");
        let _ = self.gate.recv().await;
        Ok(())
    }

    async fn exit(&mut self, _: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.log.push("exiting");
        let _ = self.gate.recv().await;
        Ok(())
    }
}

/// A chain of 2,000 threads (deeper than a stack allows one frame per level in a debug
/// build): its snapshot is taken, drawn, cloned, recorded and dropped without recursion.
pub async fn a_snapshot_of_a_deep_tree_is_taken_drawn_and_dropped(rt: Runtime) {
    const DEPTH: usize = 2_000;
    let log = EventLog::default();
    let mut chain = Node::new(&format!("d{DEPTH}"), &log);
    for depth in (1..DEPTH).rev() {
        chain = Node::new(&format!("d{depth}"), &log).with_children(vec![chain]);
    }
    let root = task_thread::start(&rt, chain).await.unwrap();
    // `enter` of each spawns the next: the deepest has entered once it logged.
    log.wait_for(&format!("enter d{DEPTH}")).await;
    let tree = root.snapshot();
    let text = tree.to_string();
    assert_eq!(text.lines().count(), DEPTH);
    let last = text.lines().last().unwrap();
    assert!(
        last.trim_start_matches([' ', '└', '─'])
            .starts_with("d2000 "),
        "{last}"
    );
    let dot = tree.to_dot();
    assert_eq!(dot.matches(" [label=").count(), DEPTH);
    assert!(dot.contains(&format!("    n{} -> n{};\n", DEPTH - 2, DEPTH - 1)));
    let copy = tree.clone();
    drop(tree);
    let mut deepest = &copy;
    let mut depth = 1;
    while let Some(child) = deepest.children.first() {
        (deepest, depth) = (child, depth + 1);
    }
    assert_eq!((deepest.id.as_str(), depth), ("d2000", DEPTH));
    drop(copy);
    root.terminate();
    assert_eq!(root.join().await, ThreadEnd::Stopped);
}

/// Ids are unique among siblings only and may hold any character: DOT names its nodes by
/// number, one per thread, whatever the ids (paths like `r/a/b` would name two here).
pub async fn dot_names_one_node_per_thread_whatever_the_ids(rt: Runtime) {
    let log = EventLog::default();
    let tree = Node::new("r", &log).with_children(vec![
        Node::new("a", &log).with_children(vec![Node::new("b", &log)]),
        Node::new("a/b", &log),
    ]);
    let root = task_thread::start(&rt, tree).await.unwrap();
    log.wait_for("enter b").await;
    log.wait_for("enter a/b").await;
    let dot = root.snapshot().to_dot();
    let nodes: Vec<&str> = dot
        .lines()
        .filter(|line| line.contains(" [label="))
        .map(|line| line.trim().split(' ').next().unwrap())
        .collect();
    assert_eq!(nodes, ["n0", "n1", "n3", "n2"], "{dot}");
    let arrows: Vec<&str> = dot
        .lines()
        .filter(|l| l.contains("->"))
        .map(str::trim)
        .collect();
    assert_eq!(arrows, ["n0 -> n1;", "n0 -> n2;", "n1 -> n3;"], "{dot}");
    root.terminate();
    assert_eq!(root.join().await, ThreadEnd::Stopped);
}

/// An id (or info, or slot name) may hold any character: `Display` escapes control
/// characters, so a newline in an id cannot break the one line per thread.
pub async fn display_escapes_control_characters(rt: Runtime) {
    let log = EventLog::default();
    let tree = Node::new("r", &log).with_children(vec![
        Node::new("a", &log),
        Node::new("evil\nid\t\"x\"", &log),
    ]);
    let root = task_thread::start(&rt, tree).await.unwrap();
    let text = root.snapshot().to_string();
    assert_eq!(text.lines().count(), 3, "{text}");
    let last = text.lines().last().unwrap();
    assert!(last.starts_with("└── evil\\nid\\t\"x\" ("), "{text}");
    root.terminate();
    assert_eq!(root.join().await, ThreadEnd::Stopped);
}
