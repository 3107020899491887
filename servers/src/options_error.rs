//! [`OptionsError`]: a [`ServerOptions`](crate::ServerOptions) value the master refuses.

use std::fmt;

/// What is wrong with a [`ServerOptions`](crate::ServerOptions): the master's `enter`
/// fails with it (so `start` returns
/// [`ThreadError::EnterFailed`](task_thread::ThreadError::EnterFailed) holding it), before
/// it binds anything.
///
/// ```
/// use std::net::SocketAddr;
/// use std::time::Duration;
/// use task_thread_servers::{OptionsError, Protocol, ServerOptions};
///
/// let options = ServerOptions {
///     tree_every: Some(Duration::ZERO),
///     ..ServerOptions::new(SocketAddr::from(([127, 0, 0, 1], 0)), Protocol::Packets)
/// };
/// assert_eq!(options.check(), Err(OptionsError::TreeEveryZero));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionsError {
    /// `tree_every` is `Some(Duration::ZERO)`: the tree would be logged as fast as the
    /// master's task can loop, flooding the log (`None` is never).
    TreeEveryZero,
}

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionsError::TreeEveryZero => f.write_str(
                "tree_every is zero: the tree would be logged without pause; give more than \
                 zero, or None for never",
            ),
        }
    }
}

impl std::error::Error for OptionsError {}
