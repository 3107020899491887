//! Task slots: reCreate / reSchedule / delete, both task forms, timeouts, panics and the
//! live-task count.

use std::time::Duration;

use futures::channel::{mpsc, oneshot};
use futures::StreamExt;
use task_thread::{
    Next, Runtime, SlotError, SpawnerExt, Task, TaskCx, TaskGroup, TaskSlot, Timeouts,
};

use crate::fixtures::{BlockOnDrop, Counter, EventLog, LogOnDrop};
use crate::logs;

/// A Task-form task that counts its runs, reports each on a channel, and stops at `limit`.
struct Counting {
    runs: Counter,
    limit: usize,
    report: mpsc::UnboundedSender<usize>,
}

impl Task for Counting {
    async fn run(&mut self, _cx: &TaskCx) -> Next {
        let run = self.runs.bump();
        let _ = self.report.unbounded_send(run);
        if run >= self.limit {
            Next::Stop
        } else {
            Next::Reschedule
        }
    }
}

/// The explicit form of [`Counting`]: each run is a fresh task that calls `re_schedule`.
async fn start_counting_fn(
    slot: &TaskSlot,
    limit: usize,
) -> (Counter, mpsc::UnboundedReceiver<usize>) {
    let runs = Counter::default();
    let (report, reports) = mpsc::unbounded();
    let counter = runs.clone();
    slot.re_create_fn(move |cx| {
        let (runs, report) = (counter.clone(), report.clone());
        async move {
            let run = runs.bump();
            let _ = report.unbounded_send(run);
            if run < limit {
                assert!(cx.re_schedule(), "the current task can reschedule");
            }
        }
    })
    .await
    .unwrap();
    (runs, reports)
}

async fn start_counting_task(
    slot: &TaskSlot,
    limit: usize,
) -> (Counter, mpsc::UnboundedReceiver<usize>) {
    let runs = Counter::default();
    let (report, reports) = mpsc::unbounded();
    let task = Counting {
        runs: runs.clone(),
        limit,
        report,
    };
    slot.re_create(task).await.unwrap();
    (runs, reports)
}

/// Waits until the task reports run `n`.
async fn until_run(reports: &mut mpsc::UnboundedReceiver<usize>, n: usize) {
    while reports.next().await.expect("the task reports its runs") < n {}
}

/// A task that starts, says so, and waits forever holding `guard`.
async fn start_waiting<G: Send + Sync + 'static>(slot: &TaskSlot, guard: G) {
    let (started, has_started) = oneshot::channel();
    let started = std::sync::Mutex::new(Some(started));
    let guard = std::sync::Mutex::new(Some(guard));
    slot.re_create_fn(move |_cx| {
        let started = started.lock().unwrap().take();
        let guard = guard.lock().unwrap().take();
        async move {
            let _guard = guard;
            if let Some(started) = started {
                let _ = started.send(());
            }
            futures::future::pending::<()>().await;
        }
    })
    .await
    .unwrap();
    has_started.await.unwrap();
}

/// `re_create` on an empty slot starts the task in it; the slot empties when it ends.
pub async fn re_create_starts_a_task_in_an_empty_slot(rt: Runtime) {
    let group = TaskGroup::new(rt, "owner");
    let slot = group.slot("first");
    let (report, mut reports) = mpsc::unbounded();
    slot.re_create_fn(move |cx| {
        let report = report.clone();
        async move {
            report
                .unbounded_send(format!("{} of {}", cx.task_name(), cx.thread_id()))
                .unwrap();
        }
    })
    .await
    .unwrap();
    assert_eq!(reports.next().await.as_deref(), Some("first of owner"));
    group.idle().await;
    assert!(!slot.is_live());
    assert_eq!(group.live_tasks(), 0);
}

/// `re_create` on a busy slot cancels the old task and awaits its end before the new one
/// starts.
pub async fn re_create_ends_the_old_task_before_the_new_starts(rt: Runtime) {
    let group = TaskGroup::new(rt, "owner");
    let slot = group.slot("worker");
    let log = EventLog::default();
    start_waiting(&slot, LogOnDrop(log.clone(), "old ended")).await;
    let (started, has_started) = oneshot::channel();
    let (new_log, started) = (log.clone(), std::sync::Mutex::new(Some(started)));
    slot.re_create_fn(move |_cx| {
        new_log.push("new started");
        let started = started.lock().unwrap().take();
        async move {
            if let Some(started) = started {
                let _ = started.send(());
            }
            futures::future::pending::<()>().await;
        }
    })
    .await
    .unwrap();
    has_started.await.unwrap();
    assert_eq!(log.events(), ["old ended", "new started"]);
    assert_eq!(group.live_tasks(), 1);
    group.delete_all().await.unwrap();
}

/// A Task-form task replaces an explicit-form one the same way, and the other way round.
pub async fn re_create_ends_an_old_task_of_the_other_form(rt: Runtime) {
    let group = TaskGroup::new(rt, "owner");
    let slot = group.slot("worker");
    let (fn_runs, mut fn_reports) = start_counting_fn(&slot, usize::MAX).await;
    until_run(&mut fn_reports, 10).await;
    let (task_runs, mut task_reports) = start_counting_task(&slot, usize::MAX).await;
    let fn_runs_at_replace = fn_runs.get();
    until_run(&mut task_reports, 10).await;
    assert_eq!(fn_runs.get(), fn_runs_at_replace, "the old task ran on");
    assert_eq!(group.live_tasks(), 1);
    start_counting_fn(&slot, 1).await;
    let task_runs_at_replace = task_runs.get();
    group.idle().await;
    assert_eq!(task_runs.get(), task_runs_at_replace, "the old task ran on");
}

/// A task rescheduling itself many times stays the slot's one task: deleting the slot
/// leaves no incarnation behind.
pub async fn re_schedule_keeps_the_slot_current(rt: Runtime) {
    let group = TaskGroup::new(rt, "owner");
    let slot = group.slot("busy");
    let (runs, mut reports) = start_counting_fn(&slot, usize::MAX).await;
    until_run(&mut reports, 2_000).await;
    assert!(slot.is_live());
    slot.delete().await.unwrap();
    assert_eq!(group.live_tasks(), 0, "a rescheduled successor leaked");
    assert!(!slot.is_live());
    let runs_after_delete = runs.get();
    // Another task in the same group still runs fine: nothing of the old one interferes.
    start_counting_fn(&slot, 3).await;
    group.idle().await;
    assert_eq!(runs.get(), runs_after_delete);
}

/// A context whose incarnation has been replaced cannot reschedule into the slot.
pub async fn a_stale_context_cannot_reschedule(rt: Runtime) {
    let group = TaskGroup::new(rt, "owner");
    let slot = group.slot("once");
    let (first_cx, mut first_cxs) = mpsc::unbounded::<TaskCx>();
    let runs = Counter::default();
    let counter = runs.clone();
    slot.re_create_fn(move |cx| {
        let (first_cx, run) = (first_cx.clone(), counter.bump());
        async move {
            if run == 1 {
                first_cx.unbounded_send(cx.clone()).unwrap();
                assert!(cx.re_schedule());
                assert!(!cx.re_schedule(), "a second reschedule of one run");
            }
        }
    })
    .await
    .unwrap();
    let stale = first_cxs.next().await.unwrap();
    group.idle().await;
    assert_eq!(runs.get(), 2);
    assert!(!stale.re_schedule());
    assert_eq!(group.live_tasks(), 0);
    assert_eq!(runs.get(), 2);
}

/// `delete` cancels a live task, awaits its end and empties the slot.
pub async fn delete_empties_a_live_slot(rt: Runtime) {
    let group = TaskGroup::new(rt, "owner");
    let slot = group.slot("live");
    let log = EventLog::default();
    start_waiting(&slot, LogOnDrop(log.clone(), "ended")).await;
    assert!(slot.is_live());
    slot.delete().await.unwrap();
    assert_eq!(log.events(), ["ended"]);
    assert!(!slot.is_live());
    assert_eq!(group.live_tasks(), 0);
}

/// `delete` of a slot never used, or whose task has finished, does nothing and succeeds.
pub async fn delete_is_a_no_op_on_empty_and_finished_slots(rt: Runtime) {
    let group = TaskGroup::new(rt, "owner");
    group.slot("never_used").delete().await.unwrap();
    let finished = group.slot("finished");
    start_counting_fn(&finished, 1).await;
    group.idle().await;
    assert!(!finished.is_live());
    finished.delete().await.unwrap();
    finished.delete().await.unwrap();
    assert_eq!(group.live_tasks(), 0);
}

/// Deleting a task that was spawned but may not have started (the original's defect 8)
/// succeeds, and the cancellation never reaches the task that called `delete`.
pub async fn delete_before_start_never_reaches_the_caller(rt: Runtime) {
    let group = TaskGroup::new(rt.clone(), "owner");
    let slot = group.slot("fresh");
    let caller = rt.spawn(async move {
        for _ in 0..200 {
            slot.re_create(Counting {
                runs: Counter::default(),
                limit: usize::MAX,
                report: mpsc::unbounded().0,
            })
            .await
            .unwrap();
            slot.delete().await.unwrap();
            assert!(!slot.is_live());
        }
        "the caller ran to its end"
    });
    assert_eq!(caller.await, Ok("the caller ran to its end"));
    assert_eq!(group.live_tasks(), 0);
}

fn stubborn_group(rt: Runtime) -> TaskGroup {
    let short = Duration::from_millis(50);
    let timeouts = Timeouts {
        re_create: short,
        delete: short,
    };
    TaskGroup::with_timeouts(rt, "stubborn_thread", timeouts)
}

fn timed_out() -> SlotError {
    SlotError::CancelTimedOut {
        thread: "stubborn_thread".into(),
        task: "stubborn".into(),
        timeout: Duration::from_millis(50),
    }
}

/// A task that does not end within the delete timeout (its drop blocks without awaiting)
/// gives the caller an error naming the thread and the task; the slot is empty and the task
/// stays counted until it does end.
pub async fn delete_of_a_stubborn_task_reports_a_timeout(rt: Runtime) {
    logs::capture();
    let group = stubborn_group(rt);
    let slot = group.slot("stubborn");
    start_waiting(&slot, BlockOnDrop(Duration::from_millis(400))).await;
    let error = slot.delete().await.unwrap_err();
    assert_eq!(error, timed_out());
    let message = error.to_string();
    assert!(message.contains("stubborn_thread") && message.contains("'stubborn'"));
    assert!(!slot.is_live());
    assert!(logs::contains_line(&[
        "ERROR",
        "stubborn_thread",
        "did not end within"
    ]));
    group.idle().await;
    assert_eq!(group.live_tasks(), 0);
}

/// `delete_all` over a stubborn task and empty slots names the stubborn task, whichever
/// order the slots are taken in: an empty slot never stands for a task that ended late.
pub async fn delete_all_names_the_stubborn_task_not_an_empty_slot(rt: Runtime) {
    let group = stubborn_group(rt);
    start_waiting(
        &group.slot("stubborn"),
        BlockOnDrop(Duration::from_millis(200)),
    )
    .await;
    let empty: Vec<TaskSlot> = (0..4).map(|i| group.slot(&format!("empty{i}"))).collect();
    assert_eq!(group.delete_all().await, Err(timed_out()));
    assert!(empty.iter().all(|slot| !slot.is_live()));
    group.idle().await;
}

/// `re_create` over a task that does not end in time reports the timeout and does not
/// start the new task (the old one might still run).
pub async fn re_create_does_not_start_when_the_old_task_is_stubborn(rt: Runtime) {
    let group = stubborn_group(rt);
    let slot = group.slot("stubborn");
    start_waiting(&slot, BlockOnDrop(Duration::from_millis(400))).await;
    let runs = Counter::default();
    let counter = runs.clone();
    let result = slot
        .re_create_fn(move |_cx| {
            counter.bump();
            async {}
        })
        .await;
    assert_eq!(result, Err(timed_out()));
    group.idle().await;
    assert_eq!(
        runs.get(),
        0,
        "the new task started although the old one had not ended"
    );
    assert!(!slot.is_live());
}

/// The Task form and the explicit form run the same number of times, stop the same way,
/// and leave the slot empty.
pub async fn both_forms_reschedule_alike_until_stop(rt: Runtime) {
    let group = TaskGroup::new(rt, "owner");
    let (task_runs, mut task_reports) = start_counting_task(&group.slot("task_form"), 500).await;
    let (fn_runs, mut fn_reports) = start_counting_fn(&group.slot("fn_form"), 500).await;
    until_run(&mut task_reports, 500).await;
    until_run(&mut fn_reports, 500).await;
    group.idle().await;
    assert_eq!((task_runs.get(), fn_runs.get()), (500, 500));
    assert!(!group.slot("task_form").is_live());
    assert!(!group.slot("fn_form").is_live());
}

/// Both forms can be deleted between runs while rescheduling as fast as they can.
pub async fn both_forms_are_cancellable_between_runs(rt: Runtime) {
    let group = TaskGroup::new(rt, "owner");
    let task_form = group.slot("task_form");
    let fn_form = group.slot("fn_form");
    let (task_runs, mut task_reports) = start_counting_task(&task_form, usize::MAX).await;
    let (fn_runs, mut fn_reports) = start_counting_fn(&fn_form, usize::MAX).await;
    until_run(&mut task_reports, 100).await;
    until_run(&mut fn_reports, 100).await;
    task_form.delete().await.unwrap();
    fn_form.delete().await.unwrap();
    assert_eq!(group.live_tasks(), 0);
    let stopped_at = (task_runs.get(), fn_runs.get());
    // A task of another group runs a while: the deleted ones must not have moved.
    let other = TaskGroup::new(group.runtime().clone(), "other");
    let (_, mut other_reports) = start_counting_fn(&other.slot("witness"), 50).await;
    until_run(&mut other_reports, 50).await;
    assert_eq!((task_runs.get(), fn_runs.get()), stopped_at);
}

/// A task that panics (in either form) is logged with its thread and task names, its slot
/// empties, and nothing else is disturbed.
pub async fn a_panicking_task_is_contained(rt: Runtime) {
    logs::capture();
    struct PanicsOnThirdRun(usize);
    impl Task for PanicsOnThirdRun {
        async fn run(&mut self, _cx: &TaskCx) -> Next {
            self.0 += 1;
            assert!(self.0 < 3, "task form gave up on run {}", self.0);
            Next::Reschedule
        }
    }
    let bystanders = TaskGroup::new(rt.clone(), "bystander_thread");
    let (_, mut witness) = start_counting_fn(&bystanders.slot("witness"), usize::MAX).await;

    let failing = TaskGroup::new(rt.clone(), "panicking_thread");
    failing
        .slot("task_form")
        .re_create(PanicsOnThirdRun(0))
        .await
        .unwrap();
    failing
        .slot("fn_form")
        .re_create_fn(|_cx| async { panic!("fn form gave up") })
        .await
        .unwrap();
    failing.idle().await;
    assert!(!failing.slot("task_form").is_live());
    assert!(!failing.slot("fn_form").is_live());
    for (task, message) in [
        ("task_form", "task form gave up on run 3"),
        ("fn_form", "fn form gave up"),
    ] {
        assert!(
            logs::contains_line(&["ERROR", "panicking_thread", task, message]),
            "no log line for the panic of {task}"
        );
    }
    // The bystander is still rescheduling, and the runtime still spawns.
    let seen = witness.next().await.unwrap();
    until_run(&mut witness, seen + 10).await;
    assert_eq!(rt.spawn(async { 5 }).await, Ok(5));
    bystanders.delete_all().await.unwrap();
    assert_eq!(bystanders.live_tasks(), 0);
}

/// After `delete_all` no task of the group is live, whatever form or state each was in.
pub async fn live_count_is_zero_after_delete_all(rt: Runtime) {
    let group = TaskGroup::new(rt, "owner");
    for i in 0..3 {
        start_counting_fn(&group.slot(&format!("fn_{i}")), usize::MAX).await;
        start_counting_task(&group.slot(&format!("task_{i}")), usize::MAX).await;
        start_waiting(&group.slot(&format!("waiting_{i}")), ()).await;
    }
    // A rescheduling task counts once, even mid-hop: its successor inherits its count.
    assert_eq!(group.live_tasks(), 9);
    group.delete_all().await.unwrap();
    assert_eq!(group.live_tasks(), 0);
    for name in ["fn_0", "task_1", "waiting_2"] {
        assert!(!group.slot(name).is_live());
    }
}

/// A slot is found by its name while it has a task, whether its group holds a few slots or
/// many; deleting one leaves the others alone.
pub async fn slots_are_found_by_name_among_few_or_many(rt: Runtime) {
    let group = TaskGroup::new(rt, "owner");
    for count in 1..=40 {
        start_waiting(&group.slot(&format!("s_{count}")), ()).await;
        for name in (1..=count).map(|i| format!("s_{i}")) {
            assert!(group.slot(&name).is_live(), "{name} lost among {count}");
        }
        assert_eq!(group.live_tasks(), count);
    }
    group.slot("s_3").delete().await.unwrap();
    assert!(!group.slot("s_3").is_live());
    assert!(group.slot("s_4").is_live() && group.slot("s_40").is_live());
    assert_eq!(group.live_tasks(), 39);
    group.delete_all().await.unwrap();
    assert_eq!(group.live_tasks(), 0);
}

/// Operations on one slot run one at a time, whoever calls them: of many concurrent
/// `re_create`s and `delete`s, each new task starts only after the previous one ended.
pub async fn concurrent_operations_on_a_slot_run_one_at_a_time(rt: Runtime) {
    let group = TaskGroup::new(rt.clone(), "owner");
    let log = EventLog::default();
    let callers: Vec<_> = (0..20)
        .map(|i| {
            let (slot, log) = (group.slot("contended"), log.clone());
            rt.spawn(async move {
                if i % 5 == 4 {
                    return slot.delete().await.unwrap();
                }
                slot.re_create_fn(move |_cx| {
                    log.push("start");
                    let alive = LogOnDrop(log.clone(), "end");
                    async move {
                        let _alive = alive;
                        futures::future::pending::<()>().await;
                    }
                })
                .await
                .unwrap();
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap();
    }
    group.delete_all().await.unwrap();
    let events = log.events();
    let mut live = 0;
    for event in &events {
        live += if event == "start" { 1 } else { -1 };
        assert!(
            (0..=1).contains(&live),
            "two tasks alive at once: {events:?}"
        );
    }
    assert_eq!(live, 0);
    // A task replaced before its first poll never ran its function.
    assert!(events.iter().filter(|e| *e == "start").count() <= 16);
}

/// A task function that panics while making a run (before any future exists) is contained
/// like a panicking run: logged with the thread and task names, the slot emptied, and the
/// slot's later operations unharmed.
pub async fn a_task_function_that_panics_is_contained(rt: Runtime) {
    logs::capture();
    let group = TaskGroup::new(rt, "owner");
    let slot = group.slot("flaky");
    let calls = Counter::default();
    let counted = calls.clone();
    slot.re_create_fn(move |cx| {
        if counted.bump() == 2 {
            panic!("flaky fails to make its run");
        }
        async move {
            cx.re_schedule();
        }
    })
    .await
    .unwrap();
    group.idle().await;
    assert_eq!(calls.get(), 2);
    assert!(!slot.is_live());
    assert!(logs::contains_line(&[
        "ERROR",
        "owner",
        "flaky",
        "flaky fails to make its run"
    ]));
    slot.delete().await.unwrap();
    start_waiting(&slot, ()).await;
    group.delete_all().await.unwrap();
    assert_eq!(group.live_tasks(), 0);
}

/// When a task ends, what its task function holds is released before the group counts it
/// gone: `idle` means nothing of the task is left.
pub async fn an_ended_task_releases_its_function_before_it_counts_as_gone(rt: Runtime) {
    let group = TaskGroup::new(rt, "owner");
    let log = EventLog::default();
    let held = std::sync::Arc::new(LogOnDrop(log.clone(), "function dropped"));
    group
        .slot("once")
        .re_create_fn(move |_cx| {
            let _held = held.clone();
            async {}
        })
        .await
        .unwrap();
    group.idle().await;
    assert_eq!(log.events(), ["function dropped"]);
}

/// A task function may look at its own slot while making a run: no lock of the slot is
/// held while user code runs.
pub async fn a_task_function_may_look_at_its_own_slot(rt: Runtime) {
    let group = TaskGroup::new(rt, "owner");
    let slot = group.slot("introspective");
    let (seen, saw) = mpsc::unbounded();
    let itself = slot.clone();
    slot.re_create_fn(move |cx| {
        let _ = seen.unbounded_send(itself.is_live());
        async move {
            cx.re_schedule();
        }
    })
    .await
    .unwrap();
    let first_two: Vec<bool> = saw.take(2).collect().await;
    assert_eq!(first_two, [true, true]);
    slot.delete().await.unwrap();
    assert_eq!(group.live_tasks(), 0);
}

/// Panics when dropped.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("grumpy fails while dropped");
    }
}

/// A task whose destructor panics while it is deleted is contained like a panicking run:
/// logged with the thread and task names, and the delete completes (no runtime aborts).
pub async fn a_panic_while_a_task_is_dropped_is_contained(rt: Runtime) {
    logs::capture();
    let group = TaskGroup::new(rt, "owner");
    let slot = group.slot("grumpy");
    start_waiting(&slot, PanicOnDrop).await;
    slot.delete().await.unwrap();
    assert_eq!(group.live_tasks(), 0);
    assert!(logs::contains_line(&[
        "ERROR",
        "owner",
        "grumpy",
        "grumpy fails while dropped"
    ]));
}
