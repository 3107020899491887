//! How a worker process that does not exit when told is ended ([`ProcessWorker`]): its stdin
//! closed, then SIGTERM, then SIGKILL, placed before its thread's shutdown deadline (its own
//! budget, or its parent's sooner one), so that it is reaped and its thread ends as killed,
//! not forced; and when its thread is forced with no deadline given, it is killed before
//! the thread's end is recorded, and reaped right after. The cases assert what the worker
//! saw and how its thread ended, in order, never how long it took.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::channel::oneshot;
use task_thread::{
    Blocking, BoxError, ChildRef, Flow, Runtime, TaskThread, ThreadConfig, ThreadCx, ThreadEnd,
    ThreadHandle,
};
use task_thread_process::{ProcessError, ProcessWorker};

use crate::blocking::{parent, parent_with};
use crate::fixtures::EventLog;
use crate::logs;
use crate::processes::{is_gone, pid_of, process_error, worker, worker_with_args};

/// A budget that leaves the last step (kill, reap) a generous fifth of it, 0.5 s, while the
/// deaf worker's end takes its first four fifths, 2 s.
const BUDGET: Duration = Duration::from_millis(2500);

/// A file the `deaf` test worker records what it sees in, removed when dropped.
struct WorkerEvents(PathBuf);

impl WorkerEvents {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "task-thread-deaf-{}-{}.events",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        WorkerEvents(path)
    }

    /// What the worker recorded, in order.
    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.0)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for WorkerEvents {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What a deaf worker sees before the kill: its stdin closing, then SIGTERM (which it
/// ignores; Windows has none).
fn seen_before_the_kill() -> Vec<String> {
    let mut seen = vec!["stdin closed".to_owned()];
    if cfg!(unix) {
        seen.push("SIGTERM".to_owned());
    }
    seen
}

/// Asserts that `end` is the thread's end of a worker killed at the last step: `Failed`
/// with [`ProcessError::Killed`] by SIGKILL (TerminateProcess on Windows), its status the
/// signal's; not `Forced`.
fn assert_killed_at_the_last_step(end: &ThreadEnd) {
    match process_error(end) {
        ProcessError::Killed { by, status } => {
            let kill = if cfg!(unix) {
                "SIGKILL"
            } else {
                "TerminateProcess"
            };
            assert_eq!(*by, kill, "{end}");
            #[cfg(unix)]
            assert_eq!(
                std::os::unix::process::ExitStatusExt::signal(status),
                Some(9),
                "{end}"
            );
            #[cfg(not(unix))]
            let _ = status;
        }
        other => panic!("not killed: {other}"),
    }
}

/// A worker that does not exit when its stdin closes, and ignores SIGTERM, is killed
/// before its thread's deadline (its own budget from the terminate): it sees its stdin
/// close, then SIGTERM, then it is killed by SIGKILL and reaped, and its thread ends
/// `Failed` (killed), not forced.
pub async fn a_worker_process_that_ignores_its_stdin_closing_is_killed_at_the_deadline(
    rt: Runtime,
) {
    let log = EventLog::default();
    let events = WorkerEvents::new();
    let (parent, cx) = parent::<String>(&rt, &log).await;
    let deaf = cx
        .spawn_child(worker_with_args(
            "deaf",
            &[events.0.as_os_str()],
            &log,
            BUDGET,
        ))
        .await
        .unwrap();
    let pid = pid_of(&deaf, &log).await;
    deaf.terminate();
    let end = deaf.join().await;
    assert_eq!(events.lines(), seen_before_the_kill());
    assert_killed_at_the_last_step(&end);
    assert!(is_gone(pid), "the worker process {pid} is left unreaped");
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
}

/// A worker whose parent's budget is shorter than its own is ended toward its parent's
/// deadline, which its thread's shutdown gets in the cascade: stdin closed, SIGTERM,
/// SIGKILL and reaped before it, so its thread ends `Failed` (killed), not forced, and the
/// parent's shutdown ends within its budget, `Stopped`.
pub async fn a_deaf_worker_process_is_ended_before_its_parent_s_sooner_deadline(rt: Runtime) {
    let deaf = DeafUnderAShortBudget::start(&rt).await;
    deaf.parent.terminate();
    deaf.ends_killed_before_the_parent_s_deadline().await;
}

/// A worker whose thread is ending by itself, within its own long budget, when its
/// parent's cascade brings a sooner deadline follows it: SIGTERM and SIGKILL come before
/// the parent's deadline, and both threads end as in the case above.
pub async fn a_deaf_worker_process_ending_by_itself_follows_a_sooner_deadline(rt: Runtime) {
    let deaf = DeafUnderAShortBudget::start(&rt).await;
    deaf.worker.terminate();
    // Its ending has begun toward its own deadline, a minute away.
    while deaf.events.lines().is_empty() {
        task_thread::Spawner::sleep(&rt, Duration::from_millis(1)).await;
    }
    deaf.parent.terminate();
    deaf.ends_killed_before_the_parent_s_deadline().await;
}

/// A deaf worker with a budget of a minute, under a parent whose budget is [`BUDGET`].
struct DeafUnderAShortBudget {
    parent: ThreadHandle<crate::blocking::Parent<String>>,
    worker: WorkerHandle,
    events: WorkerEvents,
    pid: u32,
}

impl DeafUnderAShortBudget {
    async fn start(rt: &Runtime) -> Self {
        let log = EventLog::default();
        let events = WorkerEvents::new();
        let config = ThreadConfig {
            shutdown_budget: BUDGET,
            ..ThreadConfig::default()
        };
        let (parent, cx) = parent_with::<String>(rt, &log, config).await;
        let worker = cx
            .spawn_child(worker_with_args(
                "deaf",
                &[events.0.as_os_str()],
                &log,
                Duration::from_secs(60),
            ))
            .await
            .unwrap();
        let pid = pid_of(&worker, &log).await;
        DeafUnderAShortBudget {
            parent,
            worker,
            events,
            pid,
        }
    }

    /// The parent, terminated, ends `Stopped` within its budget; the worker was killed
    /// before its thread was forced, and reaped.
    async fn ends_killed_before_the_parent_s_deadline(self) {
        assert_eq!(self.parent.join().await, ThreadEnd::Stopped);
        let end = self.worker.end().expect("a child ends before its parent");
        assert_eq!(self.events.lines(), seen_before_the_kill());
        assert_killed_at_the_last_step(&end);
        let pid = self.pid;
        assert!(is_gone(pid), "the worker process {pid} is left unreaped");
    }
}

/// A thread whose `exit` never returns, with a deaf worker as its child, which it hands out,
/// and whose child's replies it logs as the test parent does (`heard <reply> from <id>`).
struct StuckInExit {
    log: EventLog,
    hand_out: Option<oneshot::Sender<WorkerHandle>>,
}

/// The handle of a test worker's thread.
type WorkerHandle = ThreadHandle<Blocking<ProcessWorker<String, String>>>;

impl TaskThread for StuckInExit {
    type Signal = ();
    type Output = String;
    type ChildOutput = String;

    fn id(&self) -> String {
        "stuck".into()
    }

    fn config(&self) -> ThreadConfig {
        ThreadConfig {
            shutdown_budget: Duration::from_secs(60),
            ..ThreadConfig::default()
        }
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let deaf = worker("deaf", &self.log, Duration::from_secs(60));
        let deaf = cx.spawn_child(deaf).await?;
        if let Some(hand_out) = self.hand_out.take() {
            let _ = hand_out.send(deaf);
        }
        Ok(())
    }

    async fn on_child_signal(
        &mut self,
        reply: String,
        child: &ChildRef,
        _: &ThreadCx<Self>,
    ) -> Flow {
        self.log.push(&format!("heard {reply} from {}", child.id()));
        Flow::Continue
    }

    async fn exit(&mut self, _: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.log.push("stuck in exit");
        futures::future::pending().await
    }
}

/// A worker whose thread is forced with no deadline given to it first (its parent hung in
/// its `exit`, past its grandparent's budget, so that the force came down the tree) is
/// killed before its thread's end is recorded, on the runtime's thread, which does not
/// wait for it to die: the kill is logged once the tree's `join` has returned, and the
/// worker's OS thread, left behind, reaps it.
pub async fn a_forced_worker_process_is_killed_before_the_tree_has_joined(rt: Runtime) {
    let log = EventLog::default();
    let short = ThreadConfig {
        shutdown_budget: Duration::from_millis(300),
        ..ThreadConfig::default()
    };
    let (root, cx) = parent_with::<String>(&rt, &log, short).await;
    let (hand_out, deaf) = oneshot::channel();
    let stuck = StuckInExit {
        log: log.clone(),
        hand_out: Some(hand_out),
    };
    let stuck = cx.spawn_child(stuck).await.unwrap();
    let deaf = deaf.await.unwrap();
    let pid = pid_of(&deaf, &log).await;
    // Ending by itself, with its own long budget: stuck in `exit`, its child not told yet.
    stuck.terminate();
    log.wait_for("stuck in exit").await;
    root.terminate();
    assert!(matches!(root.join().await, ThreadEnd::Forced { .. }));
    let end = deaf.end();
    assert!(matches!(end, Some(ThreadEnd::Forced { .. })), "{end:?}");
    // By the abandoned thread's release, or by its OS thread if that saw the abandonment
    // first: either logs it before the kill is sent, and the release returns after it.
    let pid_field = format!("pid={pid}");
    let killed = logs::lines_with(&["killing the worker process", &pid_field])
        .iter()
        .any(|line| line.ends_with(&pid_field));
    if !killed {
        // Killed here, or it would hold the test's output open for ever.
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("the worker process {pid} was not killed when the tree had joined");
    }
    // Reaped by its OS thread, which the end did not wait for.
    while !is_gone(pid) {
        task_thread::Spawner::sleep(&rt, Duration::from_millis(1)).await;
    }
}
