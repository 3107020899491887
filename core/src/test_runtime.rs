//! A runtime for core's unit tests: each spawn goes to a closure the test gives (to park,
//! refuse or interfere with the task); sleeps and the shutdown signal never complete; a
//! yield wakes the task at once.

use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;

use crate::{RawOutput, RawTask, ShutdownSignal, Spawner};

/// A [`Spawner`] whose `spawn_raw` is `spawn`.
pub(crate) struct TestRuntime<S> {
    pub(crate) name: &'static str,
    pub(crate) spawn: S,
}

impl<S> Spawner for TestRuntime<S>
where
    S: Fn(BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> + Send + Sync + 'static,
{
    fn name(&self) -> &'static str {
        self.name
    }
    fn spawn_raw(&self, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        (self.spawn)(future)
    }
    fn sleep(&self, _duration: Duration) -> BoxFuture<'static, ()> {
        futures::future::pending().boxed()
    }
    fn defer_wake(&self, waker: &std::task::Waker) {
        waker.wake_by_ref();
    }
    fn shutdown_signal(&self) -> BoxFuture<'static, std::io::Result<ShutdownSignal>> {
        futures::future::pending().boxed()
    }
}
