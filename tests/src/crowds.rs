//! Many senders at once: under contention every signal is handled once, in each sender's
//! order, and a child's end comes after all its signals, whatever the queues' capacities
//! (small ones make senders wait for room on every signal; large ones let the loop take
//! its queues in batches).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::channel::oneshot;
use task_thread::{
    start, ChildRef, Flow, LeafThread, OverflowPolicy, Runtime, SpawnerExt, TaskThread,
    ThreadConfig, ThreadCx, ThreadEnd,
};

const SENDERS: u32 = 4;
const CHILDREN: u32 = 4;
const EACH: u32 = 2_000;

/// What the hub has seen; `done` fires once everything has arrived.
#[derive(Default)]
struct Seen {
    last_from_sender: HashMap<u32, u32>,
    last_from_child: HashMap<String, u32>,
    signals: u32,
    children_ended: u32,
    errors: Vec<String>,
    done: Option<oneshot::Sender<()>>,
}

impl Seen {
    fn in_order(&mut self, last: Option<u32>, next: u32, from: String) {
        if last.unwrap_or(0) + 1 != next {
            self.errors
                .push(format!("{from}: {} then {next}", last.unwrap_or(0)));
        }
    }

    fn check_done(&mut self) {
        let all = SENDERS * EACH + CHILDREN * EACH;
        if self.signals == all && self.children_ended == CHILDREN {
            if let Some(done) = self.done.take() {
                let _ = done.send(());
            }
        }
    }
}

/// Sends `EACH` numbered signals up when told to, then stops.
struct Chatty(u32);

impl LeafThread for Chatty {
    type Signal = ();
    type Output = u32;

    fn id(&self) -> String {
        format!("chatty{}", self.0)
    }

    async fn on_signal(&mut self, _: (), cx: &ThreadCx<Self>) -> Flow {
        for n in 1..=EACH {
            cx.send_to_parent(n).await.unwrap();
        }
        Flow::Stop
    }
}

/// Takes numbered signals from its senders and its children, with both queues of `capacity`.
struct Hub {
    capacity: usize,
    seen: Arc<Mutex<Seen>>,
}

impl TaskThread for Hub {
    type Signal = (u32, u32);
    type Output = ();
    type ChildOutput = u32;

    fn id(&self) -> String {
        "hub".into()
    }

    fn config(&self) -> ThreadConfig {
        ThreadConfig {
            signal_capacity: self.capacity,
            child_signal_capacity: self.capacity,
            overflow: OverflowPolicy::Wait,
            ..ThreadConfig::default()
        }
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), task_thread::BoxError> {
        for n in 0..CHILDREN {
            let child = cx.spawn_child(Chatty(n)).await?;
            child.send(()).await?;
        }
        Ok(())
    }

    async fn on_signal(&mut self, (sender, n): (u32, u32), _: &ThreadCx<Self>) -> Flow {
        let mut seen = self.seen.lock().unwrap();
        let last = seen.last_from_sender.insert(sender, n);
        seen.in_order(last, n, format!("sender {sender}"));
        seen.signals += 1;
        seen.check_done();
        Flow::Continue
    }

    async fn on_child_signal(&mut self, n: u32, child: &ChildRef, _: &ThreadCx<Self>) -> Flow {
        let mut seen = self.seen.lock().unwrap();
        let last = seen.last_from_child.insert(child.id().to_owned(), n);
        seen.in_order(last, n, child.id().to_owned());
        seen.signals += 1;
        seen.check_done();
        Flow::Continue
    }

    async fn on_child_ended(
        &mut self,
        child: &ChildRef,
        end: ThreadEnd,
        _: &ThreadCx<Self>,
    ) -> Flow {
        let mut seen = self.seen.lock().unwrap();
        let got = seen.last_from_child.get(child.id()).copied().unwrap_or(0);
        if got != EACH || end != ThreadEnd::Stopped {
            seen.errors
                .push(format!("{} ended after {got} signals: {end:?}", child.id()));
        }
        seen.children_ended += 1;
        seen.check_done();
        Flow::Continue
    }
}

/// Four senders and four children each send 2,000 numbered signals to one thread at once,
/// with queues of 1, 2, 7, 8, 9, 16 and 100: every signal arrives once and in its sender's
/// order, each child's end after its last signal, and no sender waits forever for room.
pub async fn every_signal_arrives_once_and_in_order_under_contention(rt: Runtime) {
    for capacity in [1, 2, 7, 8, 9, 16, 100] {
        let (done, all_arrived) = oneshot::channel();
        let seen = Arc::new(Mutex::new(Seen {
            done: Some(done),
            ..Seen::default()
        }));
        let hub = start(
            &rt,
            Hub {
                capacity,
                seen: seen.clone(),
            },
        )
        .await
        .unwrap();
        let senders: Vec<_> = (0..SENDERS)
            .map(|sender| {
                let hub = hub.clone();
                rt.spawn(async move {
                    for n in 1..=EACH {
                        hub.send((sender, n)).await.unwrap();
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.await.unwrap();
        }
        all_arrived.await.unwrap();
        let errors = std::mem::take(&mut seen.lock().unwrap().errors);
        assert!(errors.is_empty(), "capacity {capacity}: {errors:?}");
        hub.terminate();
        assert_eq!(hub.join().await, ThreadEnd::Stopped);
    }
}
