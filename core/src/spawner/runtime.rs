//! [`Runtime`]: the cloneable handle to a running runtime that everything in task-thread
//! takes, itself a [`Spawner`] forwarding to the backend's.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{BlockingWork, RawOutput, RawTask, ShutdownSignal, Spawner};

/// A cheap, cloneable handle to a running runtime: an `Arc<dyn Spawner>`.
///
/// Everything in task-thread takes a `Runtime`, so user code never names a runtime; a
/// backend's [`Backend::block_on`](crate::Backend::block_on) hands one to the program's
/// main future.
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::{Runtime, Spawner, SpawnerExt};
///
/// // A clone goes into the task: each clone is the same runtime.
/// async fn tick_later(rt: &Runtime) {
///     let timer = rt.clone();
///     let ticking = rt.spawn(async move {
///         timer.sleep(Duration::from_millis(10)).await;
///         "tick"
///     });
///     assert_eq!(ticking.await.unwrap(), "tick");
/// }
/// ```
#[derive(Clone)]
pub struct Runtime(Arc<dyn Spawner>);

impl Runtime {
    /// Wraps a backend's spawner.
    pub fn new(spawner: impl Spawner) -> Self {
        Runtime(Arc::new(spawner))
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Runtime").field(&self.0.name()).finish()
    }
}

impl Spawner for Runtime {
    #[inline]
    fn name(&self) -> &'static str {
        self.0.name()
    }
    #[inline]
    fn spawn_raw(&self, future: BoxFuture<'static, RawOutput>) -> Box<dyn RawTask> {
        self.0.spawn_raw(future)
    }
    #[inline]
    fn spawn_named_raw(
        &self,
        name: fmt::Arguments<'_>,
        future: BoxFuture<'static, RawOutput>,
    ) -> Box<dyn RawTask> {
        self.0.spawn_named_raw(name, future)
    }
    #[inline]
    fn spawn_named_detached(
        &self,
        name: fmt::Arguments<'_>,
        future: BoxFuture<'static, RawOutput>,
    ) {
        self.0.spawn_named_detached(name, future);
    }
    #[inline]
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.0.sleep(duration)
    }
    #[inline]
    fn defer_wake(&self, waker: &Waker) {
        self.0.defer_wake(waker);
    }
    #[inline]
    fn shutdown_signal(&self) -> BoxFuture<'static, io::Result<ShutdownSignal>> {
        self.0.shutdown_signal()
    }
    #[inline]
    fn spawn_blocking(&self, name: &str, work: BlockingWork) -> io::Result<()> {
        self.0.spawn_blocking(name, work)
    }
}
