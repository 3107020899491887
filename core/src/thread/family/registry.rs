//! A thread's registry of children: each is known by its id, whatever its thread type.

use std::any::{Any, TypeId};
use std::sync::Arc;

use crate::id_map::IdMap;
use crate::thread::life::thread_core::ThreadCore;
use crate::thread::report::{EndedChildren, NotKept, ThreadReport};
use crate::thread::snapshot::taking::Observed;

/// The children by id, and the supervisor of those started with a restart policy:
/// allocated by the first child, as most threads are leaves.
#[derive(Default)]
pub(crate) struct Registry(Option<Box<Family>>);

#[derive(Default)]
struct Family {
    children: ChildrenById,
    /// The parent's `Supervisor<T>`, typed by the parent's thread type, which the core
    /// does not know.
    supervisor: Option<Box<dyn Any + Send>>,
    /// The reports of the children that have ended.
    ended: EndedChildren,
}

pub(crate) type ChildrenById = IdMap<Arc<dyn AnyChild>>;

impl Registry {
    pub(crate) fn get(&self, id: &str) -> Option<&Arc<dyn AnyChild>> {
        self.0.as_ref()?.children.get(id)
    }

    pub(crate) fn insert(&mut self, id: Arc<str>, child: Arc<dyn AnyChild>) {
        let family = self.0.get_or_insert_with(Default::default);
        family.children.insert(id, child);
    }

    pub(crate) fn remove(&mut self, id: &str) {
        if let Some(family) = &mut self.0 {
            family.children.remove(id);
        }
    }

    /// The supervisor, made an `S` if there is none yet; `None` if it is not an `S`.
    pub(crate) fn supervisor_or_new<S: Any + Send + Default>(&mut self) -> Option<&mut S> {
        let family = self.0.get_or_insert_with(Default::default);
        let supervisor = family
            .supervisor
            .get_or_insert_with(|| Box::new(S::default()));
        supervisor.downcast_mut::<S>()
    }

    /// The supervisor, if there is one, and the children by id, together.
    pub(crate) fn supervisor_and_children<S: Any + Send>(
        &mut self,
    ) -> Option<(&mut S, &ChildrenById)> {
        let family = &mut **self.0.as_mut()?;
        let supervisor = family.supervisor.as_mut()?.downcast_mut::<S>()?;
        Some((supervisor, &family.children))
    }

    /// The record of the children that have ended.
    pub(crate) fn ended_children(&mut self) -> &mut EndedChildren {
        &mut self.0.get_or_insert_with(Default::default).ended
    }

    /// The kept reports of the ended children, and the count of the others.
    pub(crate) fn ended_snapshot(&self) -> (Vec<Arc<ThreadReport>>, NotKept) {
        match &self.0 {
            Some(family) => family.ended.snapshot(),
            None => (Vec::new(), NotKept::default()),
        }
    }

    /// Takes the supervisor out, to be dropped outside the lock (its factories are the
    /// user's, and may hold anything).
    pub(crate) fn take_supervisor(&mut self) -> Option<Box<dyn Any + Send>> {
        self.0.as_mut()?.supervisor.take()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |family| family.children.len())
    }

    /// The children, in the map's order (see [`in_memory_order`]).
    pub(crate) fn list(&self) -> Vec<Arc<dyn AnyChild>> {
        self.filter_map(|child| Some(child.clone()))
    }

    /// What `f` makes of each child, where it makes something (in the map's order).
    pub(crate) fn filter_map<R>(&self, f: impl FnMut(&Arc<dyn AnyChild>) -> Option<R>) -> Vec<R> {
        let children = self.0.iter().flat_map(|family| family.children.values());
        children.filter_map(f).collect()
    }
}

/// Puts a list of children in the order of their state in memory, which is about the order
/// they started in: a cascade walks its list several times over (terminate each, then each
/// runs and ends), and in this order each walk through memory is one the caches and the TLB
/// follow; in the map's (hash) order every child's state was a fresh miss (case 4, 10,000
/// children: the stop 1.7x slower). Sorted by the address the list's own pointers hold
/// (each child's mailbox, allocated right after its core), so that sorting reads nothing of
/// the children; and after the registry's lock is let go, so that a million children's
/// sort holds up no child leaving it.
pub(crate) fn in_memory_order(children: &mut [Arc<dyn AnyChild>]) {
    children.sort_unstable_by_key(|child| Arc::as_ptr(child).cast::<()>().addr());
}

/// A registered child, whatever its thread type; a snapshot reads it as [`Observed`].
pub(crate) trait AnyChild: Observed + Send + Sync + 'static {
    fn core(&self) -> &Arc<ThreadCore>;
    fn thread_type(&self) -> TypeId;
    /// The child's mailbox, for downcasting to its type.
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}
