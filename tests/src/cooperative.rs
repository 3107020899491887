//! Cooperative shutdown: a thread's tasks see its shutdown notice and get a grace to return
//! by themselves, before what is left is cancelled; slots that ask are cancelled at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::oneshot;
use task_thread::{
    start, BoxError, ChildRef, Flow, Next, Runtime, Spawner, SpawnerExt, Task, TaskCx, TaskThread,
    ThreadConfig, ThreadCx, ThreadEnd, ThreadHandle,
};

use crate::fixtures::{EventLog, LogOnDrop};
use crate::tree::{start_inside, Node};

/// How long a flush takes: a runtime sleep, which the notice does not cut short.
const FLUSH_TIME: Duration = Duration::from_millis(20);

/// What one of a [`Worker`]'s tasks does.
enum Job {
    /// Waits for the notice, flushes (for [`FLUSH_TIME`]), logs `"<id> flushed"` and sends
    /// `"last"` to its parent.
    Flush,
    /// Waits for the notice, then for the gate to open, then logs `"<id> flushed"`.
    FlushWhenOpen(oneshot::Receiver<()>),
    /// Ignores the notice; logs `"<id> <slot> dropped"` when cancelled.
    Ignore,
    /// The same in a slot marked `cancel_at_once`.
    IgnoreAtOnce,
    /// A `Task` that sleeps an hour, then logs `"<id> task form: step <n>"` and asks to run
    /// again.
    SleepTaskForm,
    /// An explicit-form task that sleeps an hour, then logs whether `re_schedule` took.
    SleepExplicitForm,
    /// A task that hands a clone of its context to a task of its own, and both sleep an
    /// hour: logs `"<id> own sleep ended"` and `"<id> helper's sleep ended"`.
    SleepInTwoTasks,
    /// Waits for the notice, then panics in its flush.
    PanicAtNotice,
    /// Logs `"<id> saw the notice"` when it fires, then ignores it; logs
    /// `"<id> <slot> dropped"` when cancelled.
    IgnoreAfterNotice,
}

/// The threads of a case, by id, as each enters (to see how each ended).
#[derive(Clone, Default)]
struct Workers(Arc<Mutex<HashMap<String, ThreadHandle<Worker>>>>);

impl Workers {
    fn end_of(&self, id: &str) -> Option<ThreadEnd> {
        self.0.lock().unwrap()[id].end()
    }
}

/// A thread whose tasks do [`Job`]s, logging into its log: `enter <id>`, `exit <id>`, what
/// its children send and how they end. Its handler waits for the notice.
struct Worker {
    id: String,
    log: EventLog,
    jobs: Vec<(&'static str, Job)>,
    children: Vec<Worker>,
    config: ThreadConfig,
    workers: Workers,
}

impl Worker {
    fn new(id: &str, log: &EventLog, jobs: Vec<(&'static str, Job)>) -> Self {
        Worker {
            id: id.to_owned(),
            log: log.clone(),
            jobs,
            children: Vec::new(),
            config: ThreadConfig::default(),
            workers: Workers::default(),
        }
    }

    /// With this shutdown budget and grace.
    fn budget(mut self, budget: Duration, grace: Duration) -> Self {
        self.config.shutdown_budget = budget;
        self.config.shutdown_grace = grace;
        self
    }

    fn with_child(mut self, child: Worker) -> Self {
        self.children.push(child);
        self
    }

    /// Registering itself and its subtree into `workers` as they enter.
    fn registered(mut self, workers: &Workers) -> Self {
        self.workers = workers.clone();
        self.children = std::mem::take(&mut self.children)
            .into_iter()
            .map(|child| child.registered(workers))
            .collect();
        self
    }
}

/// Runs once, until its thread's notice; then flushes.
struct Flusher {
    thread: ThreadCx<Worker>,
    log: EventLog,
}

impl<T> Task<T> for Flusher {
    async fn run(&mut self, cx: &TaskCx<T>) -> Next {
        cx.shutting_down().await;
        cx.runtime().sleep(FLUSH_TIME).await;
        self.log.push(&format!("{} flushed", cx.thread_id()));
        // A root has no parent, and a parent that is shutting down takes nothing more.
        let _ = self.thread.send_to_parent("last".into()).await;
        Next::Stop
    }
}

/// A `Task` that sleeps between runs and counts them.
struct Sleeper {
    log: EventLog,
    runs: u32,
}

impl<T> Task<T> for Sleeper {
    async fn run(&mut self, cx: &TaskCx<T>) -> Next {
        cx.sleep(Duration::from_secs(3600)).await;
        self.runs += 1;
        let step = format!("{} task form: step {}", cx.thread_id(), self.runs);
        self.log.push(&step);
        Next::Reschedule
    }
}

impl TaskThread for Worker {
    type Signal = ();
    type Output = String;
    type ChildOutput = String;

    fn id(&self) -> String {
        self.id.clone()
    }

    fn config(&self) -> ThreadConfig {
        self.config
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.log.push(&format!("enter {}", self.id));
        let me = cx.handle().clone();
        self.workers.0.lock().unwrap().insert(self.id.clone(), me);
        for (slot, job) in std::mem::take(&mut self.jobs) {
            let log = self.log.clone();
            let dropped = || Ignorer {
                _dropped: LogOnDrop(log.clone(), format!("{} {slot} dropped", self.id)),
            };
            let slot = cx.slot(slot);
            match job {
                Job::Flush => {
                    let thread = cx.clone();
                    slot.re_create(Flusher { thread, log }).await?;
                }
                Job::FlushWhenOpen(gate) => {
                    slot.re_create(FlushWhenOpen(Some(gate), log)).await?;
                }
                Job::Ignore => slot.re_create(dropped()).await?,
                Job::IgnoreAtOnce => slot.cancel_at_once().re_create(dropped()).await?,
                Job::SleepTaskForm => slot.re_create(Sleeper { log, runs: 0 }).await?,
                Job::SleepInTwoTasks => {
                    slot.re_create_fn(move |task| {
                        let (log, helper) = (log.clone(), task.clone());
                        async move {
                            let id = task.thread_id().to_owned();
                            let helper_log = log.clone();
                            let helper = task.runtime().spawn(async move {
                                helper.sleep(Duration::from_secs(3600)).await;
                                let id = helper.thread_id();
                                helper_log.push(&format!("{id} helper's sleep ended"));
                            });
                            task.sleep(Duration::from_secs(3600)).await;
                            log.push(&format!("{id} own sleep ended"));
                            let _ = helper.await;
                        }
                    })
                    .await?
                }
                Job::IgnoreAfterNotice => {
                    let dropped = dropped();
                    slot.re_create_fn(move |task| {
                        let (log, _dropped) = (log.clone(), &dropped);
                        async move {
                            task.shutting_down().await;
                            log.push(&format!("{} saw the notice", task.thread_id()));
                            futures::future::pending::<()>().await;
                        }
                    })
                    .await?
                }
                Job::PanicAtNotice => {
                    slot.re_create_fn(|task| async move {
                        task.shutting_down().await;
                        panic!("{} fails in its flush", task.thread_id());
                    })
                    .await?
                }
                Job::SleepExplicitForm => {
                    slot.re_create_fn(move |task| {
                        let log = log.clone();
                        async move {
                            task.sleep(Duration::from_secs(3600)).await;
                            let again = task.re_schedule();
                            let id = task.thread_id();
                            log.push(&format!("{id} explicit form: step, re_schedule {again}"));
                        }
                    })
                    .await?
                }
            }
        }
        for child in std::mem::take(&mut self.children) {
            cx.spawn_child(child).await?;
        }
        Ok(())
    }

    async fn exit(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        assert!(cx.is_shutting_down(), "exit runs after the notice");
        self.log.push(&format!("exit {}", self.id));
        Ok(())
    }

    async fn on_signal(&mut self, _: (), cx: &ThreadCx<Self>) -> Flow {
        self.log.push(&format!("{} handler waits", self.id));
        cx.shutting_down().await;
        self.log
            .push(&format!("{} handler saw the notice", self.id));
        Flow::Continue
    }

    async fn on_child_signal(
        &mut self,
        text: String,
        child: &ChildRef,
        _: &ThreadCx<Self>,
    ) -> Flow {
        self.log
            .push(&format!("{} from {}: {text}", self.id, child.id()));
        Flow::Continue
    }

    async fn on_child_ended(
        &mut self,
        child: &ChildRef,
        end: ThreadEnd,
        _: &ThreadCx<Self>,
    ) -> Flow {
        self.log
            .push(&format!("{} saw {} end: {end:?}", self.id, child.id()));
        Flow::Continue
    }
}

/// Waits for the notice, then for its gate, then logs that it flushed.
struct FlushWhenOpen(Option<oneshot::Receiver<()>>, EventLog);

impl<T> Task<T> for FlushWhenOpen {
    async fn run(&mut self, cx: &TaskCx<T>) -> Next {
        cx.shutting_down().await;
        if let Some(gate) = self.0.take() {
            let _ = gate.await;
        }
        self.1.push(&format!("{} flushed", cx.thread_id()));
        Next::Stop
    }
}

/// Never returns; logs when dropped.
struct Ignorer {
    _dropped: LogOnDrop<String>,
}

impl<T> Task<T> for Ignorer {
    async fn run(&mut self, _cx: &TaskCx<T>) -> Next {
        futures::future::pending().await
    }
}

/// A task that flushes on the notice completes its flush, and what it sends then reaches
/// its parent before the parent sees it end (the child keeps its link to its parent until
/// it has ended).
pub async fn a_flushing_task_completes_and_its_last_message_reaches_the_parent(rt: Runtime) {
    let log = EventLog::default();
    let parent = start_inside(&rt, Node::new("p", &log)).await;
    let mut child = Worker::new("t", &log, vec![("flush", Job::Flush)]);
    child.config.shutdown_grace = Duration::from_secs(3600);
    let child = parent.spawn_child(child).await.unwrap();
    child.terminate();
    assert_eq!(child.join().await, ThreadEnd::Stopped);
    log.wait_for("p saw t end: Stopped").await;
    // The child's `exit` (after its flush) runs while its parent handles the last message.
    assert!(log.position("t flushed") < log.position("exit t"));
    let mut events = log.events();
    events.retain(|event| event != "exit t");
    assert_eq!(
        events,
        [
            "enter p",
            "enter t",
            "t flushed",
            "p from t: last",
            "p saw t end: Stopped"
        ]
    );
    parent.handle().terminate();
    assert_eq!(parent.handle().join().await, ThreadEnd::Stopped);
}

/// A task that ignores the notice is cancelled when the grace is over, while a flusher
/// beside it had the time to flush; `exit` runs after both have ended, and the thread ends
/// `Stopped`: it was cancelled at the grace's end, not at the budget's (which would end
/// the thread `Forced`).
pub async fn a_task_ignoring_the_notice_is_cancelled_when_the_grace_is_over(rt: Runtime) {
    let log = EventLog::default();
    let jobs = vec![("flush", Job::Flush), ("ignore", Job::Ignore)];
    let worker =
        Worker::new("t", &log, jobs).budget(Duration::from_secs(4), Duration::from_secs(1));
    let thread = start(&rt, worker).await.unwrap();
    thread.terminate();
    assert_eq!(thread.join().await, ThreadEnd::Stopped);
    assert_eq!(
        log.events(),
        ["enter t", "t flushed", "t ignore dropped", "exit t"]
    );
}

/// A slot marked `cancel_at_once` is cancelled as the shutdown begins: its task is dropped
/// while a flusher in another slot is still flushing (it waits for a gate opened only
/// once the other task has been dropped; were that task kept for the grace, the flusher
/// would be cancelled with it at the grace's end, unflushed).
pub async fn a_slot_cancelled_at_once_does_not_wait_for_the_grace(rt: Runtime) {
    let log = EventLog::default();
    let (open, gate) = oneshot::channel();
    let jobs = vec![
        ("flush", Job::FlushWhenOpen(gate)),
        ("quick", Job::IgnoreAtOnce),
    ];
    let worker =
        Worker::new("t", &log, jobs).budget(Duration::from_secs(3600), Duration::from_secs(2));
    let thread = start(&rt, worker).await.unwrap();
    thread.terminate();
    log.wait_for("t quick dropped").await;
    let _ = open.send(());
    assert_eq!(thread.join().await, ThreadEnd::Stopped);
    assert_eq!(
        log.events(),
        ["enter t", "t quick dropped", "t flushed", "exit t"]
    );
}

/// Both task forms see the notice with no code for it: a pending `TaskCx::sleep` ends, the
/// step after it runs once more, and no further run starts (a `Task`'s `run` is not called
/// again; `re_schedule` returns false). Had a sleep not ended, its task would have been
/// cancelled at the end of the (default) grace without its step.
pub async fn both_task_forms_see_the_notice_without_plumbing(rt: Runtime) {
    let log = EventLog::default();
    let jobs = vec![
        ("task", Job::SleepTaskForm),
        ("explicit", Job::SleepExplicitForm),
    ];
    let thread = start(&rt, Worker::new("t", &log, jobs)).await.unwrap();
    thread.terminate();
    assert_eq!(thread.join().await, ThreadEnd::Stopped);
    let mut steps = log.starting_with("t ");
    steps.sort();
    assert_eq!(
        steps,
        [
            "t explicit form: step, re_schedule false",
            "t task form: step 1"
        ]
    );
    assert_eq!(log.events().first().map(String::as_str), Some("enter t"));
    assert_eq!(log.events().last().map(String::as_str), Some("exit t"));
}

/// A sleep through a task's context ends early in any task: here the slot's own task and
/// a task it spawned with a clone of its context both sleep (one is woken through the
/// slot, the other listens to the notice). Had either sleep not ended, the slot's task
/// would have been cancelled at the end of the grace, its line missing.
pub async fn every_sleep_through_a_task_context_ends_early(rt: Runtime) {
    let log = EventLog::default();
    let jobs = vec![("two", Job::SleepInTwoTasks)];
    let thread = start(&rt, Worker::new("t", &log, jobs)).await.unwrap();
    thread.terminate();
    assert_eq!(thread.join().await, ThreadEnd::Stopped);
    let mut ended = log.starting_with("t ");
    ended.sort();
    assert_eq!(ended, ["t helper's sleep ended", "t own sleep ended"]);
    assert_eq!(log.events().last().map(String::as_str), Some("exit t"));
}

/// A handler still running when the thread is terminated sees the notice (it fires as the
/// loop takes the terminate, not once the handler has returned).
pub async fn a_handler_running_at_the_terminate_sees_the_notice(rt: Runtime) {
    let log = EventLog::default();
    let thread = start(&rt, Worker::new("t", &log, Vec::new()))
        .await
        .unwrap();
    thread.send(()).await.unwrap();
    log.wait_for("t handler waits").await;
    thread.terminate();
    assert_eq!(thread.join().await, ThreadEnd::Stopped);
    assert_eq!(
        log.events(),
        [
            "enter t",
            "t handler waits",
            "t handler saw the notice",
            "exit t"
        ]
    );
}

/// A cascade of three levels, one slow flusher at each, ends within the root's budget: each
/// level flushes, exits, then terminates the next. The threads below the root ask for an
/// hour of grace and of budget, and the leaf has a task that ignores the notice: the
/// root's deadline, passed down, caps the leaf's grace to half of what is left, so the
/// leaf's ignoring task is cancelled in time for everyone to end `Stopped`.
pub async fn a_cascade_of_slow_flushers_ends_within_the_root_budget(rt: Runtime) {
    let log = EventLog::default();
    let workers = Workers::default();
    let hour = Duration::from_secs(3600);
    let leaf = Worker::new(
        "leaf",
        &log,
        vec![("flush", Job::Flush), ("ignore", Job::Ignore)],
    )
    .budget(2 * hour, hour);
    let middle = Worker::new("middle", &log, vec![("flush", Job::Flush)])
        .budget(2 * hour, hour)
        .with_child(leaf);
    let root = Worker::new("root", &log, vec![("flush", Job::Flush)])
        .budget(Duration::from_secs(4), hour)
        .with_child(middle)
        .registered(&workers);
    let root = start(&rt, root).await.unwrap();
    root.terminate();
    assert_eq!(root.join().await, ThreadEnd::Stopped);
    assert_eq!(workers.end_of("middle"), Some(ThreadEnd::Stopped));
    assert_eq!(workers.end_of("leaf"), Some(ThreadEnd::Stopped));
    assert_eq!(
        log.events(),
        [
            "enter root",
            "enter middle",
            "enter leaf",
            "root flushed",
            "exit root",
            "middle flushed",
            "exit middle",
            "leaf flushed",
            "leaf ignore dropped",
            "exit leaf"
        ]
    );
}

/// A task that fails in its grace (its flush panics) fails its thread, as a failure
/// before the shutdown does. (Its failure came after the loop's control message and was
/// dropped: the thread ended `Stopped`, and a root whose last flush failed exited with
/// success.)
pub async fn a_task_failing_in_its_grace_fails_the_thread(rt: Runtime) {
    let log = EventLog::default();
    let worker = Worker::new("w", &log, vec![("flush", Job::PanicAtNotice)]);
    let worker = task_thread::start(&rt, worker).await.unwrap();
    worker.terminate();
    match worker.join().await {
        ThreadEnd::Failed(failure) => {
            assert_eq!(failure.during(), "task flush");
            assert!(failure.is_panic());
            assert!(
                failure.to_string().contains("w fails in its flush"),
                "{failure}"
            );
        }
        other => panic!("the failed flush was lost: {other:?}"),
    }
    assert_eq!(log.events(), ["enter w", "exit w"]);
}

/// A child already ending by itself when its parent's cascade reaches it still ends within
/// its parent's deadline: its grace shrinks to it, its stubborn task is cancelled in time,
/// and both end `Stopped`. (The terminate that brought the parent's deadline was dropped,
/// as only the first control message counted: the child took its own hour of grace, its
/// parent forced it and ended `Forced`.)
pub async fn a_child_already_ending_ends_within_its_parents_deadline(rt: Runtime) {
    let log = EventLog::default();
    let workers = Workers::default();
    let child = Worker::new("c", &log, vec![("stubborn", Job::IgnoreAfterNotice)])
        .budget(Duration::from_secs(3600), Duration::from_secs(3600));
    let parent = Worker::new("p", &log, Vec::new())
        .budget(Duration::from_secs(1), Duration::from_millis(100))
        .with_child(child)
        .registered(&workers);
    let parent = task_thread::start(&rt, parent).await.unwrap();
    let child = workers.0.lock().unwrap()["c"].clone();
    child.terminate();
    log.wait_for("c saw the notice").await;
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
    assert_eq!(child.join().await, ThreadEnd::Stopped);
    let mut events = log.events();
    events.retain(|event| !event.starts_with("p saw c end"));
    assert_eq!(
        events,
        [
            "enter p",
            "enter c",
            "c saw the notice",
            // The parent's exit, then its cascade: the child's grace shrinks to it.
            "exit p",
            "c stubborn dropped",
            "exit c",
        ]
    );
}
