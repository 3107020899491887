//! What becomes of each request sent to a worker process ([`ProcessWorker`]): it is
//! answered to the parent, or handed back to the undelivered hook, exactly once, whatever
//! the parent's queue does with the reply.

use std::process::Command;
use std::time::Duration;

use futures::channel::oneshot;
use serde::{Serialize, Serializer};
use task_thread::{
    Blocking, BoxError, ChildRef, Flow, OverflowPolicy, Runtime, TaskThread, ThreadConfig,
    ThreadCx, ThreadEnd,
};
use task_thread_process::ProcessWorker;

use crate::blocking::parent;
use crate::fixtures::EventLog;
use crate::processes::{worker, worker_binary};

/// A parent whose queue of its children's outputs holds one, with the `Reject` policy, and
/// whose handling of the first reply waits for a gate: logs `heard <reply>` for each reply
/// it handled or found in its queue at its end.
struct GatedParent {
    log: EventLog,
    gate: Option<oneshot::Receiver<()>>,
    hand_out: Option<oneshot::Sender<ThreadCx<GatedParent>>>,
}

impl TaskThread for GatedParent {
    type Signal = ();
    type Output = ();
    type ChildOutput = String;

    fn config(&self) -> ThreadConfig {
        ThreadConfig {
            child_signal_capacity: 1,
            overflow: OverflowPolicy::Reject,
            ..ThreadConfig::default()
        }
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        if let Some(hand_out) = self.hand_out.take() {
            let _ = hand_out.send(cx.clone());
        }
        Ok(())
    }

    async fn on_child_signal(&mut self, reply: String, _: &ChildRef, _: &ThreadCx<Self>) -> Flow {
        self.log.push(&format!("heard {reply}"));
        if let Some(gate) = self.gate.take() {
            let _ = gate.await;
        }
        Flow::Continue
    }

    /// Replies still in its queue at its end reached it all the same.
    fn on_undelivered_from_children(&mut self, replies: Vec<(String, String)>) {
        for (_, reply) in replies {
            self.log.push(&format!("heard {reply}"));
        }
    }
}

/// Replies the parent's queue refuses (its policy `Reject`, the queue full while its
/// handler waits) do not vanish: their requests are handed back. Of 20 requests, the
/// parent takes two at most; every one is heard or handed back, once.
pub async fn a_request_whose_reply_the_parent_refuses_is_handed_back(rt: Runtime) {
    let log = EventLog::default();
    let (open, gate) = oneshot::channel();
    let (hand_out, cx) = oneshot::channel();
    let parent = GatedParent {
        log: log.clone(),
        gate: Some(gate),
        hand_out: Some(hand_out),
    };
    let parent = task_thread::start(&rt, parent).await.unwrap();
    let cx = cx.await.unwrap();
    let echo = cx
        .spawn_child(worker("echo", &log, Duration::from_secs(10)))
        .await
        .unwrap();
    let requests: Vec<String> = (0..20).map(|n| format!("r{n}")).collect();
    for request in &requests {
        echo.send(request.clone()).await.unwrap();
    }
    log.wait_for("heard r0").await;
    echo.terminate();
    let _ = echo.join().await;
    let _ = open.send(());
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
    let mut seen: Vec<String> = log
        .starting_with("heard")
        .iter()
        .map(|heard| heard["heard ".len()..].to_owned())
        .collect();
    for batch in log.starting_with("undelivered") {
        let batch: Vec<String> = serde_json::from_str(&batch["undelivered ".len()..]).unwrap();
        seen.extend(batch);
    }
    seen.sort_by_key(|request| request[1..].parse::<u32>().unwrap());
    assert_eq!(seen, requests, "each request heard or handed back, once");
}

/// A request JSON writes as its word, or cannot write (`Job(None)`).
#[derive(Debug)]
struct Job(Option<&'static str>);

impl Serialize for Job {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(word) => serializer.serialize_str(word),
            None => Err(serde::ser::Error::custom("this job cannot be written")),
        }
    }
}

/// A request JSON cannot write is never sent: it is handed back (with an error logged),
/// and the worker goes on with the next; its thread is not ended by it.
pub async fn a_request_json_cannot_write_is_handed_back_and_the_worker_goes_on(rt: Runtime) {
    let log = EventLog::default();
    let (parent, cx) = parent::<String>(&rt, &log).await;
    let mut command = Command::new(worker_binary());
    command.arg("echo");
    let hook = log.clone();
    let worker = ProcessWorker::<Job, String>::new("echo", command)
        .on_undelivered(move |jobs| hook.push(&format!("undelivered {jobs:?}")));
    let echo = cx.spawn_child(Blocking::new(worker)).await.unwrap();
    for job in [Job(Some("one")), Job(None), Job(Some("two"))] {
        echo.send(job).await.unwrap();
    }
    log.wait_for("heard two from echo").await;
    echo.terminate();
    assert_eq!(echo.join().await, ThreadEnd::Stopped);
    assert_eq!(
        log.starting_with("heard"),
        ["heard one from echo", "heard two from echo"]
    );
    assert_eq!(
        log.starting_with("undelivered"),
        ["undelivered [Job(None)]"]
    );
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
}
