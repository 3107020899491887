//! [`ChildRef`]: how a parent sees one of its children, whatever the child's type.

use std::any::TypeId;
use std::sync::Arc;

use crate::thread::definition::TaskThread;
use crate::thread::family::registry::AnyChild;
use crate::thread::handle::ThreadHandle;
use crate::thread::mailbox::Mailbox;
use crate::thread::supervision::RestartDecision;

/// One child of a thread, whatever its Rust type: its id and info, and its typed handle if
/// you know the type.
///
/// ```
/// use task_thread_core::{ChildRef, Flow, LeafThread, TaskThread, ThreadCx};
///
/// struct Master;
///
/// impl TaskThread for Master {
///     type Signal = ();
///     type Output = ();
///     type ChildOutput = String; // requests, from children of several types
///     fn id(&self) -> String { "master".into() }
///
///     async fn on_child_signal(
///         &mut self,
///         request: String,
///         child: &ChildRef,
///         _cx: &ThreadCx<Self>,
///     ) -> Flow {
///         tracing::info!("{} asks for {request}", child.id());
///         // Only a connection has a peer to answer; other children are just logged.
///         if let Some(connection) = child.handle::<Connection>() {
///             let _ = connection.send(format!("ok: {request}")).await;
///         }
///         Flow::Continue
///     }
/// }
///
/// # struct Connection;
/// # impl LeafThread for Connection {
/// #     type Signal = String;
/// #     type Output = String;
/// #     fn id(&self) -> String { "connection".into() }
/// # }
/// ```
#[derive(Clone)]
pub struct ChildRef {
    pub(crate) child: Arc<dyn AnyChild>,
}

impl ChildRef {
    /// The child's id.
    #[must_use]
    pub fn id(&self) -> &str {
        self.child.core().id()
    }

    /// The child's info.
    #[must_use]
    pub fn info(&self) -> &str {
        self.child.core().info()
    }

    /// What the parent decided about this child's end: `Some` in
    /// [`on_child_ended`](TaskThread::on_child_ended) for a child started with
    /// [`spawn_supervised`](crate::ThreadCx::spawn_supervised), `None` otherwise.
    #[must_use]
    pub fn restart(&self) -> Option<RestartDecision> {
        self.child.core().restart_decision()
    }

    /// Whether the child is a `C`.
    #[must_use]
    pub fn is<C: TaskThread>(&self) -> bool {
        self.child.thread_type() == TypeId::of::<C>()
    }

    /// The child's typed handle, if it is a `C`.
    #[must_use]
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
    let mailbox = mailbox_of::<C>(child)?;
    Some(ThreadHandle {
        core: mailbox.core.clone(),
        mailbox,
    })
}

/// The mailbox of a registered child, if it is a `C`.
pub(crate) fn mailbox_of<C: TaskThread>(child: &Arc<dyn AnyChild>) -> Option<Arc<Mailbox<C>>> {
    if child.thread_type() != TypeId::of::<C>() {
        return None;
    }
    child.clone().into_any().downcast::<Mailbox<C>>().ok()
}
