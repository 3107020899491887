//! [`ThreadCx`]: what a thread's methods and tasks use to act on the tree.

use std::ops::Deref;
use std::time::Duration;

use super::definition::TaskThread;
use super::handle::ThreadHandle;
use crate::{SlotError, TaskGroup, TaskSlot};

/// A thread's view of itself: its task slots, plus everything its [`ThreadHandle`] does
/// (it derefs to it): send to the parent, start, find and signal children, stop.
///
/// Cloning is cheap: a task keeps a clone to send to the parent or to start children.
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::{BoxError, TaskThread, ThreadCx};
///
/// struct Thermometer;
///
/// impl TaskThread for Thermometer {
///     type Signal = ();
///     type Output = f64; // a reading, in degrees
///     type ChildOutput = ();
///     fn id(&self) -> String { "thermometer".into() }
///
///     async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
///         // The task outlives `enter`, so it keeps a clone of its own.
///         let me = cx.clone();
///         cx.slot("read").re_create_fn(move |task| {
///             let me = me.clone();
///             async move {
///                 task.sleep(Duration::from_secs(1)).await;
///                 match me.send_to_parent(21.5).await {
///                     Ok(()) => {
///                         task.re_schedule();
///                     }
///                     // Readings nobody receives are wasted: end the thread, not just the task.
///                     Err(_) => me.stop(),
///                 }
///             }
///         }).await?;
///         Ok(())
///     }
/// }
/// ```
pub struct ThreadCx<T: TaskThread> {
    pub(crate) handle: ThreadHandle<T>,
}

impl<T: TaskThread> Clone for ThreadCx<T> {
    fn clone(&self) -> Self {
        ThreadCx {
            handle: self.handle.clone(),
        }
    }
}

impl<T: TaskThread> Deref for ThreadCx<T> {
    type Target = ThreadHandle<T>;

    fn deref(&self) -> &ThreadHandle<T> {
        &self.handle
    }
}

impl<T: TaskThread> ThreadCx<T> {
    /// The thread's task slots.
    pub fn tasks(&self) -> &TaskGroup {
        &self.handle.core.tasks
    }

    /// The thread's slot named `name` (the original's `self.tasks.name`).
    pub fn slot(&self, name: &str) -> TaskSlot {
        self.handle.core.tasks.slot(name)
    }

    /// A handle to this thread, to keep or to give away.
    pub fn handle(&self) -> &ThreadHandle<T> {
        &self.handle
    }

    /// Starts a task, in the slot `stop_after`, that stops this thread after `after` (the
    /// examples' `--seconds N`). Calling it again restarts the countdown.
    pub async fn stop_after(&self, after: Duration) -> Result<(), SlotError> {
        let thread = self.handle.clone();
        self.slot("stop_after")
            .re_create_fn(move |task| {
                let thread = thread.clone();
                async move {
                    task.sleep(after).await;
                    tracing::info!(thread = %thread.id(), "stopping after {after:?}");
                    thread.stop();
                }
            })
            .await
    }
}
