//! [`ThreadCx`]: what a thread's methods and tasks use to act on the tree.

use std::any::{Any, TypeId};
use std::sync::Arc;

use super::children::ChildRef;
use super::core::{InsertRefused, ThreadCore};
use super::definition::{TaskThread, ThreadEnd};
use super::errors::{SendError, ThreadError};
use super::handle::{ParentLink, ThreadHandle};
use super::signal_loop;
use crate::group::lock;
use crate::{Runtime, TaskGroup, TaskSlot};

/// A thread's view of itself and of its neighbours: its task slots, its parent, its
/// children. Cloning is cheap: tasks keep a clone to send to the parent or start children.
pub struct ThreadCx<T: TaskThread> {
    pub(crate) me: ThreadHandle<T>,
    pub(crate) child_signals: async_channel::Sender<(ChildRef, T::ChildOutput)>,
    pub(crate) child_ended: async_channel::Sender<(ChildRef, ThreadEnd)>,
}

impl<T: TaskThread> Clone for ThreadCx<T> {
    fn clone(&self) -> Self {
        ThreadCx {
            me: self.me.clone(),
            child_signals: self.child_signals.clone(),
            child_ended: self.child_ended.clone(),
        }
    }
}

impl<T: TaskThread> ThreadCx<T> {
    fn core(&self) -> &Arc<ThreadCore> {
        &self.me.core
    }

    /// This thread's id.
    pub fn id(&self) -> &str {
        &self.core().id
    }

    /// The runtime the thread runs on.
    pub fn runtime(&self) -> &Runtime {
        &self.core().runtime
    }

    /// The thread's task slots.
    pub fn tasks(&self) -> &TaskGroup {
        &self.core().tasks
    }

    /// The thread's slot named `name` (the original's `self.tasks.name`).
    pub fn slot(&self, name: &str) -> TaskSlot {
        self.core().tasks.slot(name)
    }

    /// A handle to this thread itself.
    pub fn handle(&self) -> &ThreadHandle<T> {
        &self.me
    }

    /// Ends this thread, as if its parent terminated it; a child then leaves its parent's
    /// registry and the parent is told through `on_child_ended`.
    pub fn stop(&self) {
        self.core().terminate(None);
    }

    /// Sends `output` to the parent's `on_child_signal`, waiting for room in its queue.
    pub async fn send_to_parent(&self, output: T::Output) -> Result<(), SendError<T::Output>> {
        let link = lock(&self.me.parent)
            .as_ref()
            .map(|link| (link.signals.clone(), link.me.clone()));
        let Some((signals, me)) = link else {
            return Err(SendError::NoParent(output));
        };
        signals
            .send((me, output))
            .await
            .map_err(|refused| SendError::Ended(refused.into_inner().1))
    }

    /// Starts `child` and adds it as a child of this thread: returns once the child has
    /// entered and its signal loop runs. If the child cannot be added it is terminated.
    pub async fn spawn_child<C>(&self, child: C) -> Result<ThreadHandle<C>, ThreadError>
    where
        C: TaskThread<Output = T::ChildOutput>,
    {
        if !self.core().is_running() {
            return Err(ThreadError::ParentShuttingDown {
                parent: self.id().to_owned(),
            });
        }
        let handle = signal_loop::start(self.runtime().clone(), child).await?;
        self.add_child(&handle)?;
        Ok(handle)
    }

    /// Adds a running thread as a child of this one (the two-step form of
    /// [`spawn_child`](Self::spawn_child)). A child that already has a parent is refused and
    /// left alone; a child refused for another reason is terminated, so none is orphaned.
    pub fn add_child<C>(&self, child: &ThreadHandle<C>) -> Result<(), ThreadError>
    where
        C: TaskThread<Output = T::ChildOutput>,
    {
        if !child.core.claim_parent() {
            return Err(ThreadError::AlreadyHasParent {
                child: child.id().to_owned(),
            });
        }
        let me = child.child_ref();
        child.set_parent(ParentLink {
            signals: self.child_signals.clone(),
            ended: self.child_ended.clone(),
            parent: Arc::downgrade(self.core()),
            me: me.clone(),
        });
        match self.core().insert_child(me.child) {
            Ok(()) => Ok(()),
            Err(refused) => {
                child.terminate();
                Err(match refused {
                    InsertRefused::ShuttingDown => ThreadError::ParentShuttingDown {
                        parent: self.id().to_owned(),
                    },
                    InsertRefused::Duplicate => ThreadError::DuplicateId {
                        child: child.id().to_owned(),
                    },
                })
            }
        }
    }

    /// The ids of the children (in no particular order).
    #[doc(alias = "getChildIds")]
    pub fn child_ids(&self) -> Vec<String> {
        self.me.child_ids()
    }

    /// The ids of the children of type `C`.
    pub fn child_ids_of<C: TaskThread>(&self) -> Vec<String> {
        self.children_of::<C>()
            .iter()
            .map(|c| c.id().to_owned())
            .collect()
    }

    /// The child with this id, whatever its type.
    #[doc(alias = "findChild")]
    pub fn find_child(&self, id: &str) -> Option<ChildRef> {
        self.me.find_child(id)
    }

    /// The child with this id if it is a `C`.
    pub fn find_child_of<C: TaskThread>(&self, id: &str) -> Option<ThreadHandle<C>> {
        self.find_child(id)?.handle::<C>()
    }

    /// Every child of type `C`.
    pub fn children_of<C: TaskThread>(&self) -> Vec<ThreadHandle<C>> {
        self.core()
            .children()
            .iter()
            .filter_map(|child| child.as_any().downcast_ref::<ThreadHandle<C>>().cloned())
            .collect()
    }

    /// Sends `signal` to the child `id`, which must accept signals of type `S`.
    #[doc(alias = "sigFromParentToChild__")]
    pub async fn send_to_child<S: Send + 'static>(
        &self,
        id: &str,
        signal: S,
    ) -> Result<(), SendError<S>> {
        let Some(child) = self.core().find_child(id) else {
            return Err(SendError::NoSuchChild(signal));
        };
        if child.signal_type() != TypeId::of::<S>() {
            return Err(SendError::NoSuchChild(signal));
        }
        child
            .send_any(Box::new(signal))
            .await
            .map_err(|back| SendError::Ended(unbox(back)))
    }

    /// Sends a clone of `signal` to every child that accepts signals of type `S`; returns
    /// the ids of those that had ended meanwhile (and so got nothing).
    pub async fn send_to_children<S: Clone + Send + 'static>(&self, signal: S) -> Vec<String> {
        let mut missed = Vec::new();
        for child in self.core().children() {
            if child.signal_type() == TypeId::of::<S>()
                && child.send_any(Box::new(signal.clone())).await.is_err()
            {
                missed.push(child.core().id.to_string());
            }
        }
        missed
    }
}

fn unbox<S: 'static>(signal: Box<dyn Any + Send>) -> S {
    *signal
        .downcast::<S>()
        .expect("a child hands back the signal it was sent")
}
