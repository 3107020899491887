//! Awaiting a spawned task: [`JoinHandle`] and the uniform [`JoinError`].

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::spawner::RawTask;

/// Why a task produced no value.
///
/// ```
/// use task_thread_core::{JoinError, Runtime, SpawnerExt};
///
/// async fn outcome(rt: &Runtime) -> String {
///     match rt.spawn(async { "done" }).await {
///         Ok(value) => value.to_owned(),
///         Err(JoinError::Cancelled) => "cancelled".to_owned(),
///         Err(JoinError::Panicked { message }) => format!("panicked: {message}"),
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JoinError {
    /// The task was cancelled before it finished; its future has been dropped.
    Cancelled,
    /// The task panicked; the panic was caught and did not reach the runtime.
    Panicked {
        /// The panic's message (`"<non-string panic payload>"` if it had none).
        message: String,
    },
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("task was cancelled"),
            JoinError::Panicked { message } => write!(f, "task panicked: {message}"),
        }
    }
}

impl std::error::Error for JoinError {}

/// An owned handle to a spawned task, the same on every backend.
///
/// Contract:
/// - awaiting it gives `Ok(value)`, `Err(JoinError::Cancelled)` or
///   `Err(JoinError::Panicked { .. })`, whichever runtime runs the task;
/// - [`cancel`](JoinHandle::cancel) asks the task to stop; awaiting the handle afterwards
///   returns once the task's future has been dropped, so its destructors have run;
/// - dropping the handle **detaches** the task: it keeps running to its end. (tokio and
///   async-std detach too; smol's own `Task` would cancel, our smol backend detaches.)
///
/// ```
/// # use task_thread_core::{Backend, JoinError, SpawnerExt};
/// # fn demo(backend: impl Backend) {
/// backend.block_on(|rt| async move {
///     let mut forever = rt.spawn(futures::future::pending::<()>());
///     forever.cancel();
///     assert_eq!(forever.await, Err(JoinError::Cancelled));
/// });
/// # }
/// ```
#[must_use = "dropping a JoinHandle detaches the task"]
pub struct JoinHandle<T> {
    raw: Box<dyn RawTask>,
    _value: PhantomData<fn() -> T>,
}

impl<T: 'static> JoinHandle<T> {
    pub(crate) fn new(raw: Box<dyn RawTask>) -> Self {
        JoinHandle {
            raw,
            _value: PhantomData,
        }
    }

    /// Asks the task to stop at its next suspension point (or before it starts). Does not
    /// wait: await the handle for the end.
    pub fn cancel(&mut self) {
        self.raw.cancel();
    }
}

impl<T: 'static> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.raw.poll_end(cx).map(|end| match end {
            None => Err(JoinError::Cancelled),
            Some(Err(message)) => Err(JoinError::Panicked { message }),
            Some(Ok(value)) => Ok(*value
                .downcast::<T>()
                .expect("a JoinHandle's value has the type it was spawned with")),
        })
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

/// Runs user code that may panic (a destructor, say): the panic, if any.
pub(crate) fn panic_of(user_code: impl FnOnce()) -> Option<Box<dyn Any + Send>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(user_code)).err()
}

/// The text of a caught panic.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}
