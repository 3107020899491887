//! A child written without knowing its parent (a library's thread) sends its own output
//! type; its parent takes it converted into its child output (`From`), beside children of
//! other kinds, and what a full queue refuses comes back to the child as it sent it.

use task_thread::{
    ChildRef, Flow, LeafThread, OverflowPolicy, Runtime, SendError, TaskThread, ThreadConfig,
    ThreadCx,
};

use crate::fixtures::EventLog;
use crate::tree::{Cmd, Node};

/// The library's thread: what it is told to say, it sends up as a `Said`.
pub struct Echo {
    log: EventLog,
}

/// The library's output type.
#[derive(Debug, PartialEq, Eq)]
pub struct Said(pub String);

impl LeafThread for Echo {
    type Signal = String;
    type Output = Said;

    async fn on_signal(&mut self, text: String, cx: &ThreadCx<Self>) -> Flow {
        match cx.send_to_parent(Said(text)).await {
            Ok(()) => self.log.push("echo sent"),
            Err(SendError::Full(Said(text))) => self.log.push(&format!("echo got back {text}")),
            Err(other) => self.log.push(&format!("echo: {other}")),
        }
        Flow::Continue
    }
}

/// The program's parent: one enum for its children of both kinds.
enum Heard {
    Echo(Said),
    Node(String),
}

impl From<Said> for Heard {
    fn from(said: Said) -> Self {
        Heard::Echo(said)
    }
}

impl From<String> for Heard {
    fn from(text: String) -> Self {
        Heard::Node(text)
    }
}

struct Listener {
    log: EventLog,
    hand_out: Option<futures::channel::oneshot::Sender<ThreadCx<Listener>>>,
    gate: Option<futures::channel::oneshot::Receiver<()>>,
}

impl TaskThread for Listener {
    type Signal = ();
    type Output = ();
    type ChildOutput = Heard;

    fn config(&self) -> ThreadConfig {
        ThreadConfig {
            child_signal_capacity: 1,
            overflow: OverflowPolicy::Reject,
            ..ThreadConfig::default()
        }
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), task_thread::BoxError> {
        let _ = self
            .hand_out
            .take()
            .map(|hand_out| hand_out.send(cx.clone()));
        Ok(())
    }

    /// Holds its loop until the gate opens: what children send meanwhile stays queued.
    async fn on_signal(&mut self, (): (), _cx: &ThreadCx<Self>) -> Flow {
        self.log.push("listener waits");
        if let Some(gate) = self.gate.take() {
            let _ = gate.await;
        }
        Flow::Continue
    }

    async fn on_child_signal(
        &mut self,
        heard: Heard,
        child: &ChildRef,
        _: &ThreadCx<Self>,
    ) -> Flow {
        let heard = match heard {
            Heard::Echo(Said(text)) => format!("echo's {text}"),
            Heard::Node(text) => format!("node's {text}"),
        };
        self.log.push(&format!("heard {heard} from {}", child.id()));
        Flow::Continue
    }
}

/// A library child and a child of another kind both reach the parent's one handler,
/// converted; a refused signal comes back to the library child as its own type.
pub async fn a_child_sends_its_own_type_and_its_parent_takes_it_converted(rt: Runtime) {
    let log = EventLog::default();
    let (hand_out, context) = futures::channel::oneshot::channel();
    let (open, gate) = futures::channel::oneshot::channel();
    let listener = Listener {
        log: log.clone(),
        hand_out: Some(hand_out),
        gate: Some(gate),
    };
    let listener = task_thread::start(&rt, listener).await.unwrap();
    let cx = context.await.unwrap();
    let echo = cx.spawn_child(Echo { log: log.clone() }).await.unwrap();
    let node = cx.spawn_child(Node::new("node", &log)).await.unwrap();
    echo.send("one".into()).await.unwrap();
    log.wait_for("heard echo's one from echo").await;
    node.send(Cmd::Up("two".into())).await.unwrap();
    log.wait_for("heard node's two from node").await;

    // A queue of one, held: the first waits in it, the second is refused and handed back.
    listener.send(()).await.unwrap();
    log.wait_for("listener waits").await;
    echo.send("three".into()).await.unwrap();
    log.wait_for("echo sent").await;
    echo.send("four".into()).await.unwrap();
    log.wait_for("echo got back four").await;
    open.send(()).unwrap();
    log.wait_for("heard echo's three from echo").await;
    drop(cx);
    listener.terminate();
    listener.join().await;
    // Each side's view, in order (the two log on their own tasks).
    assert_eq!(
        log.starting_with("heard"),
        [
            "heard echo's one from echo",
            "heard node's two from node",
            "heard echo's three from echo",
        ]
    );
    assert_eq!(
        log.starting_with("echo"),
        ["echo sent", "echo sent", "echo got back four"]
    );
}
