//! [`ThreadCx`]: the thread itself, as its own methods and tasks act on the tree. Its
//! operations on its parent and children are in `family`.

use std::time::Duration;

use super::definition::TaskThread;
use super::handle::ThreadHandle;
use crate::{ShutdownNotice, SlotError, Spawner, TaskGroup, TaskSlot};

/// A thread's view of itself: its task slots, its parent and children, its end. The library
/// hands it to the thread's own methods (and its tasks reach it through their
/// [`TaskCx`](crate::TaskCx)); the rest of the program holds a [`ThreadHandle`], which can
/// only do what an outsider may (see [`handle`](Self::handle)).
///
/// Cloning is cheap: two reference counts.
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::{BoxError, LeafThread, ThreadCx};
///
/// struct Thermometer;
///
/// impl LeafThread for Thermometer {
///     type Signal = ();
///     type Output = f64; // a reading, in degrees
///     fn id(&self) -> String { "thermometer".into() }
///
///     async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
///         cx.slot("read").re_create_fn(|task| async move {
///             task.sleep(Duration::from_secs(1)).await;
///             // The task reaches its thread through its own context.
///             match task.thread().send_to_parent(21.5).await {
///                 Ok(()) => {
///                     task.re_schedule();
///                 }
///                 // Readings nobody receives are wasted: end the thread, not just the task.
///                 Err(_) => task.thread().handle().terminate(),
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

impl<T: TaskThread> ThreadCx<T> {
    /// The thread's id.
    #[must_use]
    pub fn id(&self) -> &str {
        self.handle.id()
    }

    /// The thread's info.
    #[must_use]
    pub fn info(&self) -> &str {
        self.handle.info()
    }

    /// The runtime the thread runs on.
    #[must_use]
    pub fn runtime(&self) -> &crate::Runtime {
        self.handle.runtime()
    }

    /// The thread's task slots.
    #[must_use]
    pub fn tasks(&self) -> &TaskGroup {
        &self.handle.core.tasks
    }

    /// The thread's slot named `name` (the original's `self.tasks.name`). Its tasks reach
    /// this thread through [`TaskCx::thread`](crate::TaskCx::thread).
    #[must_use]
    pub fn slot(&self, name: &str) -> TaskSlot<T> {
        self.handle.core.tasks.slot(name).of_thread(self)
    }

    /// The outside view of this thread, to give away: to a peer that sends it signals, to
    /// code that may terminate or join it. It cannot act as the thread.
    #[must_use]
    pub fn handle(&self) -> &ThreadHandle<T> {
        &self.handle
    }

    /// A snapshot of this thread and its live subtree (see
    /// [`ThreadHandle::snapshot`]); a handler may log it, or send it to whoever asked.
    ///
    /// ```
    /// use task_thread_core::{Flow, LeafThread, ThreadCx};
    ///
    /// struct Pool;
    /// impl LeafThread for Pool {
    ///     type Signal = &'static str;
    ///     type Output = ();
    ///     async fn on_signal(&mut self, command: &'static str, cx: &ThreadCx<Self>) -> Flow {
    ///         if command == "status" {
    ///             tracing::info!("\n{}", cx.snapshot());
    ///         }
    ///         Flow::Continue
    ///     }
    /// }
    /// ```
    #[must_use]
    pub fn snapshot(&self) -> crate::ThreadSnapshot {
        self.handle.snapshot()
    }

    /// Whether this thread's shutdown notice has fired: the thread is ending (see
    /// [`shutting_down`](Self::shutting_down)). One atomic load.
    pub fn is_shutting_down(&self) -> bool {
        self.handle.core.tasks.shared.notice.has_fired()
    }

    /// This thread's shutdown notice, as a future that completes once the thread's
    /// shutdown has begun: its loop has taken a terminate or a task's failure (a handler
    /// still running sees it then), a handler returned [`Flow::Stop`](super::Flow::Stop),
    /// or `enter` failed. The thread's tasks see the same notice through their
    /// [`TaskCx`](crate::TaskCx); see [`ShutdownNotice`] for the contract.
    ///
    /// ```
    /// use futures::future::{select, Either};
    /// use task_thread_core::{Flow, LeafThread, ThreadCx};
    ///
    /// struct Importer;
    ///
    /// impl LeafThread for Importer {
    ///     type Signal = Vec<String>; // a batch of files to import
    ///     type Output = ();
    ///     fn id(&self) -> String { "importer".into() }
    ///
    ///     async fn on_signal(&mut self, files: Vec<String>, cx: &ThreadCx<Self>) -> Flow {
    ///         for file in files {
    ///             // A terminate while the batch runs: finish this file, leave the rest.
    ///             if cx.is_shutting_down() {
    ///                 tracing::warn!("import cut short before {file}");
    ///                 break;
    ///             }
    ///             let import = Box::pin(async { tracing::info!("importing {file}") });
    ///             if let Either::Right(_) = select(import, cx.shutting_down()).await {
    ///                 tracing::warn!("{file}: abandoned at the shutdown");
    ///                 break;
    ///             }
    ///         }
    ///         Flow::Continue
    ///     }
    /// }
    /// ```
    pub fn shutting_down(&self) -> ShutdownNotice {
        ShutdownNotice::new(self.handle.core.tasks.shared.clone())
    }

    /// Starts a task, in the slot `stop_after`, that terminates this thread after `after`
    /// (the examples' `--seconds N`). Calling it again restarts the countdown. The slot is
    /// [cancelled at once](TaskSlot::cancel_at_once) when the thread's shutdown begins.
    pub async fn stop_after(&self, after: Duration) -> Result<(), SlotError> {
        self.slot("stop_after")
            .cancel_at_once()
            .re_create_fn(move |task| async move {
                // The whole countdown: a sleep the notice would cut short would stop a
                // thread that is stopping already, and say so.
                task.runtime().sleep(after).await;
                tracing::info!(thread = %task.thread_id(), "stopping after {after:?}");
                task.thread().handle().terminate();
            })
            .await
    }
}

impl<T: TaskThread> std::fmt::Debug for ThreadCx<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadCx").field("id", &self.id()).finish()
    }
}
