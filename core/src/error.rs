//! Errors of task slots.

use std::fmt;
use std::time::Duration;

/// Why a [`TaskSlot`](crate::TaskSlot) operation failed.
///
/// ```
/// use task_thread_core::{SlotError, TaskSlot};
///
/// async fn stop(slot: &TaskSlot) {
///     if let Err(SlotError::CancelTimedOut { thread, task, timeout }) = slot.delete().await {
///         // Still counted as live: the leak stays visible in `live_tasks`.
///         tracing::error!("{thread}/{task} ignored its cancel for {timeout:?}");
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlotError {
    /// The slot's task was cancelled but its end was not seen within `timeout`.
    ///
    /// The slot is left empty and the task is no longer reachable through it; it is still
    /// counted by [`TaskGroup::live_tasks`](crate::TaskGroup::live_tasks) until its future is
    /// dropped, so a leak stays visible. `re_create` does not start the new task in this case.
    CancelTimedOut {
        /// The id of the thread (group) owning the slot.
        thread: String,
        /// The slot's name.
        task: String,
        /// How long the caller waited.
        timeout: Duration,
    },
    /// The runtime refused to start the task (it is shutting down): nothing of it ran, and
    /// the slot is left empty.
    Refused {
        /// The id of the thread (group) owning the slot.
        thread: String,
        /// The slot's name.
        task: String,
    },
    /// The group's thread has ended or is ending (its tasks are being deleted): no task is
    /// started in it any more, so none outlives its thread. Also for a slot marked
    /// [`cancel_at_once`](crate::TaskSlot::cancel_at_once) once the thread's shutdown notice
    /// has fired: its task would be cancelled as it starts.
    Closed {
        /// The id of the thread (group) owning the slot.
        thread: String,
        /// The slot's name.
        task: String,
    },
}

impl fmt::Display for SlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlotError::CancelTimedOut {
                thread,
                task,
                timeout,
            } => write!(
                f,
                "task '{task}' of thread '{thread}' did not end within {timeout:?} of being cancelled"
            ),
            SlotError::Refused { thread, task } => write!(
                f,
                "the runtime refused to start task '{task}' of thread '{thread}' (it is shutting down)"
            ),
            SlotError::Closed { thread, task } => write!(
                f,
                "thread '{thread}' has ended or is ending: task '{task}' was not started"
            ),
        }
    }
}

impl std::error::Error for SlotError {}
