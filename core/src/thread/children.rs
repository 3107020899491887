//! [`ChildRef`]: how a parent sees one of its children, whatever the child's type.

use std::any::{Any, TypeId};
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;

use super::core::{AnyChild, ThreadCore};
use super::definition::TaskThread;
use super::errors::SendError;
use super::handle::ThreadHandle;

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
        &self.child.core().info
    }

    /// Whether the child is a `C`.
    pub fn is<C: TaskThread>(&self) -> bool {
        self.child.thread_type() == TypeId::of::<C>()
    }

    /// The child's typed handle, if it is a `C`.
    pub fn handle<C: TaskThread>(&self) -> Option<ThreadHandle<C>> {
        self.child
            .as_any()
            .downcast_ref::<ThreadHandle<C>>()
            .cloned()
    }
}

impl std::fmt::Debug for ChildRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildRef").field("id", &self.id()).finish()
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
    ) -> BoxFuture<'static, Result<(), SendError<Box<dyn Any + Send>>>> {
        let child = self.clone();
        async move {
            let signal = signal
                .downcast::<C::Signal>()
                .map_err(SendError::NoSuchChild)?;
            child
                .send(*signal)
                .await
                .map_err(|error| error.map(|s| Box::new(s) as Box<dyn Any + Send>))
        }
        .boxed()
    }
}
