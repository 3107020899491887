//! A configurable thread type for the thread cases: it logs what happens to it, and can be
//! told to misbehave.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::oneshot;
use task_thread::{
    BoxError, ChildRef, Flow, LeafThread, Next, OverflowPolicy, Runtime, Spawner, Task, TaskCx,
    TaskThread, ThreadConfig, ThreadCx, ThreadEnd, ThreadHandle,
};

use crate::fixtures::{EventLog, LogOnDrop};

/// What a parent sends to a [`Node`].
pub enum Cmd {
    /// Log `"<id> got <n>"`.
    Note(u32),
    /// Return `Flow::Stop`.
    Stop,
    /// Panic in the handler.
    Panic,
    /// Wait for the gate to open before handling anything else.
    Wait(oneshot::Receiver<()>),
    /// Send this text to the parent.
    Up(String),
    /// Start a child with this id from the handler.
    SpawnHere(String),
    /// Start a child with this id from a task of the thread.
    SpawnFromTask(String),
}

/// Where a [`Node`] fails on purpose.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Failure {
    /// Nowhere.
    None,
    /// `enter` panics.
    Enter,
    /// `enter` never returns (logs `enter <id> dropped` when it is dropped).
    HangingEnter,
    /// A task started in `enter` panics.
    Task,
    /// `exit` never returns.
    HangingExit,
    /// `enter` stops the thread before its loop runs.
    StopInEnter,
    /// `enter` stops the thread, and its `exit` never returns.
    HangingExitAfterStop,
    /// `enter` returns an error, and `exit` takes a while (a flush), then logs
    /// `exit <id> flushed`.
    FailingEnterSlowExit,
    /// `on_undelivered` panics.
    PanicInUndelivered,
}

/// A thread that logs `enter <id>`, `exit <id>`, `<id> got <n>`, child signals and ends.
pub struct Node {
    pub id: String,
    pub log: EventLog,
    pub children: Vec<Node>,
    pub failure: Failure,
    pub budget: Option<Duration>,
    pub capacity: usize,
    pub child_capacity: usize,
    pub overflow: OverflowPolicy,
    /// Where `enter` hands out the thread's context (see [`Contexts`]).
    pub hand_out: Option<Contexts>,
}

/// A task that sleeps for an hour, again and again: every node has one, so that a tree's
/// end can be checked to leave no task behind.
struct Ticker;

impl<T> Task<T> for Ticker {
    async fn run(&mut self, cx: &TaskCx<T>) -> Next {
        cx.sleep(Duration::from_secs(3600)).await;
        Next::Reschedule
    }
}

impl Node {
    /// A well-behaved node logging into `log`.
    pub fn new(id: &str, log: &EventLog) -> Self {
        Node {
            id: id.to_owned(),
            log: log.clone(),
            children: Vec::new(),
            failure: Failure::None,
            budget: None,
            capacity: 100,
            child_capacity: 100,
            overflow: OverflowPolicy::Wait,
            hand_out: None,
        }
    }

    /// With these children, started in `enter`.
    pub fn with_children(mut self, children: Vec<Node>) -> Self {
        self.children = children;
        self
    }

    /// Failing this way.
    pub fn failing(mut self, failure: Failure) -> Self {
        self.failure = failure;
        self
    }

    /// Handing its context out into `contexts` when it enters.
    pub fn exposed(mut self, contexts: &Contexts) -> Self {
        self.hand_out = Some(contexts.clone());
        self
    }

    /// With this shutdown budget.
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = Some(budget);
        self
    }
}

impl TaskThread for Node {
    type Signal = Cmd;
    type Output = String;
    type ChildOutput = String;

    fn id(&self) -> String {
        self.id.clone()
    }

    fn config(&self) -> ThreadConfig {
        let default = ThreadConfig::default();
        ThreadConfig {
            shutdown_budget: self.budget.unwrap_or(default.shutdown_budget),
            signal_capacity: self.capacity,
            child_signal_capacity: self.child_capacity,
            overflow: self.overflow,
            ..default
        }
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.log.push(&format!("enter {}", self.id));
        if let Some(contexts) = self.hand_out.take() {
            contexts
                .0
                .lock()
                .unwrap()
                .insert(self.id.clone(), cx.clone());
        }
        cx.slot("ticker").re_create(Ticker).await?;
        if self.id.starts_with("eager") {
            // Sent before this child's enter returns, so before its spawn_child does.
            match cx.send_to_parent(format!("{} says hi", self.id)).await {
                Ok(()) => self.log.push(&format!("{} greeted its parent", self.id)),
                Err(error) => self
                    .log
                    .push(&format!("{} could not greet: {error:?}", self.id)),
            }
        }
        match self.failure {
            Failure::Enter => panic!("{} fails in enter", self.id),
            Failure::HangingEnter => {
                let _dropped = LogOnDrop(self.log.clone(), format!("enter {} dropped", self.id));
                futures::future::pending::<()>().await
            }
            Failure::Task => {
                cx.slot("doomed")
                    .re_create_fn(|cx| async move { panic!("task of {} fails", cx.thread_id()) })
                    .await?;
            }
            Failure::StopInEnter | Failure::HangingExitAfterStop => cx.handle().terminate(),
            Failure::FailingEnterSlowExit => {
                return Err(format!("{} fails in enter", self.id).into())
            }
            _ => {}
        }
        for child in std::mem::take(&mut self.children) {
            cx.spawn_child(child).await?;
        }
        Ok(())
    }

    async fn exit(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.log.push(&format!("exit {}", self.id));
        if self.failure == Failure::FailingEnterSlowExit {
            cx.runtime().sleep(Duration::from_millis(20)).await;
            self.log.push(&format!("exit {} flushed", self.id));
        }
        if matches!(
            self.failure,
            Failure::HangingExit | Failure::HangingExitAfterStop
        ) {
            // Logged when the hanging exit is dropped (by its thread's deadline, or with its
            // task when an ancestor forces it): nothing of a forced thread keeps running.
            let _dropped = LogOnDrop(self.log.clone(), format!("exit {} dropped", self.id));
            futures::future::pending::<()>().await;
        }
        Ok(())
    }

    async fn on_signal(&mut self, signal: Cmd, cx: &ThreadCx<Self>) -> Flow {
        match signal {
            Cmd::Note(n) => self.log.push(&format!("{} got {n}", self.id)),
            Cmd::Stop => return Flow::Stop,
            Cmd::Panic => panic!("{} fails in on_signal", self.id),
            Cmd::Wait(gate) => {
                self.log.push(&format!("{} waits", self.id));
                let _ = gate.await;
            }
            Cmd::SpawnHere(id) => {
                cx.spawn_child(Node::new(&id, &self.log)).await.unwrap();
            }
            Cmd::SpawnFromTask(id) => {
                let (thread, log) = (cx.clone(), self.log.clone());
                let slot = cx.slot(&format!("start {id}"));
                let starting = slot.re_create_fn(move |_task| {
                    let (thread, log, id) = (thread.clone(), log.clone(), id.clone());
                    async move {
                        thread.spawn_child(Node::new(&id, &log)).await.unwrap();
                        log.push(&format!("{} added {id}", thread.id()));
                    }
                });
                starting.await.unwrap();
            }
            Cmd::Up(text) => match cx.send_to_parent(text.clone()).await {
                Ok(()) => self.log.push(&format!("{} sent up {text}", self.id)),
                Err(error) => self.log.push(&format!("{} up refused: {error:?}", self.id)),
            },
        }
        Flow::Continue
    }

    async fn on_child_signal(
        &mut self,
        text: String,
        child: &ChildRef,
        _cx: &ThreadCx<Self>,
    ) -> Flow {
        self.log
            .push(&format!("{} from {}: {text}", self.id, child.id()));
        // A child can stop its parent by asking: `Up("stop")`.
        if text == "stop" {
            return Flow::Stop;
        }
        Flow::Continue
    }

    async fn on_child_ended(
        &mut self,
        child: &ChildRef,
        end: ThreadEnd,
        _cx: &ThreadCx<Self>,
    ) -> Flow {
        self.log
            .push(&format!("{} saw {} end: {end:?}", self.id, child.id()));
        Flow::Continue
    }

    fn on_undelivered(&mut self, signals: Vec<Cmd>) {
        if self.failure == Failure::PanicInUndelivered {
            panic!("{} fails in on_undelivered", self.id);
        }
        self.log
            .push(&format!("{} undelivered {}", self.id, signals.len()));
    }

    fn on_undelivered_from_children(&mut self, signals: Vec<(String, String)>) {
        let texts: Vec<String> = signals
            .into_iter()
            .map(|(id, text)| format!("{id}:{text}"))
            .collect();
        let texts = texts.join(",");
        self.log
            .push(&format!("{} undelivered from children {texts}", self.id));
    }
}

/// A second thread type, taking numbers from its parent, for lookups and sends by type.
pub struct Leaf {
    pub id: String,
    pub log: EventLog,
}

impl LeafThread for Leaf {
    type Signal = u32;
    type Output = String;

    fn id(&self) -> String {
        self.id.clone()
    }

    async fn on_signal(&mut self, n: u32, _cx: &ThreadCx<Self>) -> Flow {
        self.log.push(&format!("{} got {n}", self.id));
        Flow::Continue
    }
}

/// The contexts that [`Node::exposed`] nodes handed out as they entered, by id: a case
/// holding one acts as that thread itself (spawns, finds and messages its children, sends
/// up), which a [`ThreadHandle`] cannot. A thread may give its context away; nothing else
/// can make one.
#[derive(Clone, Default)]
pub struct Contexts(Arc<Mutex<HashMap<String, ThreadCx<Node>>>>);

impl Contexts {
    /// The context of the exposed node `id`, which has entered.
    pub fn of(&self, id: &str) -> ThreadCx<Node> {
        let contexts = self.0.lock().unwrap();
        let cx = contexts
            .get(id)
            .unwrap_or_else(|| panic!("{id} has not entered, or was not exposed"));
        cx.clone()
    }
}

impl Contexts {
    /// The handle of the exposed node `id`.
    pub fn handle(&self, id: &str) -> ThreadHandle<Node> {
        self.of(id).handle().clone()
    }
}

/// `node` and every node of its subtree, exposed into `contexts`.
pub fn exposed_tree(mut node: Node, contexts: &Contexts) -> Node {
    node.children = std::mem::take(&mut node.children)
        .into_iter()
        .map(|child| exposed_tree(child, contexts))
        .collect();
    node.exposed(contexts)
}

/// Starts `tree` as a root, every node exposed: its root's handle, and every node's context.
pub async fn start_exposed(rt: &Runtime, tree: Node) -> (ThreadHandle<Node>, Contexts) {
    let contexts = Contexts::default();
    let root = task_thread::start(rt, exposed_tree(tree, &contexts))
        .await
        .unwrap();
    (root, contexts)
}

/// Starts `node` as a root and returns its context (see [`Contexts`]).
pub async fn start_inside(rt: &Runtime, node: Node) -> ThreadCx<Node> {
    let contexts = Contexts::default();
    let id = node.id.clone();
    task_thread::start(rt, node.exposed(&contexts))
        .await
        .unwrap();
    contexts.of(&id)
}

/// Holds `thread`'s loop in a handler (a [`Cmd::Wait`]) until the returned sender opens the
/// gate: what is sent to it meanwhile stays queued.
pub async fn hold(thread: &ThreadHandle<Node>, log: &EventLog) -> oneshot::Sender<()> {
    let (open, gate) = oneshot::channel();
    thread.send(Cmd::Wait(gate)).await.unwrap();
    log.wait_for(&format!("{} waits", thread.id())).await;
    open
}
