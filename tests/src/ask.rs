//! Ask and reply: a typed answer from outside and from a parent, and each way of getting
//! none (ended, never answered, never delivered, refused, failed), told apart.
//!
//! A request meant to stay queued is queued by polling its `ask` once: a request the queue
//! takes is pushed on that first poll, so no task has to be given time to send it.

use std::pin::pin;
use std::time::Duration;

use futures::channel::oneshot;
use futures::poll;
use task_thread::{
    start, AskError, BoxError, Flow, LeafThread, OverflowPolicy, Reply, Runtime, SendError,
    TaskThread, ThreadConfig, ThreadCx, ThreadEnd, ThreadHandle,
};

use crate::fixtures::EventLog;
use crate::runtimes::Dropping;

/// A deadline the cases expect never to reach: the answer (or its absence) is an event.
const LONG: Duration = Duration::from_secs(20);
/// A deadline the cases expect to run out: nothing can answer before it.
const SHORT: Duration = Duration::from_millis(50);

/// What an [`Oracle`] is asked (or told).
pub enum Request {
    /// Answer twice the number.
    Double(u32, Reply<u32>),
    /// Answer the oracle's id.
    Name(Reply<String>),
    /// Keep the reply, unanswered, until [`Request::AnswerKept`].
    Keep(Reply<u32>),
    /// Answer the kept replies with this number, logging whether each asker got it.
    AnswerKept(u32),
    /// Drop the reply and run on.
    Refuse(Reply<u32>),
    /// Drop the reply, then stop the thread.
    RefuseThenStop(Reply<u32>),
    /// Panic while holding the reply.
    Panic(Reply<u32>),
    /// Hand the reply to a task of the thread, which panics holding it.
    PanicInTask(Reply<u32>),
    /// Hold the loop until the gate opens: what is asked meanwhile stays queued.
    Wait(oneshot::Receiver<()>),
    /// Hold the reply in a handler that never returns.
    HoldForever(Reply<u32>),
}

/// A thread that answers, keeps, refuses or fails on requests, logging `enter <id>`,
/// `<id> doubles <n>`, `<id> names itself`, `<id> keeps`, `<id> refuses`, `<id> waits`,
/// `<id> undelivered <count>`, `exit <id>` and what happens to late answers.
pub struct Oracle {
    pub id: String,
    pub log: EventLog,
    pub capacity: usize,
    pub overflow: OverflowPolicy,
    pub budget: Duration,
    kept: Vec<Reply<u32>>,
}

impl Oracle {
    /// An oracle with roomy queues, logging into `log`.
    pub fn new(id: &str, log: &EventLog) -> Self {
        Oracle {
            id: id.to_owned(),
            log: log.clone(),
            capacity: 100,
            overflow: OverflowPolicy::Wait,
            budget: ThreadConfig::default().shutdown_budget,
            kept: Vec::new(),
        }
    }

    /// With a queue from its parent of one signal, full under `overflow`.
    pub fn cramped(mut self, overflow: OverflowPolicy) -> Self {
        self.capacity = 1;
        self.overflow = overflow;
        self
    }

    /// With this shutdown budget.
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    fn note(&self, what: &str) {
        self.log.push(&format!("{} {what}", self.id));
    }
}

impl LeafThread for Oracle {
    type Signal = Request;
    type Output = ();

    fn id(&self) -> String {
        self.id.clone()
    }

    fn config(&self) -> ThreadConfig {
        ThreadConfig {
            signal_capacity: self.capacity,
            overflow: self.overflow,
            shutdown_budget: self.budget,
            ..ThreadConfig::default()
        }
    }

    async fn enter(&mut self, _cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.log.push(&format!("enter {}", self.id));
        Ok(())
    }

    async fn exit(&mut self, _cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.log.push(&format!("exit {}", self.id));
        Ok(())
    }

    async fn on_signal(&mut self, request: Request, cx: &ThreadCx<Self>) -> Flow {
        match request {
            Request::Double(n, reply) => {
                self.note(&format!("doubles {n}"));
                reply.send(2 * n).unwrap();
            }
            Request::Name(reply) => {
                self.note("names itself");
                reply.send(self.id.clone()).unwrap();
            }
            Request::Keep(reply) => {
                self.note("keeps");
                self.kept.push(reply);
            }
            Request::AnswerKept(n) => {
                for reply in std::mem::take(&mut self.kept) {
                    self.note(&format!("asker waiting: {}", reply.is_waiting()));
                    match reply.send(n) {
                        Ok(()) => self.note(&format!("answered {n}")),
                        Err(back) => self.note(&format!("got its answer {back} back")),
                    }
                }
            }
            Request::Refuse(reply) => {
                self.note("refuses");
                drop(reply);
            }
            Request::RefuseThenStop(reply) => {
                self.note("refuses and stops");
                drop(reply);
                return Flow::Stop;
            }
            Request::Panic(reply) => {
                self.note("panics");
                let _held = reply;
                panic!("{} fails holding a request", self.id);
            }
            Request::PanicInTask(reply) => {
                self.note("hands the request to a task");
                // A task function may run again: it takes the reply once.
                let reply = std::sync::Mutex::new(Some(reply));
                cx.slot("doomed")
                    .re_create_fn(move |_task| {
                        let held = reply.lock().unwrap().take();
                        async move {
                            let _held = held;
                            panic!("a task fails holding a request")
                        }
                    })
                    .await
                    .unwrap();
            }
            Request::Wait(gate) => {
                self.note("waits");
                let _ = gate.await;
            }
            Request::HoldForever(reply) => {
                self.note("holds a request forever");
                let _held = reply;
                futures::future::pending::<()>().await;
            }
        }
        Flow::Continue
    }

    fn on_undelivered(&mut self, requests: Vec<Request>) {
        // Dropped here, with their replies: the thread is ending, so they read as ended.
        self.note(&format!("undelivered {}", requests.len()));
    }
}

/// A parent that asks its child oracle to double each number it is sent, from its handler.
pub struct Asker {
    pub log: EventLog,
    /// Added as a child in `enter`.
    pub child: ThreadHandle<Oracle>,
}

impl TaskThread for Asker {
    type Signal = u32;
    type Output = ();
    type ChildOutput = ();

    fn id(&self) -> String {
        "p".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.log.push("enter p");
        cx.add_child(&self.child)?;
        Ok(())
    }

    async fn exit(&mut self, _cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.log.push("exit p");
        Ok(())
    }

    async fn on_signal(&mut self, n: u32, cx: &ThreadCx<Self>) -> Flow {
        let child = cx.find_child_of::<Oracle>(self.child.id()).unwrap();
        match child.ask(|reply| Request::Double(n, reply), LONG).await {
            Ok(answer) => self.log.push(&format!("p got {answer}")),
            Err(error) => self.log.push(&format!("p got no answer: {error}")),
        }
        Flow::Continue
    }
}

/// Holds `oracle`'s loop in a handler until the returned sender opens the gate.
async fn hold(oracle: &ThreadHandle<Oracle>, log: &EventLog) -> oneshot::Sender<()> {
    let (open, gate) = oneshot::channel();
    oracle.send(Request::Wait(gate)).await.unwrap();
    log.wait_for(&format!("{} waits", oracle.id())).await;
    open
}

/// A child answers with a value of the type its request names: to an outsider holding its
/// handle, and to its parent, which finds it by id and type and asks from its handler.
pub async fn a_child_answers_outsiders_and_its_parent(rt: Runtime) {
    let log = EventLog::default();
    let oracle = start(&rt, Oracle::new("o", &log)).await.unwrap();
    let parent = start(
        &rt,
        Asker {
            log: log.clone(),
            child: oracle.clone(),
        },
    )
    .await
    .unwrap();
    assert_eq!(oracle.parent_id().as_deref(), Some("p"));

    let doubled: u32 = oracle
        .ask(|reply| Request::Double(2, reply), LONG)
        .await
        .unwrap();
    assert_eq!(doubled, 4);
    let name: String = oracle.ask(Request::Name, LONG).await.unwrap();
    assert_eq!(name, "o");

    parent.send(21).await.unwrap();
    log.wait_for("p got 42").await;
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
    assert_eq!(oracle.join().await, ThreadEnd::Stopped);
    assert_eq!(
        log.events(),
        [
            "enter o",
            "enter p",
            "o doubles 2",
            "o names itself",
            "o doubles 21",
            "p got 42",
            "exit p",
            "exit o"
        ]
    );
}

/// A child terminated while one request is queued behind a running handler and another is
/// kept by the thread: both askers learn that it ended, not that it refused (the queued one
/// is dropped by `on_undelivered`, the kept one with the thread). So does the asker of a
/// child terminated while its handler holds the request and never returns: the handler is
/// dropped at the end of the shutdown budget, which runs out for sure.
pub async fn a_child_that_ends_while_a_request_is_queued_reads_as_ended(rt: Runtime) {
    let log = EventLog::default();
    let oracle = start(&rt, Oracle::new("o", &log)).await.unwrap();
    let mut kept = pin!(oracle.ask(Request::Keep, LONG));
    assert!(poll!(kept.as_mut()).is_pending());
    let open = hold(&oracle, &log).await;
    let mut queued = pin!(oracle.ask(|reply| Request::Double(1, reply), LONG));
    assert!(poll!(queued.as_mut()).is_pending());

    oracle.terminate();
    open.send(()).unwrap();
    assert!(matches!(queued.await, Err(AskError::Ended)));
    assert!(matches!(kept.await, Err(AskError::Ended)));
    assert_eq!(oracle.join().await, ThreadEnd::Stopped);

    let stuck = Oracle::new("stuck", &log).budget(SHORT);
    let stuck = start(&rt, stuck).await.unwrap();
    let mut held = pin!(stuck.ask(Request::HoldForever, LONG));
    assert!(poll!(held.as_mut()).is_pending());
    log.wait_for("stuck holds a request forever").await;
    stuck.terminate();
    assert!(matches!(held.await, Err(AskError::Ended)));
    let forced = ThreadEnd::Forced {
        what: "on_signal".into(),
    };
    assert_eq!(stuck.join().await, forced);
    assert_eq!(
        log.events(),
        [
            "enter o",
            "o keeps",
            "o waits",
            "o undelivered 1",
            "exit o",
            "enter stuck",
            "stuck holds a request forever",
            "exit stuck"
        ]
    );
}

/// A thread whose runtime drops its task (as a runtime shutting down does) drops the
/// request it was handling with its life, and hands the one queued to its undelivered hook
/// (which drops it): both askers read "ended".
pub async fn a_request_to_a_thread_its_runtime_drops_reads_as_ended(rt: Runtime) {
    let (dropping, dropper) = Dropping::wrap(&rt);
    let log = EventLog::default();
    let oracle = start(&dropping, Oracle::new("o", &log)).await.unwrap();
    let mut held = pin!(oracle.ask(Request::HoldForever, LONG));
    assert!(poll!(held.as_mut()).is_pending());
    log.wait_for("o holds a request forever").await;
    let mut queued = pin!(oracle.ask(|reply| Request::Double(1, reply), LONG));
    assert!(poll!(queued.as_mut()).is_pending());

    dropper.drop_all();
    assert!(matches!(queued.await, Err(AskError::Ended)));
    assert!(matches!(held.await, Err(AskError::Ended)));
    let dropped = ThreadEnd::Forced {
        what: "its task, dropped by its runtime".into(),
    };
    assert_eq!(oracle.join().await, dropped);
    assert_eq!(
        log.events(),
        ["enter o", "o holds a request forever", "o undelivered 1"]
    );
}

/// A child that keeps the reply and never answers: the asker times out with the deadline it
/// gave, the request delivered (not handed back); the child then sees nobody waits, and a
/// late answer comes back to it.
pub async fn a_child_that_never_answers_times_out(rt: Runtime) {
    let log = EventLog::default();
    let oracle = start(&rt, Oracle::new("o", &log)).await.unwrap();
    let error = oracle.ask(Request::Keep, SHORT).await.unwrap_err();
    assert_eq!(error.to_string(), format!("no answer within {SHORT:?}"));
    assert!(matches!(
        error,
        AskError::TimedOut {
            after: SHORT,
            undelivered: None
        }
    ));

    oracle.send(Request::AnswerKept(7)).await.unwrap();
    log.wait_for("o got its answer 7 back").await;
    oracle.terminate();
    assert_eq!(oracle.join().await, ThreadEnd::Stopped);
    assert_eq!(
        log.events(),
        [
            "enter o",
            "o keeps",
            "o asker waiting: false",
            "o got its answer 7 back",
            "exit o"
        ]
    );
}

/// A request that never reaches the thread comes back, the very request: to an ended thread,
/// to a full queue under the reject policy, and to a full queue under the wait policy that
/// has no room before the deadline. The thread never sees it.
pub async fn a_request_never_delivered_is_handed_back(rt: Runtime) {
    let log = EventLog::default();

    let ended = start(&rt, Oracle::new("ended", &log)).await.unwrap();
    ended.terminate();
    assert_eq!(ended.join().await, ThreadEnd::Stopped);
    let error = ended
        .ask(|reply| Request::Double(41, reply), LONG)
        .await
        .unwrap_err();
    let AskError::NotDelivered(SendError::Ended(Request::Double(41, reply))) = error else {
        panic!("not handed back as undelivered to an ended thread: {error:?}");
    };
    assert!(!reply.is_waiting(), "the asker has returned");

    for overflow in [OverflowPolicy::Reject, OverflowPolicy::Wait] {
        let id = format!("{overflow:?}");
        let oracle = Oracle::new(&id, &log).cramped(overflow);
        let oracle = start(&rt, oracle).await.unwrap();
        let open = hold(&oracle, &log).await;
        let mut first = pin!(oracle.ask(|reply| Request::Double(1, reply), LONG));
        assert!(poll!(first.as_mut()).is_pending());
        // The queue (of one) is full, and stays full: the loop is held.
        let error = oracle
            .ask(|reply| Request::Double(2, reply), SHORT)
            .await
            .unwrap_err();
        let back = match overflow {
            OverflowPolicy::Reject => {
                let AskError::NotDelivered(SendError::Full(back)) = error else {
                    panic!("not handed back as refused by a full queue: {error:?}");
                };
                back
            }
            _ => {
                let AskError::TimedOut {
                    after: SHORT,
                    undelivered: Some(back),
                } = error
                else {
                    panic!("not handed back when the deadline ran out: {error:?}");
                };
                back
            }
        };
        assert!(matches!(back, Request::Double(2, _)));
        open.send(()).unwrap();
        assert_eq!(first.await.unwrap(), 2);
        oracle.terminate();
        assert_eq!(oracle.join().await, ThreadEnd::Stopped);
    }
    assert_eq!(
        log.events(),
        [
            "enter ended",
            "exit ended",
            "enter Reject",
            "Reject waits",
            "Reject doubles 1",
            "exit Reject",
            "enter Wait",
            "Wait waits",
            "Wait doubles 1",
            "exit Wait"
        ]
    );
}

/// A child that drops the reply without answering refused: it runs on and answers the next
/// request. Dropping it and then stopping is still a refusal: the reply says what the
/// thread was doing when it was dropped, whenever the asker looks.
pub async fn a_child_that_drops_the_reply_refuses(rt: Runtime) {
    let log = EventLog::default();
    let oracle = start(&rt, Oracle::new("o", &log)).await.unwrap();
    let refused = oracle.ask(Request::Refuse, LONG).await;
    assert!(matches!(refused, Err(AskError::Refused)));
    assert_eq!(oracle.end(), None);
    let answer = oracle.ask(|reply| Request::Double(5, reply), LONG).await;
    assert_eq!(answer.unwrap(), 10);

    let refused = oracle.ask(Request::RefuseThenStop, LONG).await;
    assert!(matches!(refused, Err(AskError::Refused)));
    assert_eq!(oracle.join().await, ThreadEnd::Stopped);
    assert_eq!(
        log.events(),
        [
            "enter o",
            "o refuses",
            "o doubles 5",
            "o refuses and stops",
            "exit o"
        ]
    );
}

/// A child that fails holding a request, in its handler or in a task it handed the reply
/// to, ended before answering: the asker reads "ended", the child's end is a failure.
pub async fn a_child_that_fails_holding_a_request_reads_as_ended(rt: Runtime) {
    let log = EventLog::default();
    for (id, request) in [
        ("handler", Request::Panic as fn(Reply<u32>) -> Request),
        ("task", Request::PanicInTask),
    ] {
        let oracle = start(&rt, Oracle::new(id, &log)).await.unwrap();
        let error = oracle.ask(request, LONG).await.unwrap_err();
        assert!(matches!(error, AskError::Ended), "{id}: {error:?}");
        assert!(matches!(oracle.join().await, ThreadEnd::Failed(_)));
    }
    assert_eq!(
        log.events(),
        [
            "enter handler",
            "handler panics",
            "exit handler",
            "enter task",
            "task hands the request to a task",
            "exit task"
        ]
    );
}
