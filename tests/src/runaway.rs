//! The runaway-rescheduling warning, when turned on: once per slot for a task that
//! reschedules itself without ever waiting, faster than its thread's rate; never for one
//! that waits. Off by default.

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::task::{Context, Poll};

use task_thread::{
    BoxError, LeafThread, Next, Runtime, Task, TaskCx, ThreadConfig, ThreadCx, ThreadEnd,
};

use crate::fixtures::EventLog;
use crate::logs;

/// Two slots, each running `runs` runs, one of each task form; each run waits first if
/// `waits`. `rate`: the thread's runaway rate, `None` for the default.
struct Looper {
    id: &'static str,
    log: EventLog,
    runs: usize,
    waits: bool,
    rate: Option<NonZeroU32>,
}

/// Waits once: returns `Pending`, having arranged to be woken (as a run waiting on a timer
/// or a channel is, without the time it takes).
struct WaitOnce(bool);

impl Future for WaitOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The `Task` form of the loop.
struct Loop {
    left: usize,
    waits: bool,
    log: EventLog,
}

impl<T> Task<T> for Loop {
    async fn run(&mut self, _: &TaskCx<T>) -> Next {
        if self.waits {
            WaitOnce(false).await;
        }
        self.left -= 1;
        if self.left > 0 {
            return Next::Reschedule;
        }
        self.log.push("task_loop done");
        Next::Stop
    }
}

impl LeafThread for Looper {
    type Signal = ();
    type Output = ();

    fn id(&self) -> String {
        self.id.into()
    }

    fn config(&self) -> ThreadConfig {
        match self.rate {
            Some(rate) => ThreadConfig {
                runaway_rate: Some(rate),
                ..ThreadConfig::default()
            },
            None => ThreadConfig::default(),
        }
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let (total, waits, log) = (self.runs, self.waits, self.log.clone());
        let mut run = 0;
        cx.slot("fn_loop")
            .re_create_fn(move |task| {
                run += 1;
                let (last, log) = (run == total, log.clone());
                async move {
                    if waits {
                        WaitOnce(false).await;
                    }
                    if last {
                        log.push("fn_loop done");
                    } else {
                        task.re_schedule();
                    }
                }
            })
            .await?;
        let task = Loop {
            left: self.runs,
            waits: self.waits,
            log: self.log.clone(),
        };
        cx.slot("task_loop").re_create(task).await?;
        Ok(())
    }
}

async fn run_loops(rt: &Runtime, looper: Looper) {
    let log = looper.log.clone();
    let thread = task_thread::start(rt, looper).await.unwrap();
    log.wait_for("fn_loop done").await;
    log.wait_for("task_loop done").await;
    thread.terminate();
    assert_eq!(thread.join().await, ThreadEnd::Stopped);
}

/// Warnings about the slot `slot` of the thread `thread`.
fn warnings(thread: &str, slot: &str) -> usize {
    let thread = format!("thread={thread}");
    let slot = format!("slot={slot} ");
    logs::count_lines(&["WARN", &thread, &slot, "times a second without waiting"])
}

/// A loop of 5,000 runs that never waits, against a rate of 100 a second: its first 1,000
/// runs would have to take ten seconds not to be warned about. One warning per slot, in
/// both task forms, naming the thread and the slot, with the rate.
pub async fn a_task_rescheduling_without_waiting_is_warned_about_once(rt: Runtime) {
    logs::capture();
    let looper = Looper {
        id: "runaway_hot",
        log: EventLog::default(),
        runs: 5_000,
        waits: false,
        rate: NonZeroU32::new(100),
    };
    run_loops(&rt, looper).await;
    assert_eq!(warnings("runaway_hot", "fn_loop"), 1);
    assert_eq!(warnings("runaway_hot", "task_loop"), 1);
    assert!(logs::contains_line(&[
        "thread=runaway_hot",
        "slot=fn_loop",
        "per_second=",
        "above 100 a second"
    ]));
}

/// A loop whose every run waits is never warned about, even against a rate of one a
/// second: each run waits, which starts the count again, so no 1,000 runs in a row ever
/// go without a wait. (2,000 runs: were waits not seen, two windows would be measured,
/// and 1,000 runs take less than a thousand seconds.)
pub async fn a_task_that_waits_between_runs_is_never_warned_about(rt: Runtime) {
    logs::capture();
    let looper = Looper {
        id: "runaway_waits",
        log: EventLog::default(),
        runs: 2_000,
        waits: true,
        rate: NonZeroU32::new(1),
    };
    run_loops(&rt, looper).await;
    assert_eq!(warnings("runaway_waits", "fn_loop"), 0);
    assert_eq!(warnings("runaway_waits", "task_loop"), 0);
}

/// Off by default: a thread that does not set a rate is never warned about, even for a
/// loop of 5,000 runs that never waits (the warning also fires for a backlog of ready
/// input being drained, which is no bug: see `ThreadConfig::runaway_rate`).
pub async fn the_runaway_warning_is_off_by_default(rt: Runtime) {
    logs::capture();
    let looper = Looper {
        id: "runaway_default",
        log: EventLog::default(),
        runs: 5_000,
        waits: false,
        rate: None,
    };
    run_loops(&rt, looper).await;
    assert_eq!(warnings("runaway_default", "fn_loop"), 0);
    assert_eq!(warnings("runaway_default", "task_loop"), 0);
}
