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
pub(crate) type SharedChild = std::sync::Arc<Mutex<Child>>;

/// Waits for `child` to exit, ending it by signal at the deadlines (following the thread's
/// shutdown deadline, which `link` gives, as it comes sooner), or at once when the thread
/// is abandoned (nobody waits any more), and reaps it.
pub(crate) fn end<S, O>(
    child: &Mutex<Child>,
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
    let mut child = lock(child);
    // A worker that exited just now is reaped here, its status its own.
    if let Some(status) = exited(&mut child)? {
        return Ok(Ended::Exited(status));
    }
    tracing::warn!(pid = child.id(), "killing the worker process");
    Ok(Ended::Killed(KILL, kill(&mut child)?))
}

/// Kills `child` (its process group, on Unix) and reaps it (at once, unless it is stuck
/// in the kernel). Only for a child not reaped yet.
pub(crate) fn kill(child: &mut Child) -> io::Result<ExitStatus> {
    if !signal_group(child, Signal::Kill) {
        child.kill()?;
    }
    child.wait()
}

/// The release a worker's thread runs if it is abandoned (see
/// [`BlockingLink::on_abandon`](task_thread::BlockingLink::on_abandon)): kills the worker
/// and its process group, unless it has been reaped already, and reaps it if it dies
/// within a few milliseconds (a killed process does, unless stuck in the kernel), so that
/// the tree's `join` finds it gone; otherwise the handler's OS thread reaps it, as it
/// would anyway.
pub(crate) fn kill_abandoned(child: &Mutex<Child>) {
    let mut child = lock(child);
    if !matches!(exited(&mut child), Ok(None)) {
        return;
    }
    tracing::warn!(
        pid = child.id(),
        "the worker's thread was abandoned: killing the worker process"
    );
    if !signal_group(&child, Signal::Kill) {
        if let Err(error) = child.kill() {
            tracing::error!(
                pid = child.id(),
                "the worker process could not be killed: {error}"
            );
            return;
        }
    }
    let give_up = Instant::now() + REAP_WAIT;
    while matches!(exited(&mut child), Ok(None)) && Instant::now() < give_up {
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// How long an abandoned worker's release waits for the killed worker to die.
const REAP_WAIT: Duration = Duration::from_millis(20);

/// What `kill` sends.
const KILL: &str = if cfg!(unix) {
    "SIGKILL"
} else {
    "TerminateProcess"
};

/// Polls `child` until it exits or the deadline `deadline` gives (asked at each look: it
/// may come sooner) passes; starts at 1 ms and backs off to 20 ms between looks (std has no
/// wait with a timeout, and this runs on the worker's own OS thread).
fn wait_until(
    child: &Mutex<Child>,
    deadline: &mut dyn FnMut() -> Instant,
    abandoned: &dyn Fn() -> bool,
) -> io::Result<Option<ExitStatus>> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = exited(&mut lock(child))? {
            return Ok(Some(status));
        }
        let (now, deadline) = (Instant::now(), deadline());
        if now >= deadline || abandoned() {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Sends SIGTERM to the worker's process group; false where there is none (Windows) or it
/// could not be sent.
fn terminate(child: &mut Child) -> bool {
    if !matches!(exited(child), Ok(None)) {
        return false;
    }
    tracing::warn!(pid = child.id(), "the worker process did not exit: SIGTERM");
    signal_group(child, Signal::Term)
}

/// The signals sent to a worker's group.
#[derive(Clone, Copy)]
enum Signal {
    Term,
    Kill,
}

/// The status of `child` if it has exited, reaped now. On Unix, what is left of its process
/// group (processes of its own, which may hold its stdout open) is killed first, while the
/// worker is not reaped yet: its id, the group's, cannot be another's until then.
#[cfg(all(unix, not(target_os = "openbsd")))]
fn exited(child: &mut Child) -> io::Result<Option<ExitStatus>> {
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
        // Reaped already: std keeps its status.
        Err(_) => child.try_wait(),
    }
}

#[cfg(not(all(unix, not(target_os = "openbsd"))))]
fn exited(child: &mut Child) -> io::Result<Option<ExitStatus>> {
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
