//! Supervised children: a parent restarts the children it started with a restart policy,
//! under the same id, fails when they fail too often, and a terminate during a restart's
//! wait ends the tree at once. Waits are read from the decisions (jitter off), never timed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use task_thread::{
    start, Backoff, BoxError, ChildRef, Escalation, Flow, Intensity, LeafThread, Restart,
    RestartDecision, RestartPolicy, Runtime, Strategy, TaskThread, ThreadCx, ThreadEnd,
};

use crate::fixtures::EventLog;

/// A supervised worker; each incarnation has its number, counted by its factory. Its
/// incarnations up to `fail_until` fail in a task as soon as they have entered; one told
/// "fail" panics in its handler.
struct Worker {
    id: String,
    incarnation: usize,
    fail_until: usize,
    log: EventLog,
}

impl Worker {
    fn say(&self, what: &str) {
        self.log
            .push(&format!("{} {} {what}", self.id, self.incarnation));
    }
}

impl LeafThread for Worker {
    type Signal = String;
    type Output = String;

    fn id(&self) -> String {
        self.id.clone()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.say("enter");
        if self.incarnation <= self.fail_until {
            let message = format!("{} {} fails", self.id, self.incarnation);
            cx.slot("work")
                .re_create_fn(move |_| {
                    let message = message.clone();
                    async move { panic!("{message}") }
                })
                .await?;
        } else {
            let ready = format!("ready {} {}", self.id, self.incarnation);
            cx.send_to_parent(ready).await?;
        }
        Ok(())
    }

    async fn on_signal(&mut self, signal: String, _cx: &ThreadCx<Self>) -> Flow {
        self.say(&format!("got {signal}"));
        if signal == "fail" {
            panic!("{} {} told to fail", self.id, self.incarnation);
        }
        Flow::Continue
    }

    async fn exit(&mut self, _cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.say("exit");
        Ok(())
    }
}

/// One supervised child of a [`Boss`].
#[derive(Clone)]
struct Plan {
    id: &'static str,
    strategy: Strategy,
    policy: RestartPolicy,
    fail_until: usize,
}

/// Starts its plan's children supervised, logs each decision, answers a ready worker with
/// "ping", and passes on what it is told.
struct Boss {
    plan: Vec<Plan>,
    log: EventLog,
    /// Stops supervising a child as soon as it is decided to restart it.
    unsupervise: bool,
}

/// Sends the text to the child of that id.
struct Tell(&'static str, &'static str);

impl TaskThread for Boss {
    type Signal = Tell;
    type Output = ();
    type ChildOutput = String;

    fn id(&self) -> String {
        "boss".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        for plan in self.plan.clone() {
            let incarnations = Arc::new(AtomicUsize::new(0));
            let log = self.log.clone();
            cx.spawn_supervised(plan.strategy, plan.policy, move || Worker {
                id: plan.id.into(),
                incarnation: incarnations.fetch_add(1, Ordering::SeqCst) + 1,
                fail_until: plan.fail_until,
                log: log.clone(),
            })
            .await?;
        }
        Ok(())
    }

    async fn on_signal(&mut self, Tell(id, text): Tell, cx: &ThreadCx<Self>) -> Flow {
        if text == "wait for your tasks" {
            cx.tasks().idle().await;
            self.log.push("boss: no task left");
            return Flow::Continue;
        }
        let sent = cx.send_to_child::<Worker>(id, text.into()).await;
        let sent = sent.map_or_else(|e| format!("{e:?}"), |()| "ok".into());
        self.log.push(&format!("boss: {text} to {id}: {sent}"));
        Flow::Continue
    }

    async fn on_child_signal(
        &mut self,
        text: String,
        child: &ChildRef,
        cx: &ThreadCx<Self>,
    ) -> Flow {
        self.log.push(&format!("boss got {text}"));
        let sent = cx.send_to_child::<Worker>(child.id(), "ping".into()).await;
        self.log
            .push(&format!("boss: ping to {}: {sent:?}", child.id()));
        Flow::Continue
    }

    async fn on_child_ended(
        &mut self,
        child: &ChildRef,
        _end: ThreadEnd,
        cx: &ThreadCx<Self>,
    ) -> Flow {
        let decision = match child.restart() {
            Some(RestartDecision::Restart { attempt, after }) => {
                format!("restart {attempt} after {after:?}")
            }
            Some(RestartDecision::RestartWithGroup { cause }) => {
                format!("restart with the group of {cause}")
            }
            other => format!("{other:?}"),
        };
        self.log
            .push(&format!("boss saw {}: {decision}", child.id()));
        if self.unsupervise && decision.starts_with("restart") {
            let was = cx.stop_supervising(child.id());
            self.log
                .push(&format!("boss: stopped supervising {}: {was}", child.id()));
        }
        Flow::Continue
    }
}

/// Restarts on failure, at most `max_restarts` in an hour, after `min`, doubling, without
/// jitter (so the waits can be read from the decisions).
pub(crate) fn policy(max_restarts: u32, min: Duration) -> RestartPolicy {
    RestartPolicy {
        restart: Restart::OnFailure,
        intensity: Intensity {
            max_restarts,
            within: Duration::from_secs(3600),
        },
        backoff: Backoff {
            min,
            max: Duration::from_secs(3600),
            reset_after: Duration::from_secs(3600),
            jitter: false,
        },
    }
}

fn boss(plan: Vec<Plan>, log: &EventLog) -> Boss {
    Boss {
        plan,
        log: log.clone(),
        unsupervise: false,
    }
}

/// A child that fails twice, then works: restarted twice under its id, each wait twice
/// the one before, and signals sent by id reach the third incarnation.
pub async fn a_child_that_fails_twice_is_restarted_under_its_id(rt: Runtime) {
    let log = EventLog::default();
    let plan = Plan {
        id: "w",
        strategy: Strategy::OneForOne,
        policy: policy(5, Duration::from_millis(1)),
        fail_until: 2,
    };
    let boss = start(&rt, boss(vec![plan], &log)).await.unwrap();
    log.wait_for("w 3 got ping").await;
    boss.send(Tell("w", "hello")).await.unwrap();
    log.wait_for("w 3 got hello").await;
    boss.terminate();
    assert_eq!(boss.join().await, ThreadEnd::Stopped);
    let report = boss.report().expect("ended");
    let worker = report.children().next().expect("the worker's report");
    assert_eq!((worker.id(), worker.restart_count()), ("w", 2));
    let causes: Vec<_> = worker
        .restarts()
        .iter()
        .map(|r| r.end().to_string())
        .collect();
    assert_eq!(
        causes,
        [
            "failed in task work: panicked: w 1 fails",
            "failed in task work: panicked: w 2 fails"
        ]
    );
    assert_eq!(
        log.starting_with("w "),
        [
            "w 1 enter",
            "w 1 exit",
            "w 2 enter",
            "w 2 exit",
            "w 3 enter",
            "w 3 got ping",
            "w 3 got hello",
            "w 3 exit"
        ]
    );
    assert_eq!(
        log.starting_with("boss"),
        [
            "boss saw w: restart 1 after 1ms",
            "boss saw w: restart 2 after 2ms",
            "boss got ready w 3",
            "boss: ping to w: Ok(())",
            "boss: hello to w: ok",
        ]
    );
}

/// A child that always fails: restarted up to the intensity, then its parent fails with
/// an escalation naming it, and the parent's parent sees that end.
pub async fn a_child_failing_past_the_intensity_fails_its_parent(rt: Runtime) {
    let log = EventLog::default();
    let plan = Plan {
        id: "d",
        strategy: Strategy::OneForOne,
        policy: RestartPolicy {
            backoff: Backoff::NONE,
            ..policy(2, Duration::ZERO)
        },
        fail_until: usize::MAX,
    };
    let grand = start(&rt, Grand(Some(boss(vec![plan], &log)), log.clone()))
        .await
        .unwrap();
    log.wait_for_prefix("grand saw boss").await;
    assert_eq!(
        log.starting_with("d "),
        [
            "d 1 enter",
            "d 1 exit",
            "d 2 enter",
            "d 2 exit",
            "d 3 enter",
            "d 3 exit"
        ]
    );
    assert_eq!(
        log.starting_with("boss"),
        [
            "boss saw d: restart 1 after 0ns",
            "boss saw d: restart 2 after 0ns",
            "boss saw d: Some(Escalate)"
        ]
    );
    assert_eq!(
        log.starting_with("grand"),
        ["grand saw boss: failed in supervising d, child d after 2 restarts"]
    );
    grand.terminate();
    assert_eq!(grand.join().await, ThreadEnd::Stopped);
    // The whole tree, three levels, each thread with its end and the child its restarts.
    let report = grand.report().expect("ended").to_string();
    assert_eq!(
        without_times(&report),
        concat!(
            "grand (_): stopped\n",
            "└── boss (_): failed in supervising d: child d ended (failed in task work: ",
            "panicked: d 3 fails) after 2 restarts within 3600s: giving up\n",
            "    └── d (_): failed in task work: panicked: d 3 fails, restarted 2 times\n",
            "                  restart 1 (_): failed in task work: panicked: d 1 fails\n",
            "                  restart 2 (_): failed in task work: panicked: d 2 fails\n",
        )
    );
}

/// A report with each lifetime, `(1.23s)`, written `(_)`.
fn without_times(report: &str) -> String {
    let mut out = String::new();
    let mut rest = report;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let time = rest
            .find("s)")
            .filter(|&end| end > 0 && rest[..end].chars().all(|c| c.is_ascii_digit() || c == '.'));
        if let Some(end) = time {
            out.push('_');
            rest = &rest[end + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// The boss's parent: logs how the boss ended.
struct Grand(Option<Boss>, EventLog);

impl TaskThread for Grand {
    type Signal = ();
    type Output = ();
    type ChildOutput = ();

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let boss = self.0.take().ok_or("entered twice")?;
        cx.spawn_child(boss).await?;
        Ok(())
    }

    async fn on_child_ended(
        &mut self,
        child: &ChildRef,
        end: ThreadEnd,
        _cx: &ThreadCx<Self>,
    ) -> Flow {
        let seen = match &end {
            ThreadEnd::Failed(failure) => match failure.downcast_ref::<Escalation>() {
                Some(escalation) => format!(
                    "failed in {}, child {} after {} restarts",
                    failure.during(),
                    escalation.supervised(),
                    escalation.restarts()
                ),
                None => format!("{failure}"),
            },
            other => format!("{other}"),
        };
        self.1.push(&format!("grand saw {}: {seen}", child.id()));
        Flow::Continue
    }
}

/// One-for-all: a failing child of a group takes its group with it (its sibling is
/// terminated, and both start again in their first order), and leaves the other children
/// alone.
pub async fn one_for_all_restarts_the_group_and_only_the_group(rt: Runtime) {
    let log = EventLog::default();
    let member = |id| Plan {
        id,
        strategy: Strategy::OneForAll {
            group: "pair".into(),
        },
        policy: policy(5, Duration::from_millis(1)),
        fail_until: 0,
    };
    let alone = Plan {
        id: "c",
        strategy: Strategy::OneForOne,
        policy: policy(5, Duration::from_millis(1)),
        fail_until: 0,
    };
    let plan = vec![member("a"), member("b"), alone];
    let boss = start(&rt, boss(plan, &log)).await.unwrap();
    // Each has handled its ping (a ping only queued would be undelivered at a restart).
    for pinged in ["a 1 got ping", "b 1 got ping", "c 1 got ping"] {
        log.wait_for(pinged).await;
    }
    boss.send(Tell("a", "fail")).await.unwrap();
    for pinged in ["a 2 got ping", "b 2 got ping"] {
        log.wait_for(pinged).await;
    }
    boss.send(Tell("b", "hello")).await.unwrap();
    log.wait_for("b 2 got hello").await;
    boss.terminate();
    assert_eq!(boss.join().await, ThreadEnd::Stopped);
    assert_eq!(
        log.starting_with("a "),
        [
            "a 1 enter",
            "a 1 got ping",
            "a 1 got fail",
            "a 1 exit",
            "a 2 enter",
            "a 2 got ping",
            "a 2 exit"
        ]
    );
    assert_eq!(
        log.starting_with("b "),
        [
            "b 1 enter",
            "b 1 got ping",
            "b 1 exit",
            "b 2 enter",
            "b 2 got ping",
            "b 2 got hello",
            "b 2 exit"
        ]
    );
    assert_eq!(
        log.starting_with("c "),
        ["c 1 enter", "c 1 got ping", "c 1 exit"]
    );
    let enters: Vec<_> = log
        .events()
        .into_iter()
        .filter(|e| e.ends_with(" 2 enter"))
        .collect();
    assert_eq!(
        enters,
        ["a 2 enter", "b 2 enter"],
        "a group starts again in its first order"
    );
    assert_eq!(
        log.starting_with("boss saw"),
        [
            "boss saw a: restart 1 after 1ms",
            "boss saw b: restart with the group of a"
        ]
    );
}

/// A signal sent by id while the child waits for its restart is handed back as
/// `Restarting`; a terminate during the wait ends the tree at once (an hour's backoff
/// would otherwise hold it past the case's timeout), and no task of the restart is left.
pub async fn a_terminate_during_a_backoff_ends_the_tree_at_once(rt: Runtime) {
    let log = EventLog::default();
    let plan = Plan {
        id: "w",
        strategy: Strategy::OneForOne,
        policy: policy(5, Duration::from_secs(3600)),
        fail_until: 1,
    };
    let boss = start(&rt, boss(vec![plan], &log)).await.unwrap();
    log.wait_for("boss saw w: restart 1 after 3600s").await;
    boss.send(Tell("w", "hi")).await.unwrap();
    log.wait_for_prefix("boss: hi to w").await;
    boss.terminate();
    assert_eq!(boss.join().await, ThreadEnd::Stopped);
    assert_eq!(boss.live_tasks(), 0);
    assert_eq!(log.starting_with("w "), ["w 1 enter", "w 1 exit"]);
    // Its restart never came: the report keeps the end it had.
    let report = boss.report().expect("ended");
    let ends: Vec<_> = report
        .children()
        .map(|c| format!("{}: {}", c.id(), c.end()))
        .collect();
    assert_eq!(ends, ["w: failed in task work: panicked: w 1 fails"]);
    assert_eq!(
        log.starting_with("boss"),
        [
            "boss saw w: restart 1 after 3600s",
            "boss: hi to w: SendError::Restarting(..)"
        ]
    );
}

/// A child no longer supervised is not restarted, even by a restart already waiting; its
/// end is its last.
pub async fn a_child_no_longer_supervised_is_not_restarted(rt: Runtime) {
    crate::logs::capture();
    let log = EventLog::default();
    let plan = Plan {
        id: "w",
        strategy: Strategy::OneForOne,
        policy: policy(5, Duration::from_millis(1)),
        fail_until: 1,
    };
    let boss = Boss {
        unsupervise: true,
        ..boss(vec![plan], &log)
    };
    let boss = start(&rt, boss).await.unwrap();
    log.wait_for("boss: stopped supervising w: true").await;
    // The restart's task says it restarts nothing, and ends.
    crate::logs::wait_for_line(&["INFO", "boss", "w", "not restarted by this restart"]).await;
    boss.send(Tell("w", "wait for your tasks")).await.unwrap();
    log.wait_for("boss: no task left").await;
    boss.terminate();
    assert_eq!(boss.join().await, ThreadEnd::Stopped);
    assert_eq!(log.starting_with("w "), ["w 1 enter", "w 1 exit"]);
    assert_eq!(
        log.starting_with("boss"),
        [
            "boss saw w: restart 1 after 1ms",
            "boss: stopped supervising w: true",
            "boss: no task left"
        ]
    );
}
