//! [`ChildRef`]: how a parent sees one of its children, whatever the child's type.

use std::any::TypeId;
use std::sync::Arc;

use super::definition::TaskThread;
use super::handle::ThreadHandle;
use super::mailbox::Mailbox;
use super::registry::AnyChild;

/// One child of a thread, whatever its Rust type: its id and info, and its typed handle if
/// you know the type.
#[derive(Clone)]
pub struct ChildRef {
    pub(crate) child: Arc<dyn AnyChild>,
}

impl ChildRef {
    /// The child's id.
    pub fn id(&self) -> &str {
        &self.child.core().id
    }

    /// The child's info.
    pub fn info(&self) -> &str {
        self.child.core().info()
    }

    /// Whether the child is a `C`.
    pub fn is<C: TaskThread>(&self) -> bool {
        self.child.thread_type() == TypeId::of::<C>()
    }

    /// The child's typed handle, if it is a `C`.
    pub fn handle<C: TaskThread>(&self) -> Option<ThreadHandle<C>> {
        handle_of(&self.child)
    }
}

impl std::fmt::Debug for ChildRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildRef").field("id", &self.id()).finish()
    }
}

/// The typed handle of a registered child, if it is a `C`.
pub(crate) fn handle_of<C: TaskThread>(child: &Arc<dyn AnyChild>) -> Option<ThreadHandle<C>> {
    if child.thread_type() != TypeId::of::<C>() {
        return None;
    }
    let mailbox = child.clone().into_any().downcast::<Mailbox<C>>().ok()?;
    Some(ThreadHandle {
        core: mailbox.core.clone(),
        mailbox,
    })
}
