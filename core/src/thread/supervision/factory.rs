//! What a supervised child keeps across its incarnations: [`StartChild`], how it is
//! restarted and how a new incarnation is made and started, and [`Factory`], the one
//! allocation `spawn_supervised` makes of the user's factory, strategy and policy.

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use futures::FutureExt;

use super::policy::{RestartPolicy, Strategy};
use crate::group::lock;
use crate::thread::context::ThreadCx;
use crate::thread::definition::TaskThread;
use crate::thread::errors::ThreadError;

/// What a supervised child keeps across its incarnations: how it is restarted, and its
/// factory. Shared with a restart under way, which calls the factory with the parent's
/// lock let go (the factory is the user's code).
pub(crate) trait StartChild<T: TaskThread>: Send + Sync {
    fn strategy(&self) -> &Strategy;
    fn policy(&self) -> &RestartPolicy;
    /// Makes a new incarnation from the factory and starts it as a child of `cx`: `Ok`
    /// once it has entered. A factory that makes a thread of another id than `id` is an
    /// error, not a second child.
    fn start(&self, cx: &ThreadCx<T>, id: &Arc<str>)
        -> BoxFuture<'static, Result<(), ThreadError>>;
}

/// What `spawn_supervised` keeps of a child: its factory `F`, strategy and policy, in one
/// allocation, which is most of what supervising a child adds to its start.
pub(crate) struct Factory<F> {
    strategy: Strategy,
    policy: RestartPolicy,
    make: Mutex<F>,
}

impl<F> Factory<F> {
    pub(crate) fn new(strategy: Strategy, policy: RestartPolicy, factory: F) -> Arc<Self> {
        Arc::new(Factory {
            strategy,
            policy,
            make: Mutex::new(factory),
        })
    }

    /// A new incarnation.
    pub(crate) fn make<C>(&self) -> C
    where
        F: FnMut() -> C,
    {
        (lock(&self.make))()
    }
}

impl<T, C, F> StartChild<T> for Factory<F>
where
    T: TaskThread,
    C: TaskThread,
    C::Output: Into<T::ChildOutput>,
    F: FnMut() -> C + Send + 'static,
{
    fn strategy(&self) -> &Strategy {
        &self.strategy
    }

    fn policy(&self) -> &RestartPolicy {
        &self.policy
    }

    fn start(
        &self,
        cx: &ThreadCx<T>,
        id: &Arc<str>,
    ) -> BoxFuture<'static, Result<(), ThreadError>> {
        let child = self.make();
        let cx = cx.clone();
        let expected = id.clone();
        async move {
            let made = child.id();
            if *made != *expected {
                return Err(ThreadError::FactoryChangedId {
                    expected: expected.to_string(),
                    made,
                });
            }
            cx.spawn_child(child).await.map(drop)
        }
        .boxed()
    }
}
