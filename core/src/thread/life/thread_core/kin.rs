//! A thread's kin, as its core keeps them: the parent it reports to (held weakly: a
//! parent holds its children) and its registry of children, which the shutdown cascade
//! closes and empties.

use std::sync::{Arc, Weak};

use super::{counting, ThreadCore};
use crate::group::lock;
use crate::notify::{notify_all, wait_for};
use crate::thread::family::registry::{in_memory_order, AnyChild, Registry};

impl ThreadCore {
    /// Records `parent` as this thread's parent; false if it already had one.
    pub(crate) fn claim_parent(&self, parent: &Arc<ThreadCore>) -> bool {
        let mut state = lock(&self.state);
        if state.parent.is_some() {
            return false;
        }
        state.parent = Some(Arc::downgrade(parent));
        true
    }

    /// The id of the parent recorded by `claim_parent`, while the parent lives.
    pub(crate) fn parent_id(&self) -> Option<String> {
        let parent = lock(&self.state).parent.as_ref().and_then(Weak::upgrade);
        parent.map(|parent| parent.id().to_string())
    }

    /// Forgets the parent recorded by `claim_parent` (the parent refused the child).
    pub(crate) fn release_parent(&self) {
        lock(&self.state).parent = None;
    }

    /// Whether `other` is this thread or one of its ancestors.
    pub(crate) fn is_or_descends_from(self: &Arc<Self>, other: &Arc<ThreadCore>) -> bool {
        let mut current = Some(self.clone());
        while let Some(core) = current {
            if Arc::ptr_eq(&core, other) {
                return true;
            }
            current = lock(&core.state)
                .parent
                .as_ref()
                .and_then(std::sync::Weak::upgrade);
        }
        false
    }

    /// Registers a child, and runs `along` on the registry under the same lock (a
    /// supervised child's entry goes into the supervisor with it); `Err` names why not
    /// (the caller terminates the child).
    pub(crate) fn insert_child<R>(
        &self,
        child: Arc<dyn AnyChild>,
        along: impl FnOnce(&mut Registry, &Arc<str>) -> Result<(), R>,
    ) -> Result<(), InsertRefused<R>> {
        // Declared after `along`, so dropped before it: a refused `along` (a supervised
        // child's factory, the user's) is dropped with the lock let go.
        let mut state = lock(&self.state);
        if !state.running {
            return Err(InsertRefused::ShuttingDown);
        }
        let id = child.core().id();
        if state.children.get(id).is_some() {
            return Err(InsertRefused::Duplicate);
        }
        along(&mut state.children, id).map_err(InsertRefused::Along)?;
        state.children.insert(id.clone(), child);
        drop(state);
        counting::bump(&self.counts().children_started);
        Ok(())
    }

    /// Removes `child` from the registry, if it is the child registered under its id.
    pub(crate) fn remove_child(&self, child: &Arc<ThreadCore>) {
        let mut state = lock(&self.state);
        if let Some(registered) = state.children.get(child.id()) {
            if Arc::ptr_eq(registered.core(), child) {
                state.children.remove(child.id());
                counting::bump(&self.counts().children_ended);
            }
        }
        let last = state.children.is_empty();
        drop(state);
        if last {
            notify_all(&self.children_gone);
        }
    }

    /// Completes when no child is registered any more: each leaves when it has ended. One
    /// wait for the whole registry, where a join per child would make a listener each.
    pub(crate) async fn children_gone(&self) {
        let gone = || lock(&self.state).children.is_empty().then_some(());
        wait_for(&self.children_gone, gone).await
    }

    pub(crate) fn child_count(&self) -> usize {
        lock(&self.state).children.len()
    }

    /// The children, in the order of their state in memory (see [`in_memory_order`]).
    pub(crate) fn children(&self) -> Vec<Arc<dyn AnyChild>> {
        let mut children = lock(&self.state).children.list();
        in_memory_order(&mut children);
        children
    }

    /// What `f` makes of each child (where it makes something), made under the registry's
    /// lock: `f` must be short and must not reach this thread's state. One pass, where
    /// listing the children first cloned each twice (a reference count on a cold line per
    /// child, twice, and the list).
    pub(crate) fn children_filter_map<R>(
        &self,
        f: impl FnMut(&Arc<dyn AnyChild>) -> Option<R>,
    ) -> Vec<R> {
        lock(&self.state).children.filter_map(f)
    }

    pub(crate) fn find_child(&self, id: &str) -> Option<Arc<dyn AnyChild>> {
        lock(&self.state).children.get(id).cloned()
    }

    /// Stops taking children and lists them. They stay registered until each ends, so that
    /// forcing this thread still reaches every one of them.
    pub(crate) fn close_children(&self) -> Vec<Arc<dyn AnyChild>> {
        self.close_registry();
        self.children()
    }

    /// Stops taking children: the registry only shrinks from now on, each child leaving
    /// as it ends.
    pub(crate) fn close_registry(&self) {
        let mut state = lock(&self.state);
        state.running = false;
        // No child is restarted from now on; the factories go (outside the lock).
        let supervisor = state.children.take_supervisor();
        drop(state);
        drop(supervisor);
    }
}

/// Why a child was not registered; `R` is what the registration's `along` refused with.
pub(crate) enum InsertRefused<R> {
    ShuttingDown,
    Duplicate,
    Along(R),
}
