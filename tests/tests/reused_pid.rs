//! A worker process's pid, once reaped, is never signalled again (issue 15's review: the
//! abandon release killed whatever process had taken the pid since). Linux only, and it
//! needs root: the case makes the pid come back by writing /proc/sys/kernel/ns_last_pid.
//! Where it cannot (not root), or where another process on the machine takes the pid
//! first, it says so on stderr and checks nothing: it is not a conformance case (it needs
//! the test worker's pid to come back, which no runtime controls), but a regression case
//! for the process crate, in a binary of its own so that no other test of ours starts a
//! process meanwhile.

#![cfg(target_os = "linux")]

use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use task_thread::{Blocking, Runtime, ThreadConfig};
use task_thread_conformance::blocking::parent_with;
use task_thread_conformance::fixtures::EventLog;
use task_thread_process::ProcessWorker;

const WORKER: &str = env!("CARGO_BIN_EXE_task-thread-test-worker");

/// Written with a pid less one, it makes the kernel hand out that pid next.
const NS_LAST_PID: &str = "/proc/sys/kernel/ns_last_pid";

fn run(
    name: &str,
    case: impl FnOnce(Runtime) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) {
    task_thread_conformance::run_case(&task_thread_smol::Smol::default(), name, case);
}

/// The worker's pid is reaped by the worker's OS thread (`ending::end`), then, while
/// `run` has not returned yet (here: the undelivered hook, on that OS thread, holds it),
/// the pid is reused by another process of ours, a group leader like every worker. The
/// thread is then forced (its parent's budget runs out), and the abandon release
/// `kill_abandoned` calls `exited`, whose `waitid(P_PID, pid, NOWAIT)` now looks at the
/// other process: alive, so `kill_process_group(pid, SIGKILL)` killed the innocent process
/// (it failed so before the fix: `ending::Worker` keeps the reaped status).
#[test]
fn an_abandoned_worker_s_release_never_kills_the_process_that_reused_its_pid() {
    let name = "an_abandoned_worker_s_release_never_kills_the_process_that_reused_its_pid";
    let writable = std::fs::OpenOptions::new().write(true).open(NS_LAST_PID);
    if let Err(error) = writable {
        eprintln!("{name}: not checked: {NS_LAST_PID} is not writable here ({error})");
        return;
    }
    run(name, |rt| {
        Box::pin(async move {
            let log = EventLog::default();
            let config = ThreadConfig {
                shutdown_budget: Duration::from_millis(500),
                ..ThreadConfig::default()
            };
            let (parent, cx) = parent_with::<String>(&rt, &log, config).await;

            let worker_pid = Arc::new(AtomicU32::new(0));
            let innocent: Arc<Mutex<Option<Child>>> = Arc::default();
            let (release_tx, release_rx) = mpsc::channel::<()>();
            let release_rx = Mutex::new(Some(release_rx));
            let (hook_pid, hook_innocent, hook_log) =
                (worker_pid.clone(), innocent.clone(), log.clone());
            let mut command = Command::new(WORKER);
            command.arg("crash");
            let worker = ProcessWorker::<String, String>::new("crash", command)
                .with_config(ThreadConfig {
                    shutdown_budget: Duration::from_secs(60),
                    ..ThreadConfig::default()
                })
                .on_undelivered(move |requests| {
                    let Some(rx) = release_rx.lock().unwrap().take() else {
                        return;
                    };
                    // The worker is reaped by now: make its pid come back, as a group
                    // leader of another program of ours.
                    let pid = hook_pid.load(Ordering::SeqCst);
                    // If it fails, the pid does not come back: the case says so below.
                    let _ = std::fs::write(NS_LAST_PID, (pid - 1).to_string());
                    let mut other = Command::new("sleep");
                    other.arg("30");
                    std::os::unix::process::CommandExt::process_group(&mut other, 0);
                    let child = other.spawn().unwrap();
                    let line = format!(
                        "undelivered {requests:?}; innocent {} (worker was {pid})",
                        child.id()
                    );
                    *hook_innocent.lock().unwrap() = Some(child);
                    hook_log.push(&line);
                    // `run` does not return until the test has looked.
                    let _ = rx.recv_timeout(Duration::from_secs(30));
                });
            let worker = cx.spawn_child(Blocking::new(worker)).await.unwrap();
            worker.send("pid".into()).await.unwrap();
            log.wait_for_prefix("heard ").await;
            let heard = log.starting_with("heard ").remove(0);
            let pid: u32 = heard["heard ".len()..]
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            worker_pid.store(pid, Ordering::SeqCst);
            worker.send("boom".into()).await.unwrap();
            log.wait_for_prefix("undelivered").await;
            let innocent_pid = innocent.lock().unwrap().as_ref().unwrap().id();
            let came_back = innocent_pid == pid;
            // The parent's budget runs out while the worker's `run` is held: forced.
            parent.terminate();
            let end = parent.join().await;
            // Ours is SIGTERM: a SIGKILL sent before it (by the release) wins, and the
            // status tells which one ended the innocent process, with no timing.
            let mut other = innocent.lock().unwrap().take().unwrap();
            let _ = Command::new("kill")
                .args(["-TERM", &other.id().to_string()])
                .status();
            let status = other.wait().unwrap();
            let _ = release_tx.send(());
            if !came_back {
                eprintln!(
                    "not checked: the worker's pid {pid} did not come back (another \
                     process took it; the other process got {innocent_pid})"
                );
                return;
            }
            let signal = std::os::unix::process::ExitStatusExt::signal(&status);
            assert_eq!(
                signal,
                Some(15),
                "the innocent process {pid}, which reused the reaped worker's pid, was \
                 SIGKILLed by the abandon release (parent: {end}; log {:?}; {:?})",
                log.events(),
                task_thread_conformance::logs::lines_with(&["killing the worker process"])
            );
        })
    });
}
