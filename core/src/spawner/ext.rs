//! [`SpawnerExt`]: the typed helpers every [`Spawner`] gets (spawn a typed future, yield
//! once, run under a timeout), and the future and error they return.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::contained::catch_panic;
use super::Spawner;
use crate::join::JoinHandle;

/// Typed helpers over any [`Spawner`], including `dyn Spawner` and [`Runtime`](crate::Runtime).
///
/// ```
/// use task_thread_core::{JoinError, Runtime, SpawnerExt};
///
/// async fn sum_elsewhere(rt: &Runtime) -> Result<u64, JoinError> {
///     let task = rt.spawn(async { (1..=10).sum::<u64>() });
///     task.await
/// }
/// ```
pub trait SpawnerExt: Spawner {
    /// Spawns `future` and returns a handle to await its value or cancel it.
    ///
    /// A panic in `future` is caught: awaiting the handle gives
    /// [`JoinError::Panicked`](crate::JoinError::Panicked) with the panic message.
    fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        JoinHandle::new(self.spawn_raw(catch_panic(future)))
    }

    /// Yields to the scheduler once: the other tasks ready on this worker run before the
    /// caller goes on. Does not allocate (it is [`Spawner::defer_wake`] once).
    ///
    /// ```
    /// use task_thread_core::{Runtime, SpawnerExt};
    ///
    /// async fn count_politely(rt: &Runtime) -> u64 {
    ///     let mut total = 0;
    ///     for n in 0..1_000 {
    ///         total += n;
    ///         if n % 100 == 0 {
    ///             rt.yield_now().await;
    ///         }
    ///     }
    ///     total
    /// }
    /// ```
    fn yield_now(&self) -> YieldNow<'_, Self> {
        YieldNow {
            spawner: self,
            yielded: false,
        }
    }

    /// Runs `work` for at most `duration`: its output, or [`Elapsed`] (and `work` dropped)
    /// if the time ran out first. The portable form of `tokio::time::timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use task_thread_core::{Runtime, Spawner, SpawnerExt};
    ///
    /// async fn answer_or_give_up(rt: &Runtime) -> Option<u32> {
    ///     let slow = rt.sleep(Duration::from_secs(60));
    ///     let answer = async { slow.await; 42 };
    ///     rt.timeout(Duration::from_millis(10), answer).await.ok()
    /// }
    /// ```
    fn timeout<F: Future + Send>(
        &self,
        duration: Duration,
        work: F,
    ) -> impl Future<Output = Result<F::Output, Elapsed>> + Send {
        let timer = self.sleep(duration);
        async move {
            let work = std::pin::pin!(work);
            match futures::future::select(work, timer).await {
                futures::future::Either::Left((output, _)) => Ok(output),
                futures::future::Either::Right(((), _)) => Err(Elapsed(duration)),
            }
        }
    }
}

/// The future of [`SpawnerExt::yield_now`].
#[must_use = "a yield does nothing unless awaited"]
#[derive(Debug)]
pub struct YieldNow<'a, S: ?Sized> {
    spawner: &'a S,
    yielded: bool,
}

impl<S: Spawner + ?Sized> Future for YieldNow<'_, S> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        self.spawner.defer_wake(cx.waker());
        Poll::Pending
    }
}

/// The error of [`SpawnerExt::timeout`]: the time given ran out before the work ended.
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::Elapsed;
///
/// let error = Elapsed(Duration::from_secs(2));
/// assert_eq!(error.to_string(), "timed out after 2s");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(pub Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timed out after {:?}", self.0)
    }
}

impl std::error::Error for Elapsed {}

impl<S: Spawner + ?Sized> SpawnerExt for S {}
