//! [`ProcessError`]: how a worker process ended a [`ProcessWorker`](crate::ProcessWorker)
//! thread as `Failed`.

use std::fmt;
use std::io;
use std::process::ExitStatus;

use crate::frame::FrameError;

/// Why a [`ProcessWorker`](crate::ProcessWorker) thread failed: the
/// [`Failure`](task_thread::Failure) of its `ThreadEnd::Failed` holds one (downcast it).
///
/// ```
/// use task_thread::ThreadEnd;
/// use task_thread_process::ProcessError;
///
/// /// The exit code of a worker that exited on its own with a failure.
/// fn exit_code(end: &ThreadEnd) -> Option<i32> {
///     let ThreadEnd::Failed(failure) = end else { return None };
///     match failure.downcast_ref::<ProcessError>()? {
///         ProcessError::Exited { status } => status.code(),
///         _ => None,
///     }
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ProcessError {
    /// The program could not be started.
    Spawn {
        /// The program, as the command names it.
        program: String,
        /// Why.
        source: io::Error,
    },
    /// The worker exited by itself with a failure: a non-zero code, or a signal (a crash).
    Exited {
        /// Its status.
        status: ExitStatus,
    },
    /// The worker sent what cannot be read (a length over the limit, bytes that are not
    /// the JSON of the output type, a frame cut short); it was killed at once, unless it
    /// had exited already (a frame cut short by its exit).
    Protocol {
        /// What was wrong.
        error: FrameError,
        /// Its status: its own exit's, or the signal's that killed it.
        status: ExitStatus,
    },
    /// The worker did not exit when its stdin was closed at the thread's shutdown, and was
    /// ended by a signal.
    Killed {
        /// `"SIGTERM"`, or `"SIGKILL"`, the last step before the thread's shutdown
        /// deadline (on Windows, `"TerminateProcess"`).
        by: &'static str,
        /// Its status.
        status: ExitStatus,
    },
    /// Waiting for the worker, or starting the thread that reads its stdout, failed.
    Io(io::Error),
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::Spawn { program, source } => {
                write!(
                    f,
                    "the worker process {program:?} could not start: {source}"
                )
            }
            ProcessError::Exited { status } => write!(f, "the worker process failed: {status}"),
            ProcessError::Protocol { error, status } => {
                write!(
                    f,
                    "the worker process broke the protocol ({error}) and was ended: {status}"
                )
            }
            ProcessError::Killed { by, status } => write!(
                f,
                "the worker process did not exit when its stdin closed; ended by {by}: {status}"
            ),
            ProcessError::Io(error) => write!(f, "waiting for the worker process failed: {error}"),
        }
    }
}

impl std::error::Error for ProcessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProcessError::Spawn { source, .. } => Some(source),
            ProcessError::Protocol { error, .. } => Some(error),
            ProcessError::Io(error) => Some(error),
            ProcessError::Exited { .. } | ProcessError::Killed { .. } => None,
        }
    }
}
