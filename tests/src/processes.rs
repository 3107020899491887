//! Worker processes as child threads ([`ProcessWorker`]): requests and replies as the
//! thread's signals and outputs, the worker's exit as the thread's end, a terminate that
//! closes its stdin, then SIGTERM, then SIGKILL at the deadline; a crash or a broken frame
//! ends the child, never the parent; no worker is left running or unreaped; a request in
//! flight when the worker died is handed back.
//!
//! The worker is the suite's `task-thread-test-worker` binary, which cargo builds for the
//! suite's own tests; [`process_suite!`](crate::process_suite) hands its path over.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use task_thread::{Blocking, Runtime, ThreadConfig, ThreadEnd, ThreadHandle};
use task_thread_process::{FrameError, ProcessError, ProcessWorker, Replies};

use crate::blocking::parent;
use crate::fixtures::EventLog;

/// The worker binary the cases run, set by [`process_suite!`](crate::process_suite).
static WORKER: OnceLock<PathBuf> = OnceLock::new();

/// Sets the worker binary the cases run (the first call wins: it is one per test binary).
pub fn use_worker(path: impl Into<PathBuf>) {
    let _ = WORKER.set(path.into());
}

/// The worker binary.
pub(crate) fn worker_binary() -> &'static PathBuf {
    WORKER
        .get()
        .expect("no worker binary: run these cases through process_suite!")
}

/// The test worker in `mode`, as a child thread with `budget`, its undelivered requests
/// logged as `undelivered <requests>`.
pub(crate) fn worker(
    mode: &str,
    log: &EventLog,
    budget: Duration,
) -> Blocking<ProcessWorker<String, String>> {
    worker_with_args(mode, &[], log, budget)
}

/// As [`worker`], the test worker given `args` after its mode.
pub(crate) fn worker_with_args(
    mode: &str,
    args: &[&std::ffi::OsStr],
    log: &EventLog,
    budget: Duration,
) -> Blocking<ProcessWorker<String, String>> {
    let mut command = Command::new(worker_binary());
    command.arg(mode).args(args);
    let log = log.clone();
    let worker = ProcessWorker::new(mode, command)
        .with_config(ThreadConfig {
            shutdown_budget: budget,
            ..ThreadConfig::default()
        })
        .on_undelivered(move |requests| log.push(&format!("undelivered {requests:?}")));
    Blocking::new(worker)
}

/// Asks `worker` for its process id, which it answers first.
pub(crate) async fn pid_of(
    worker: &ThreadHandle<Blocking<ProcessWorker<String, String>>>,
    log: &EventLog,
) -> u32 {
    worker.send("pid".into()).await.unwrap();
    let prefix = "heard ";
    log.wait_for_prefix(prefix).await;
    let heard = log.starting_with(prefix).remove(0);
    let pid = heard[prefix.len()..].split(' ').next().unwrap();
    pid.parse().unwrap_or_else(|_| panic!("not a pid: {heard}"))
}

/// Whether process `pid` is gone: not running, and not a zombie waiting to be reaped.
/// Checked through `/proc` on Linux; elsewhere `kill -0`, which a zombie passes too.
pub(crate) fn is_gone(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        return !std::path::Path::new(&format!("/proc/{pid}")).exists();
    }
    let alive = Command::new("kill").args(["-0", &pid.to_string()]).status();
    !alive.is_ok_and(|status| status.success())
}

/// The failure a worker's thread ended with, as a `ProcessError`.
pub(crate) fn process_error(end: &ThreadEnd) -> &ProcessError {
    let ThreadEnd::Failed(failure) = end else {
        panic!("the worker's thread did not fail: {end}");
    };
    failure
        .downcast_ref::<ProcessError>()
        .unwrap_or_else(|| panic!("not a process error: {failure}"))
}

/// Requests reach the worker and its replies come up in order; a terminate closes its
/// stdin, it exits, and its thread ends `Stopped`, the process reaped.
pub async fn a_worker_process_answers_its_parent_and_exits_at_terminate(rt: Runtime) {
    let log = EventLog::default();
    let (parent, cx) = parent::<String>(&rt, &log).await;
    let echo = cx
        .spawn_child(worker("echo", &log, Duration::from_secs(10)))
        .await
        .unwrap();
    let pid = pid_of(&echo, &log).await;
    for word in ["one", "two", "three"] {
        echo.send(word.into()).await.unwrap();
    }
    log.wait_for("heard three from echo").await;
    echo.terminate();
    log.wait_for("echo ended: stopped").await;
    assert!(is_gone(pid), "the worker process {pid} is left");
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
    let heard = log.starting_with("heard");
    assert_eq!(
        heard[1..],
        [
            "heard one from echo",
            "heard two from echo",
            "heard three from echo"
        ]
    );
    assert!(log.starting_with("undelivered").is_empty());
}

/// A worker that crashes mid-stream ends its thread `Failed` with its exit status; the
/// request it was handling is handed back; the parent runs on.
pub async fn a_worker_process_that_crashes_fails_its_thread_and_hands_back_its_request(
    rt: Runtime,
) {
    let log = EventLog::default();
    let (parent, cx) = parent::<String>(&rt, &log).await;
    let crashing = cx
        .spawn_child(worker("crash", &log, Duration::from_secs(10)))
        .await
        .unwrap();
    let pid = pid_of(&crashing, &log).await;
    crashing.send("job 1".into()).await.unwrap();
    let end = crashing.join().await;
    match process_error(&end) {
        ProcessError::Exited { status } => assert_eq!(status.code(), Some(3)),
        other => panic!("not the worker's exit: {other}"),
    }
    log.wait_for_prefix("crash ended").await;
    assert!(is_gone(pid), "the worker process {pid} is left");
    assert_eq!(
        log.starting_with("undelivered"),
        [r#"undelivered ["job 1"]"#]
    );
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
}

/// A worker that sends a frame announcing more than the limit is killed at once, its
/// thread `Failed` with the frame's error; the request is handed back.
pub async fn a_worker_process_that_sends_a_malformed_frame_is_ended(rt: Runtime) {
    let log = EventLog::default();
    let (parent, cx) = parent::<String>(&rt, &log).await;
    let broken = cx
        .spawn_child(worker("malformed", &log, Duration::from_secs(10)))
        .await
        .unwrap();
    let pid = pid_of(&broken, &log).await;
    broken.send("job 1".into()).await.unwrap();
    let end = broken.join().await;
    match process_error(&end) {
        ProcessError::Protocol {
            error: FrameError::TooLarge { announced, .. },
            ..
        } => {
            assert_eq!(*announced, u32::MAX);
        }
        other => panic!("not the frame's error: {other}"),
    }
    assert!(is_gone(pid), "the worker process {pid} is left");
    assert_eq!(
        log.starting_with("undelivered"),
        [r#"undelivered ["job 1"]"#]
    );
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
}

/// A tree whose root is terminated ends its worker processes with it, each reaped.
pub async fn a_tree_ends_its_worker_processes_with_it(rt: Runtime) {
    let log = EventLog::default();
    let (parent, cx) = parent::<String>(&rt, &log).await;
    let echo = cx
        .spawn_child(worker("echo", &log, Duration::from_secs(10)))
        .await
        .unwrap();
    let pid = pid_of(&echo, &log).await;
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
    assert_eq!(echo.end(), Some(ThreadEnd::Stopped));
    assert!(is_gone(pid), "the worker process {pid} is left");
}

/// A worker that runs the real one as a process of its own (a shell, without `exec`):
/// the signals reach its whole process group, so the deaf grandchild, which keeps the
/// worker's stdout open, is killed with it, and the thread ends as killed, not forced by a
/// reader left waiting. Unix only (elsewhere there are no process groups to signal).
pub async fn a_worker_process_s_own_children_end_with_it(rt: Runtime) {
    if !cfg!(unix) {
        return;
    }
    let log = EventLog::default();
    let (parent, cx) = parent::<String>(&rt, &log).await;
    let mut command = Command::new("sh");
    let script = format!("'{}' deaf; true", worker_binary().display());
    command.args(["-c", &script]);
    let hook = log.clone();
    let shell = ProcessWorker::<String, String>::new("shell", command)
        .with_config(ThreadConfig {
            shutdown_budget: Duration::from_secs(1),
            ..ThreadConfig::default()
        })
        .on_undelivered(move |requests| hook.push(&format!("undelivered {requests:?}")));
    let shell = cx.spawn_child(Blocking::new(shell)).await.unwrap();
    let grandchild = pid_of(&shell, &log).await;
    shell.terminate();
    let end = shell.join().await;
    let ThreadEnd::Failed(_) = &end else {
        // Killed here, or it would hold the test's output open for ever.
        let _ = Command::new("kill")
            .args(["-9", &grandchild.to_string()])
            .status();
        panic!("not killed: {end}");
    };
    assert!(matches!(process_error(&end), ProcessError::Killed { .. }));
    // Killed: it is gone, or a zombie for its new parent to reap, once it has exited.
    while is_running(grandchild) {
        task_thread::Spawner::sleep(&rt, Duration::from_millis(1)).await;
    }
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
}

/// Whether process `pid` runs: it exists and is not a zombie (Linux: `/proc`; elsewhere
/// `kill -0`, which a zombie passes too).
fn is_running(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        return std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        });
    }
    !is_gone(pid)
}

/// A program that cannot be started fails its thread with the program's name and the
/// system's reason.
pub async fn a_worker_program_that_cannot_start_fails_its_thread(rt: Runtime) {
    let log = EventLog::default();
    let missing = worker_binary().with_file_name("no-such-worker-program");
    let hook = log.clone();
    let worker = ProcessWorker::<String, String>::new("missing", Command::new(&missing))
        .on_undelivered(move |requests| hook.push(&format!("undelivered {requests:?}")));
    let worker = task_thread::start(&rt, Blocking::new(worker))
        .await
        .unwrap();
    let end = worker.join().await;
    match process_error(&end) {
        ProcessError::Spawn { program, source } => {
            assert_eq!(program, &missing.to_string_lossy());
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("not a failed start: {other}"),
    }
    assert!(
        log.events().is_empty(),
        "nothing was sent: {:?}",
        log.events()
    );
}

/// A worker that answers as it likes ([`Replies::Free`]) has no request in flight: one it
/// was written and never answered is not handed back when it crashes.
pub async fn a_free_worker_process_has_no_request_in_flight(rt: Runtime) {
    let log = EventLog::default();
    let mut command = Command::new(worker_binary());
    command.arg("crash");
    let hook = log.clone();
    let worker = ProcessWorker::<String, String>::new("free", command)
        .with_replies(Replies::Free)
        .on_undelivered(move |requests| hook.push(&format!("undelivered {requests:?}")));
    let (parent, cx) = parent::<String>(&rt, &log).await;
    let free = cx.spawn_child(Blocking::new(worker)).await.unwrap();
    let pid = pid_of(&free, &log).await;
    free.send("job 1".into()).await.unwrap();
    let end = free.join().await;
    assert!(matches!(process_error(&end), ProcessError::Exited { .. }));
    assert!(is_gone(pid), "the worker process {pid} is left");
    assert!(
        log.starting_with("undelivered").is_empty(),
        "{:?}",
        log.events()
    );
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
}
