//! A sender waiting for room is told of the room the loop makes as it hands out what it
//! took, not only once it has handed out all of it: a handler may wait for the very signal
//! that sender holds.

use task_thread::{
    start, ChildRef, Flow, LeafThread, OverflowPolicy, Runtime, TaskThread, ThreadConfig, ThreadCx,
};

use crate::fixtures::EventLog;
use crate::logs;

/// The parent's queue from its children: full, the loop takes it whole into its hand.
const CAPACITY: u32 = 8;
/// How many of the parent's handlers wait for a signal the child sends after a wait.
const WAITS: u32 = 3;

/// Sends 1, 2, ... `CAPACITY + WAITS` up when told to, logging each send once it returned.
struct Climber {
    log: EventLog,
}

impl LeafThread for Climber {
    type Signal = ();
    type Output = u32;

    fn id(&self) -> String {
        "climber".into()
    }

    async fn on_signal(&mut self, _: (), cx: &ThreadCx<Self>) -> Flow {
        for n in 1..=CAPACITY + WAITS {
            cx.send_to_parent(n).await.unwrap();
            self.log.push(&format!("sent {n}"));
        }
        Flow::Continue
    }
}

/// Holds its loop until its queue from the climber is full and the climber waits for room;
/// then the handler of signal `n <= WAITS` waits until the climber has sent
/// `CAPACITY + n`, which only the room made by handing out `n` lets in.
struct RoomWaiter {
    log: EventLog,
}

impl TaskThread for RoomWaiter {
    type Signal = ();
    type Output = ();
    type ChildOutput = u32;

    fn id(&self) -> String {
        "room_waiter".into()
    }

    fn config(&self) -> ThreadConfig {
        ThreadConfig {
            child_signal_capacity: CAPACITY as usize,
            overflow: OverflowPolicy::Wait,
            ..ThreadConfig::default()
        }
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), task_thread::BoxError> {
        cx.spawn_child(Climber {
            log: self.log.clone(),
        })
        .await?;
        Ok(())
    }

    async fn on_signal(&mut self, _: (), cx: &ThreadCx<Self>) -> Flow {
        cx.send_to_child::<Climber>("climber", ()).await.unwrap();
        self.log.wait_for(&format!("sent {CAPACITY}")).await;
        logs::wait_for_line(&["WARN", "room_waiter", "FromChildren", "queue full"]).await;
        Flow::Continue
    }

    async fn on_child_signal(&mut self, n: u32, _: &ChildRef, _: &ThreadCx<Self>) -> Flow {
        self.log.push(&format!("got {n}"));
        if n <= WAITS {
            self.log.wait_for(&format!("sent {}", CAPACITY + n)).await;
        }
        Flow::Continue
    }
}

/// A parent's handler waits for a signal its child can send only once there is room in the
/// parent's full queue, while the parent's loop holds the rest of that queue in hand: each
/// signal handed out tells the child, so each wait ends, in this order.
pub async fn a_handler_waiting_for_a_sender_that_waits_for_room_gets_its_signal(rt: Runtime) {
    logs::capture();
    let log = EventLog::default();
    let waiter = start(&rt, RoomWaiter { log: log.clone() }).await.unwrap();
    waiter.send(()).await.unwrap();
    log.wait_for(&format!("got {}", CAPACITY + WAITS)).await;
    let all = |what: &str| -> Vec<String> {
        (1..=CAPACITY + WAITS)
            .map(|n| format!("{what} {n}"))
            .collect()
    };
    assert_eq!(log.starting_with("sent "), all("sent"));
    assert_eq!(log.starting_with("got "), all("got"));
    // The loop was held until the queue was full; each waiting handler got what it
    // waited for (the two sides' logs interleave as the runtime runs them).
    assert!(log.position(&format!("sent {CAPACITY}")) < log.position("got 1"));
    for n in 1..=WAITS {
        let sent = log.position(&format!("sent {}", CAPACITY + n));
        assert!(sent < log.position(&format!("got {}", n + 1)));
    }
    waiter.terminate();
    waiter.join().await;
}
