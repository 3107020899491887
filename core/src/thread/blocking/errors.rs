//! The errors of a [`BlockingLink`](super::BlockingLink): an output not delivered, no
//! signal in time.

use std::time::Duration;

use crate::thread::errors::SendError;

/// Why [`BlockingLink::send`](super::BlockingLink::send) did not deliver an output.
///
/// ```
/// use task_thread_core::{BlockingLink, OutputLost};
///
/// fn report(link: &BlockingLink<(), String>, line: String) {
///     match link.send(line) {
///         Ok(()) => {}
///         // Handed back: it could go to a file instead.
///         Err(OutputLost::Refused(refused)) => tracing::warn!("kept: {}", refused.into_signal()),
///         Err(lost) => tracing::error!("{lost}"),
///     }
/// }
/// ```
#[derive(PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputLost<O> {
    /// The parent's queue refused it, or the thread has ended: the output is handed back.
    Refused(SendError<O>),
    /// The thread's shutdown cut short its putting the output into its parent's queue
    /// (the queue stayed full past the thread's grace, or the thread was forced), and the
    /// output was dropped with it, as an async thread's task's would be.
    Dropped,
}

impl<O> std::fmt::Display for OutputLost<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputLost::Refused(refused) => refused.fmt(f),
            OutputLost::Dropped => {
                f.write_str("the thread's shutdown dropped the output while it was being sent")
            }
        }
    }
}

impl<O> std::fmt::Debug for OutputLost<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputLost::Refused(refused) => f.debug_tuple("Refused").field(refused).finish(),
            OutputLost::Dropped => f.write_str("Dropped"),
        }
    }
}

impl<O> std::error::Error for OutputLost<O> {}

/// The error of [`BlockingLink::recv_timeout`](super::BlockingLink::recv_timeout): no signal came within the time given.
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::RecvTimeout;
///
/// assert_eq!(RecvTimeout(Duration::from_secs(1)).to_string(), "no signal within 1s");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvTimeout(pub Duration);

impl std::fmt::Display for RecvTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no signal within {:?}", self.0)
    }
}

impl std::error::Error for RecvTimeout {}
