//! A thread's registry of children: each is known by its id, whatever its thread type.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use crate::thread::life::thread_core::ThreadCore;

/// The children by id, allocated by the first child: most threads are leaves.
#[derive(Default)]
pub(crate) struct Registry(Option<Box<ChildrenById>>);

type ChildrenById = HashMap<Arc<str>, Arc<dyn AnyChild>>;

impl Registry {
    pub(crate) fn get(&self, id: &str) -> Option<&Arc<dyn AnyChild>> {
        self.0.as_ref()?.get(id)
    }

    pub(crate) fn insert(&mut self, id: Arc<str>, child: Arc<dyn AnyChild>) {
        self.0
            .get_or_insert_with(Default::default)
            .insert(id, child);
    }

    pub(crate) fn remove(&mut self, id: &str) {
        if let Some(children) = &mut self.0 {
            children.remove(id);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |children| children.len())
    }

    pub(crate) fn list(&self) -> Vec<Arc<dyn AnyChild>> {
        let children = self.0.iter().flat_map(|children| children.values());
        children.cloned().collect()
    }
}

/// A registered child, whatever its thread type.
pub(crate) trait AnyChild: Send + Sync + 'static {
    fn core(&self) -> &Arc<ThreadCore>;
    fn thread_type(&self) -> TypeId;
    /// The child's mailbox, for downcasting to its type.
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}
