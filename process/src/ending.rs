//! Ending a worker process before its thread's shutdown deadline: its stdin is closed
//! already; wait for it, then SIGTERM, then SIGKILL, each to its process group on Unix,
//! placed so that it is reaped before the deadline; kill what is left of the group once it
//! has exited; and always reap it (no zombie).

use std::io;
use std::process::{Child, ExitStatus};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use task_thread::BlockingLink;

/// How a worker process ended.
pub(crate) enum Ended {
    /// By itself (after its stdin closed, or before).
    Exited(ExitStatus),
    /// By the signal named.
    Killed(&'static str, ExitStatus),
}

/// When the ending sends its signals, placed before the thread's shutdown deadline.
pub(crate) struct Deadlines {
    /// When to send SIGTERM if it is still running.
    terminate_at: Instant,
    /// When to kill it.
    kill_at: Instant,
    /// The thread's shutdown deadline they were placed toward, if it had one.
    toward: Option<Instant>,
}

impl Deadlines {
    /// Toward the thread's shutdown `deadline`, from now: two fifths of the time left for
    /// the worker to exit by itself once its stdin closed, two more after SIGTERM, and the
    /// last fifth to kill and reap it before the thread stops waiting for it. Without a
    /// deadline (the worker ended by itself, and the thread is not ending), within the
    /// thread's own `budget` from now.
    pub(crate) fn toward(deadline: Option<Instant>, budget: Duration) -> Self {
        let now = Instant::now();
        let left = deadline.map_or(budget, |deadline| deadline.saturating_duration_since(now));
        Deadlines {
            terminate_at: now + left * 2 / 5,
            kill_at: now + left * 4 / 5,
            toward: deadline,
        }
    }

    /// Ends at once: for a worker that broke the protocol.
    pub(crate) fn now() -> Self {
        let now = Instant::now();
        Deadlines {
            terminate_at: now,
            kill_at: now,
            toward: Some(now),
        }
    }

    /// Follows the thread's shutdown deadline as it stands now: a sooner one (its parent's
    /// cascade), or a first one (a worker that ended by itself, then its thread
    /// terminated), brings the steps left forward, placed toward it from now; never later.
    fn follow(&mut self, deadline: Option<Instant>) {
        let Some(deadline) = deadline else {
            return;
        };
        if self.toward.is_some_and(|toward| toward <= deadline) {
            return;
        }
        let sooner = Deadlines::toward(Some(deadline), Duration::ZERO);
        self.terminate_at = self.terminate_at.min(sooner.terminate_at);
        self.kill_at = self.kill_at.min(sooner.kill_at);
        self.toward = Some(deadline);
    }
}

/// The worker process, shared by the handler's OS thread, which waits for it, and the
/// release it registers on its link, which kills it if the thread is abandoned. Every
/// look at it (and its reaping) is made under the lock, so a release never signals a
/// process reaped already, whose id may be another's by then.
pub(crate) type SharedChild = std::sync::Arc<Mutex<Worker>>;

/// The worker process and, once it is reaped, its status: from then on its id may be
/// another process's (a later worker's, leading a group of its own), so no signal goes to
/// it. Kept here because std keeps it only behind a call that reaps a child not reaped yet,
/// and a look made with `waitid` sees a reused id as a process still running.
pub(crate) struct Worker {
    child: Child,
    reaped: Option<ExitStatus>,
}

impl Worker {
    pub(crate) fn new(child: Child) -> Self {
        Worker {
            child,
            reaped: None,
        }
    }

    /// Kills it (std's kill: nothing is sent once std has reaped it), to end a wait that
    /// failed.
    pub(crate) fn kill(&mut self) -> io::Result<()> {
        self.child.kill()
    }
}

/// Waits for `child` to exit, ending it by signal at the deadlines (following the thread's
/// shutdown deadline, which `link` gives, as it comes sooner), or at once when the thread
/// is abandoned (nobody waits any more), and reaps it.
pub(crate) fn end<S, O>(
    child: &Mutex<Worker>,
    deadlines: &mut Deadlines,
    link: &BlockingLink<S, O>,
) -> io::Result<Ended> {
    let abandoned = || link.is_abandoned();
    let mut terminate_at = || {
        deadlines.follow(link.shutdown_deadline());
        deadlines.terminate_at
    };
    if let Some(status) = wait_until(child, &mut terminate_at, &abandoned)? {
        return Ok(Ended::Exited(status));
    }
    if !abandoned() && terminate(&mut lock(child)) {
        let mut kill_at = || {
            deadlines.follow(link.shutdown_deadline());
            deadlines.kill_at
        };
        if let Some(status) = wait_until(child, &mut kill_at, &abandoned)? {
            return Ok(Ended::Killed("SIGTERM", status));
        }
    }
    {
        let mut child = lock(child);
        // A worker that exited just now is reaped here, its status its own.
        if let Some(status) = exited(&mut child)? {
            return Ok(Ended::Exited(status));
        }
        tracing::warn!(pid = child.child.id(), "killing the worker process");
        send_kill(&mut child)?;
    }
    Ok(Ended::Killed(KILL, reap(child)?))
}

/// Kills `child` (its process group, on Unix) and reaps it (at once, unless it is stuck
/// in the kernel). Only for a child not reaped yet, and that no release shares.
pub(crate) fn kill(child: Child) -> io::Result<ExitStatus> {
    let mut worker = Worker::new(child);
    send_kill(&mut worker)?;
    worker.child.wait()
}

/// The release a worker's thread runs if it is abandoned (see
/// [`BlockingLink::on_abandon`](task_thread::BlockingLink::on_abandon)), on the runtime's
/// thread that drops the thread, before its end is recorded: kills the worker and its
/// process group, unless it has exited already (reaped here then), and returns at once,
/// without waiting for it to die (a runtime's thread must not block). The handler's OS
/// thread, which looks at the abandonment between its looks at the worker, reaps it.
pub(crate) fn kill_abandoned(child: &Mutex<Worker>) {
    let mut worker = lock(child);
    if !matches!(exited(&mut worker), Ok(None)) {
        return;
    }
    let pid = worker.child.id();
    tracing::warn!(
        pid,
        "the worker's thread was abandoned: killing the worker process"
    );
    if let Err(error) = send_kill(&mut worker) {
        tracing::error!(pid, "the worker process could not be killed: {error}");
    }
}

/// Sends the kill to the worker's process group (on Unix), or to the worker; nothing once
/// it is reaped.
fn send_kill(worker: &mut Worker) -> io::Result<()> {
    if worker.reaped.is_some() {
        return Ok(());
    }
    if !signal_group(&worker.child, Signal::Kill) {
        worker.child.kill()?;
    }
    Ok(())
}

/// What `kill` sends.
const KILL: &str = if cfg!(unix) {
    "SIGKILL"
} else {
    "TerminateProcess"
};

/// Polls `child` until it exits or the deadline `deadline` gives (asked at each look: it
/// may come sooner) passes (std has no wait with a timeout, and this runs on the worker's
/// own OS thread).
fn wait_until(
    child: &Mutex<Worker>,
    deadline: &mut dyn FnMut() -> Instant,
    abandoned: &dyn Fn() -> bool,
) -> io::Result<Option<ExitStatus>> {
    let mut pause = FIRST_PAUSE;
    loop {
        if let Some(status) = exited(&mut lock(child))? {
            return Ok(Some(status));
        }
        let (now, deadline) = (Instant::now(), deadline());
        if now >= deadline || abandoned() {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// Polls `child`, killed, until it has died, and reaps it: not `Child::wait`, which would
/// hold the lock while it waits, and so hold up an abandoned thread's release, on a
/// runtime's thread.
fn reap(child: &Mutex<Worker>) -> io::Result<ExitStatus> {
    let mut pause = FIRST_PAUSE;
    loop {
        if let Some(status) = exited(&mut lock(child))? {
            return Ok(status);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// The pauses between looks at a worker that has not exited: 1 ms first, doubled after
/// each look, up to 20 ms.
const FIRST_PAUSE: Duration = Duration::from_millis(1);
const LONGEST_PAUSE: Duration = Duration::from_millis(20);

/// Sends SIGTERM to the worker's process group; false where there is none (Windows) or it
/// could not be sent.
fn terminate(worker: &mut Worker) -> bool {
    if !matches!(exited(worker), Ok(None)) {
        return false;
    }
    let pid = worker.child.id();
    tracing::warn!(pid, "the worker process did not exit: SIGTERM");
    signal_group(&worker.child, Signal::Term)
}

/// The signals sent to a worker's group.
#[derive(Clone, Copy)]
enum Signal {
    Term,
    Kill,
}

/// The worker's status if it has exited, reaped now (or before: then nothing is looked
/// at, as its id may be another's).
fn exited(worker: &mut Worker) -> io::Result<Option<ExitStatus>> {
    if let Some(status) = worker.reaped {
        return Ok(Some(status));
    }
    let status = reap_if_exited(&mut worker.child)?;
    worker.reaped = status;
    Ok(status)
}

/// The status of `child`, not reaped yet, if it has exited, reaped now. On Unix, what is
/// left of its process group (processes of its own, which may hold its stdout open) is
/// killed first, while the worker is not reaped yet: its id, the group's, cannot be
/// another's until then.
#[cfg(all(unix, not(target_os = "openbsd")))]
fn reap_if_exited(child: &mut Child) -> io::Result<Option<ExitStatus>> {
    use rustix::process::{waitid, Pid, WaitId, WaitIdOptions};
    let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) else {
        return child.try_wait();
    };
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    match waitid(WaitId::Pid(pid), options) {
        Ok(None) => Ok(None),
        Ok(Some(_)) => {
            signal_group(child, Signal::Kill);
            child.wait().map(Some)
        }
        // Not ours to wait for (reaped by someone else): std tells what it can.
        Err(_) => child.try_wait(),
    }
}

#[cfg(not(all(unix, not(target_os = "openbsd"))))]
fn reap_if_exited(child: &mut Child) -> io::Result<Option<ExitStatus>> {
    child.try_wait()
}

/// Sends `signal` to the process group `child` leads (it was started in a group of its
/// own); false where there are none (Windows) or it could not be sent.
#[cfg(unix)]
fn signal_group(child: &Child, signal: Signal) -> bool {
    use rustix::process::{kill_process_group, Pid};
    let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) else {
        return false;
    };
    let signal = match signal {
        Signal::Term => rustix::process::Signal::TERM,
        Signal::Kill => rustix::process::Signal::KILL,
    };
    kill_process_group(pid, signal).is_ok()
}

#[cfg(not(unix))]
fn signal_group(_child: &Child, _signal: Signal) -> bool {
    false
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
