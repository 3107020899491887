//! [`Failure`]: why a thread failed, with the user's error kept whole.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use super::definition::BoxError;

/// Why a thread failed: where (`"enter"`, `"on_signal"`, `"task hello"`, ...) and the error,
/// kept with its type and its [`source`](Error::source) chain; a panic is a [`Panicked`].
///
/// Cheap to clone (the error is shared): every `join` of the thread and its parent's
/// `on_child_ended` see the same error. Two failures are equal when they happened in the
/// same place with the same message (errors have no equality of their own).
///
/// ```
/// use std::io;
/// use task_thread_core::{Failure, ThreadEnd};
///
/// fn is_refused_connection(end: &ThreadEnd) -> bool {
///     let ThreadEnd::Failed(failure) = end else { return false };
///     // The user's `io::Error`, as `enter` returned it: its kind, not just its text.
///     failure.downcast_ref::<io::Error>().map(io::Error::kind)
///         == Some(io::ErrorKind::ConnectionRefused)
/// }
/// ```
#[derive(Clone)]
pub struct Failure {
    during: Box<str>,
    error: Arc<dyn Error + Send + Sync>,
}

impl Failure {
    /// A failure of `during` with `error`.
    pub(crate) fn new(during: impl Into<Box<str>>, error: BoxError) -> Self {
        Failure {
            during: during.into(),
            error: Arc::from(error),
        }
    }

    /// A panic in `during`, with the panic's message.
    pub(crate) fn panicked(during: impl Into<Box<str>>, message: String) -> Self {
        Self::new(during, Box::new(Panicked::new(message)))
    }

    /// Where the thread failed: `"enter"`, `"exit"`, `"on_signal"`, `"on_child_signal"`,
    /// `"on_child_ended"`, `"task <slot>"`, or `"thread"` (outside every user method).
    #[must_use]
    pub fn during(&self) -> &str {
        &self.during
    }

    /// The error, as the user's method returned it (or a [`Panicked`]).
    #[must_use]
    pub fn error(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.error
    }

    /// The error, if it is an `E`.
    #[must_use]
    pub fn downcast_ref<E: Error + 'static>(&self) -> Option<&E> {
        self.error.downcast_ref::<E>()
    }

    /// Whether it was a panic.
    #[must_use]
    pub fn is_panic(&self) -> bool {
        self.error.is::<Panicked>()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed in {}: {}", self.during, self.error)
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Failure")
            .field("during", &self.during)
            .field("error", &self.error)
            .finish()
    }
}

impl Error for Failure {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.error)
    }
}

impl PartialEq for Failure {
    fn eq(&self, other: &Self) -> bool {
        self.during == other.during && self.error.to_string() == other.error.to_string()
    }
}

impl Eq for Failure {}

/// A panic in a user method or task, as an error: its message.
///
/// ```
/// use task_thread_core::{Panicked, ThreadEnd};
///
/// fn panic_message(end: &ThreadEnd) -> Option<&str> {
///     match end {
///         ThreadEnd::Failed(failure) => failure.downcast_ref::<Panicked>().map(Panicked::message),
///         _ => None,
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Panicked {
    message: String,
}

impl Panicked {
    /// A panic with `message`.
    pub(crate) fn new(message: String) -> Self {
        Panicked { message }
    }

    /// The panic's message (its payload, if a string).
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "panicked: {}", self.message)
    }
}

impl Error for Panicked {}
