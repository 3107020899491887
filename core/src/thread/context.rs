//! [`ThreadCx`]: what a thread's methods and tasks use to act on the tree.

use std::ops::Deref;

use super::definition::TaskThread;
use super::handle::ThreadHandle;
use crate::{TaskGroup, TaskSlot};

/// A thread's view of itself: its task slots, plus everything its [`ThreadHandle`] does
/// (it derefs to it): send to the parent, start, find and signal children, stop.
///
/// Cloning is cheap: a task keeps a clone to send to the parent or to start children.
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
}
