//! A thread's counters: what flowed through it, as its snapshot shows it.

use task_thread::{
    BoxError, ChildRef, Flow, LeafThread, Next, OverflowPolicy, Runtime, SendError, Task, TaskCx,
    TaskSlot, TaskThread, ThreadConfig, ThreadCx, ThreadEnd, ThreadHandle, ThreadSnapshot,
};

use task_thread::SpawnerExt;

use crate::fixtures::EventLog;

/// Passes what it receives to `echo`, logs what comes back; its slot `tick` runs four times,
/// its slot `count` (a [`Task`]) three.
struct Hub {
    log: EventLog,
    gate: async_channel::Receiver<()>,
    slow: async_channel::Sender<ThreadHandle<Slow>>,
    tick: Option<TaskSlot<Hub>>,
    count: Option<TaskSlot<Hub>>,
}

/// A [`Task`] of three runs (which loop inside one runtime task).
struct Thrice(u32);

impl Task<Hub> for Thrice {
    async fn run(&mut self, _: &TaskCx<Hub>) -> Next {
        self.0 += 1;
        if self.0 < 3 {
            Next::Reschedule
        } else {
            Next::Stop
        }
    }
}

impl TaskThread for Hub {
    type Signal = u32;
    type Output = ();
    type ChildOutput = u32;

    fn id(&self) -> String {
        "hub".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let tick = cx.slot("tick");
        let mut runs = 0;
        tick.re_create_fn(move |task| {
            runs += 1;
            async move {
                if runs < 4 {
                    task.re_schedule();
                }
            }
        })
        .await?;
        let count = cx.slot("count");
        count.re_create(Thrice(0)).await?;
        // Its only tasks: idle once each has ended and left its slot.
        cx.tasks().idle().await;
        self.tick = Some(tick);
        self.count = Some(count);
        cx.spawn_child(Echo).await?;
        let slow = cx
            .spawn_child(Slow(self.gate.clone(), self.log.clone()))
            .await?;
        let _ = self.slow.send(slow).await;
        Ok(())
    }

    async fn on_signal(&mut self, n: u32, cx: &ThreadCx<Self>) -> Flow {
        cx.send_to_child::<Echo>("echo", n).await.unwrap();
        Flow::Continue
    }

    async fn on_child_signal(&mut self, n: u32, _: &ChildRef, _: &ThreadCx<Self>) -> Flow {
        self.log.push(&format!("hub got {n}"));
        Flow::Continue
    }

    async fn on_child_ended(&mut self, child: &ChildRef, _: ThreadEnd, _: &ThreadCx<Self>) -> Flow {
        self.log.push(&format!("hub saw {} end", child.id()));
        Flow::Continue
    }
}

/// Sends each signal back up.
struct Echo;

impl LeafThread for Echo {
    type Signal = u32;
    type Output = u32;

    fn id(&self) -> String {
        "echo".into()
    }

    async fn on_signal(&mut self, n: u32, cx: &ThreadCx<Self>) -> Flow {
        cx.send_to_parent(n).await.unwrap();
        Flow::Continue
    }
}

/// A queue of one under the reject policy, behind a handler that waits for the gate.
struct Slow(async_channel::Receiver<()>, EventLog);

impl LeafThread for Slow {
    type Signal = u32;
    type Output = u32;

    fn id(&self) -> String {
        "slow".into()
    }

    fn config(&self) -> ThreadConfig {
        ThreadConfig {
            signal_capacity: 1,
            overflow: OverflowPolicy::Reject,
            ..ThreadConfig::default()
        }
    }

    async fn on_signal(&mut self, n: u32, _: &ThreadCx<Self>) -> Flow {
        self.1.push(&format!("slow busy {n}"));
        let _ = self.0.recv().await;
        Flow::Continue
    }
}

/// The tree's text with every age zero.
fn shown(mut tree: ThreadSnapshot) -> String {
    fn without_ages(tree: &mut ThreadSnapshot) {
        tree.age = std::time::Duration::ZERO;
        tree.children.iter_mut().for_each(without_ages);
    }
    without_ages(&mut tree);
    tree.to_string()
}

/// A scripted exchange: each thread's counters say exactly what went through it, each way.
pub async fn counters_match_the_traffic_of_a_scripted_exchange(rt: Runtime) {
    let log = EventLog::default();
    let (open, gate) = async_channel::bounded(1);
    let (slow_out, slow_in) = async_channel::bounded(1);
    let hub = Hub {
        log: log.clone(),
        gate,
        slow: slow_out,
        tick: None,
        count: None,
    };
    let hub = task_thread::start(&rt, hub).await.unwrap();
    let slow = slow_in.recv().await.unwrap();
    // Three down to the hub, passed down to echo, sent back up.
    for n in 1..=3 {
        hub.send(n).await.unwrap();
    }
    log.wait_for_prefix("hub got 3").await;
    // Slow: one in its handler, one queued, the third refused (its queue holds one).
    slow.send(10).await.unwrap();
    log.wait_for("slow busy 10").await;
    slow.send(11).await.unwrap();
    assert!(matches!(slow.send(12).await, Err(SendError::Full(12))));
    drop(open);
    log.wait_for("slow busy 11").await;
    assert_eq!(
        shown(hub.snapshot()),
        concat!(
            "hub (Hub, 0.00s): running; queued 0/100 from parent, 0/100 from children; ",
            "received 3, received from children 3, sent to children 3, runs 7, reschedules 5, ",
            "children started 2; slots: count empty (3 runs), tick empty (4 runs)\n",
            "├── echo (Echo, 0.00s): running; queued 0/100 from parent, 0/100 from children; ",
            "received 3, sent to parent 3\n",
            "└── slow (Slow, 0.00s): running; queued 0/1 from parent, 0/100 from children; ",
            "received 2, overflows 1, undelivered 1\n",
        )
    );
    slow.terminate();
    assert_eq!(slow.join().await, ThreadEnd::Stopped);
    log.wait_for("hub saw slow end").await;
    let after = shown(hub.snapshot());
    let hub_line = after.lines().next().unwrap();
    assert!(
        hub_line.contains("children started 2, children ended 1;"),
        "{after}"
    );
    hub.terminate();
    assert_eq!(hub.join().await, ThreadEnd::Stopped);
}

/// Its handler waits for the gate, and its queue from its children holds one: of its
/// child's three signals, the last waits for room. The child sends its third once told
/// (`go`).
struct Blocked(
    async_channel::Receiver<()>,
    EventLog,
    async_channel::Receiver<()>,
);

impl TaskThread for Blocked {
    type Signal = ();
    type Output = ();
    type ChildOutput = u32;

    fn id(&self) -> String {
        "blocked".into()
    }

    fn config(&self) -> ThreadConfig {
        ThreadConfig {
            child_signal_capacity: 1,
            ..ThreadConfig::default()
        }
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        cx.spawn_child(Sender(self.1.clone(), self.2.clone()))
            .await?;
        Ok(())
    }

    async fn on_child_signal(&mut self, n: u32, _: &ChildRef, _: &ThreadCx<Self>) -> Flow {
        self.1.push(&format!("blocked got {n}"));
        let _ = self.0.recv().await;
        Flow::Continue
    }
}

/// Sends its parent 1, 2 and, once told (`go`), 3, from its `enter`'s task.
struct Sender(EventLog, async_channel::Receiver<()>);

impl LeafThread for Sender {
    type Signal = ();
    type Output = u32;

    fn id(&self) -> String {
        "sender".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let (log, go) = (self.0.clone(), self.1.clone());
        cx.slot("send")
            .re_create_fn(move |task| {
                let (log, go) = (log.clone(), go.clone());
                async move {
                    for n in 1..=3 {
                        if n == 3 {
                            let _ = go.recv().await;
                        }
                        task.thread().send_to_parent(n).await.unwrap();
                        log.push(&format!("sender sent {n}"));
                    }
                }
            })
            .await?;
        Ok(())
    }
}

/// A signal to the parent is counted as sent once it is queued: one waiting for room in
/// a full queue is not counted yet (a count taken back when a send is refused would fall).
pub async fn a_signal_waiting_for_room_is_not_counted_as_sent(rt: Runtime) {
    let log = EventLog::default();
    let (open, gate) = async_channel::bounded(1);
    let (go, told) = async_channel::bounded(1);
    let blocked = task_thread::start(&rt, Blocked(gate, log.clone(), told))
        .await
        .unwrap();
    // 1 is in the parent's handler, 2 in its queue (it may have waited for room first: an
    // overflow too, counted as sent once queued, when its send returned).
    log.wait_for("blocked got 1").await;
    log.wait_for("sender sent 2").await;
    let before = blocked.snapshot();
    assert_eq!(before.counters.received_from_children, 2, "{before}");
    assert_eq!(before.children[0].counters.sent_to_parent, 2, "{before}");
    // The third send finds the queue full (one overflow more) and waits for room.
    go.send(()).await.unwrap();
    while blocked.snapshot().counters.overflows == before.counters.overflows {
        rt.yield_now().await;
    }
    // Sent: what the parent received (queued or in its handler), not the one waiting.
    let tree = blocked.snapshot();
    assert_eq!(tree.counters.received_from_children, 2, "{tree}");
    assert_eq!(tree.children[0].counters.sent_to_parent, 2, "{tree}");
    drop(open);
    log.wait_for("sender sent 3").await;
    assert_eq!(blocked.snapshot().children[0].counters.sent_to_parent, 3);
    blocked.terminate();
    assert_eq!(blocked.join().await, ThreadEnd::Stopped);
}
