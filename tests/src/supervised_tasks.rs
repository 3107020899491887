//! Supervised tasks: a slot's task run under a restart policy survives its panics, and
//! fails its thread once past the intensity. Waits are read from the log, never timed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use task_thread::{
    start, BoxError, Escalation, LeafThread, RestartPolicy, Runtime, TaskCx, ThreadCx, ThreadEnd,
};

use crate::fixtures::EventLog;
use crate::supervision::policy;

/// A thread whose slot "read" runs under `policy`: its runs up to `panics` panic, the
/// next reschedules once, the one after returns.
struct Feeder {
    policy: RestartPolicy,
    panics: usize,
    log: EventLog,
    /// Whether a run asks for its successor before it panics.
    asks_first: bool,
}

impl LeafThread for Feeder {
    type Signal = ();
    type Output = ();

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let runs = Arc::new(AtomicUsize::new(0));
        let (log, panics, asks_first) = (self.log.clone(), self.panics, self.asks_first);
        let read = move |task: TaskCx<Self>| {
            let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
            let log = log.clone();
            async move {
                log.push(&format!("run {run}"));
                if asks_first {
                    task.re_schedule();
                }
                if run <= panics {
                    panic!("bad frame {run}");
                }
                if run == panics + 1 {
                    task.re_schedule();
                }
            }
        };
        cx.slot("read")
            .re_create_supervised(self.policy.clone(), read)
            .await?;
        Ok(())
    }
}

/// A slot's task that panics twice is run again after each panic, and goes on as before;
/// its thread keeps running, and the restarts are logged with the thread and task names.
pub async fn a_supervised_task_survives_its_panics(rt: Runtime) {
    crate::logs::capture();
    let log = EventLog::default();
    let feeder = Feeder {
        policy: policy(5, Duration::from_millis(1)),
        panics: 2,
        log: log.clone(),
        asks_first: false,
    };
    let feeder = start(&rt, feeder).await.unwrap();
    log.wait_for("run 4").await;
    assert_eq!(log.events(), ["run 1", "run 2", "run 3", "run 4"]);
    for (attempt, wait) in [(1, "1ms"), (2, "2ms")] {
        let restart = format!("restart {attempt} in {wait}");
        let line = ["ERROR", "feeder", "read", "bad frame", &restart];
        assert!(
            crate::logs::contains_line(&line),
            "no log line with {line:?}"
        );
    }
    // A panic let through would have failed the thread before this terminate (the first
    // control message wins).
    feeder.terminate();
    assert_eq!(feeder.join().await, ThreadEnd::Stopped);
}

/// A slot's task that keeps panicking fails its thread once past the intensity, with an
/// escalation naming the task; no run follows, though each asked for one before it
/// panicked.
pub async fn a_supervised_task_failing_past_the_intensity_fails_its_thread(rt: Runtime) {
    let log = EventLog::default();
    let feeder = Feeder {
        policy: policy(1, Duration::ZERO),
        panics: usize::MAX,
        log: log.clone(),
        asks_first: true,
    };
    let feeder = start(&rt, feeder).await.unwrap();
    let ThreadEnd::Failed(failure) = feeder.join().await else {
        panic!("the thread did not fail")
    };
    assert_eq!(failure.during(), "task read");
    let escalation = failure.downcast_ref::<Escalation>().expect("an escalation");
    assert_eq!(
        (escalation.supervised(), escalation.is_task()),
        ("read", true)
    );
    assert_eq!(log.events(), ["run 1", "run 2"]);
}
