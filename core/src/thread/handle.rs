//! [`ThreadHandle`]: what the rest of the program holds of a running thread.

use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use futures::FutureExt;

use super::children::ChildRef;
use super::core::{AnyChild, ThreadCore};
use super::definition::{TaskThread, ThreadEnd};
use super::errors::SendError;
use crate::group::lock;

/// Where a child's output goes: its parent's queue of child signals, and its parent's
/// notice of ended children.
pub(crate) struct ParentLink<M> {
    pub(crate) signals: async_channel::Sender<(ChildRef, M)>,
    pub(crate) ended: async_channel::Sender<(ChildRef, ThreadEnd)>,
    pub(crate) parent: std::sync::Weak<ThreadCore>,
    pub(crate) me: ChildRef,
}

/// A cloneable handle to a running thread of type `T`.
///
/// Contract:
/// - [`send`](Self::send) queues a signal for the thread's
///   [`on_signal`](TaskThread::on_signal), waiting for room if the queue is full; a thread
///   that has ended hands the signal back in [`SendError::Ended`], also to a sender that was
///   waiting for room when it ended;
/// - [`terminate`](Self::terminate) ends the signal loop ahead of queued signals, even if the
///   loop has not started yet; the thread then runs `exit`, deletes its tasks and terminates
///   its children (all together), and [`join`](Self::join) returns;
/// - [`join`](Self::join) can be awaited by any number of waiters, before or after the end,
///   and returns the same [`ThreadEnd`] to each.
pub struct ThreadHandle<T: TaskThread> {
    pub(crate) core: Arc<ThreadCore>,
    pub(crate) signals: async_channel::Sender<T::Signal>,
    pub(crate) parent: Arc<Mutex<Option<ParentLink<T::Output>>>>,
}

impl<T: TaskThread> Clone for ThreadHandle<T> {
    fn clone(&self) -> Self {
        ThreadHandle {
            core: self.core.clone(),
            signals: self.signals.clone(),
            parent: self.parent.clone(),
        }
    }
}

impl<T: TaskThread> ThreadHandle<T> {
    /// The thread's id.
    pub fn id(&self) -> &str {
        &self.core.id
    }

    /// The thread's info.
    pub fn info(&self) -> &str {
        &self.core.info
    }

    /// Sends `signal` to the thread (the original's `insertSignal`), waiting for room.
    #[doc(alias = "insertSignal")]
    pub async fn send(&self, signal: T::Signal) -> Result<(), SendError<T::Signal>> {
        self.signals
            .send(signal)
            .await
            .map_err(|refused| SendError::Ended(refused.into_inner()))
    }

    /// Ends the thread: see the type's contract. Idempotent.
    pub fn terminate(&self) {
        self.core.terminate(None);
    }

    /// Waits for the thread's end, shutdown included.
    pub async fn join(&self) -> ThreadEnd {
        self.core.join().await
    }

    /// How the thread ended, or `None` while it runs.
    pub fn end(&self) -> Option<ThreadEnd> {
        self.core.end()
    }

    /// The number of live tasks in the thread's slots.
    pub fn live_tasks(&self) -> usize {
        self.core.tasks.live_tasks()
    }

    /// The ids of the thread's children.
    pub fn child_ids(&self) -> Vec<String> {
        self.core
            .children()
            .iter()
            .map(|c| c.core().id.to_string())
            .collect()
    }

    /// The child with this id, whatever its type.
    pub fn find_child(&self, id: &str) -> Option<ChildRef> {
        self.core.find_child(id).map(|child| ChildRef { child })
    }

    pub(crate) fn child_ref(&self) -> ChildRef {
        ChildRef {
            child: Arc::new(self.clone()),
        }
    }

    pub(crate) fn set_parent(&self, link: ParentLink<T::Output>) {
        *lock(&self.parent) = Some(link);
    }
}

impl<T: TaskThread> std::fmt::Debug for ThreadHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadHandle")
            .field("id", &self.id())
            .finish()
    }
}

impl<C: TaskThread> AnyChild for ThreadHandle<C> {
    fn core(&self) -> &Arc<ThreadCore> {
        &self.core
    }

    fn thread_type(&self) -> TypeId {
        TypeId::of::<C>()
    }

    fn signal_type(&self) -> TypeId {
        TypeId::of::<C::Signal>()
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        self
    }

    fn send_any(
        &self,
        signal: Box<dyn Any + Send>,
    ) -> BoxFuture<'static, Result<(), Box<dyn Any + Send>>> {
        let signals = self.signals.clone();
        async move {
            let signal = signal.downcast::<C::Signal>()?;
            signals
                .send(*signal)
                .await
                .map_err(|refused| Box::new(refused.into_inner()) as Box<dyn Any + Send>)
        }
        .boxed()
    }
}
