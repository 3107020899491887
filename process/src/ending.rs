//! Ending a worker process within a budget: its stdin is closed already; wait for it,
//! then SIGTERM, then SIGKILL at the deadline; and always reap it (no zombie).

use std::io;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// How a worker process ended.
pub(crate) enum Ended {
    /// By itself (after its stdin closed, or before).
    Exited(ExitStatus),
    /// By the signal named.
    Killed(&'static str, ExitStatus),
}

/// What the ending looks at while it waits.
pub(crate) struct Deadlines {
    /// When to send SIGTERM if it is still running.
    pub(crate) terminate_at: Instant,
    /// When to kill it.
    pub(crate) kill_at: Instant,
}

impl Deadlines {
    /// Within `budget` from now: two fifths of it for the worker to exit by itself once
    /// its stdin closed, two more after SIGTERM, and the last fifth to kill and reap it
    /// before the thread's own budget runs out.
    pub(crate) fn within(budget: Duration) -> Self {
        let now = Instant::now();
        Deadlines {
            terminate_at: now + budget * 2 / 5,
            kill_at: now + budget * 4 / 5,
        }
    }

    /// Ends at once: for a worker that broke the protocol.
    pub(crate) fn now() -> Self {
        let now = Instant::now();
        Deadlines {
            terminate_at: now,
            kill_at: now,
        }
    }
}

/// Waits for `child` to exit, ending it by signal at the deadlines (or at once when
/// `abandoned` says nobody waits any more), and reaps it.
pub(crate) fn end(
    child: &mut Child,
    deadlines: &Deadlines,
    abandoned: &dyn Fn() -> bool,
) -> io::Result<Ended> {
    if let Some(status) = wait_until(child, deadlines.terminate_at, abandoned)? {
        return Ok(Ended::Exited(status));
    }
    if !abandoned() && terminate(child) {
        if let Some(status) = wait_until(child, deadlines.kill_at, abandoned)? {
            return Ok(Ended::Killed("SIGTERM", status));
        }
    }
    // A worker that exited just now is reaped here, its status its own.
    if let Some(status) = child.try_wait()? {
        return Ok(Ended::Exited(status));
    }
    tracing::warn!(pid = child.id(), "killing the worker process");
    child.kill()?;
    let status = child.wait()?;
    Ok(Ended::Killed(KILL, status))
}

/// What `Child::kill` sends.
const KILL: &str = if cfg!(unix) {
    "SIGKILL"
} else {
    "TerminateProcess"
};

/// Polls `child` until it exits or `deadline` passes; starts at 1 ms and backs off to
/// 20 ms between looks (std has no wait with a timeout, and this runs on the worker's own
/// OS thread).
fn wait_until(
    child: &mut Child,
    deadline: Instant,
    abandoned: &dyn Fn() -> bool,
) -> io::Result<Option<ExitStatus>> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline || abandoned() {
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Sends SIGTERM; false where there is none (Windows) or it could not be sent.
#[cfg(unix)]
fn terminate(child: &Child) -> bool {
    use rustix::process::{kill_process, Pid, Signal};
    let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) else {
        return false;
    };
    tracing::warn!(pid = child.id(), "the worker process did not exit: SIGTERM");
    kill_process(pid, Signal::TERM).is_ok()
}

#[cfg(not(unix))]
fn terminate(_child: &Child) -> bool {
    false
}
