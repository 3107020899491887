//! The baselines' runtimes, used directly: each flavour started the way its task-thread
//! backend starts it, with the runtime's own spawn, yield, sleep and cancel.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use smol::Executor;
use task_thread::Flavour;

/// A raw runtime handle.
#[derive(Clone)]
pub enum RawRt {
    Tokio(tokio::runtime::Handle),
    AsyncStd,
    Smol(Arc<Executor<'static>>),
}

/// A raw task handle.
pub enum RawTask<T> {
    Tokio(tokio::task::JoinHandle<T>),
    AsyncStd(async_std::task::JoinHandle<T>),
    Smol(smol::Task<T>),
}

impl RawRt {
    pub fn spawn<F>(&self, future: F) -> RawTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            RawRt::Tokio(handle) => RawTask::Tokio(handle.spawn(future)),
            RawRt::AsyncStd => RawTask::AsyncStd(async_std::task::spawn(future)),
            RawRt::Smol(executor) => RawTask::Smol(executor.spawn(future)),
        }
    }

    pub async fn yield_now(&self) {
        match self {
            RawRt::Tokio(_) => tokio::task::yield_now().await,
            RawRt::AsyncStd => async_std::task::yield_now().await,
            RawRt::Smol(_) => smol::future::yield_now().await,
        }
    }

    /// The cheapest yield a runtime's task can make: it wakes itself and returns pending
    /// once, as core's own yield does through `Spawner::defer_wake`. Tokio's `yield_now`
    /// goes through its driver (a system call when the I/O driver is on), so a loop on it
    /// is no fair baseline for the Task form.
    pub async fn self_waking_yield(&self) {
        let mut yielded = false;
        std::future::poll_fn(|cx| {
            if yielded {
                return std::task::Poll::Ready(());
            }
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        })
        .await
    }

    pub async fn sleep(&self, duration: Duration) {
        match self {
            RawRt::Tokio(_) => tokio::time::sleep(duration).await,
            RawRt::AsyncStd => async_std::task::sleep(duration).await,
            RawRt::Smol(_) => {
                smol::Timer::after(duration).await;
            }
        }
    }
}

impl<T> RawTask<T> {
    /// Lets the task run on without its handle.
    pub fn detach(self) {
        match self {
            RawTask::Tokio(_) | RawTask::AsyncStd(_) => {}
            RawTask::Smol(task) => task.detach(),
        }
    }

    /// Waits for the task's value.
    pub async fn join(self) -> T {
        match self {
            RawTask::Tokio(task) => task.await.expect("a raw task does not panic"),
            RawTask::AsyncStd(task) => task.await,
            RawTask::Smol(task) => task.await,
        }
    }

    /// Cancels the task and waits until it has been dropped.
    pub async fn cancel(self) {
        match self {
            RawTask::Tokio(task) => {
                task.abort();
                let _ = task.await;
            }
            RawTask::AsyncStd(task) => {
                task.cancel().await;
            }
            RawTask::Smol(task) => {
                task.cancel().await;
            }
        }
    }
}

/// Starts `flavour`'s runtime as its backend does and runs `main` on it.
pub fn block_on<F, Fut>(flavour: Flavour, main: F) -> Fut::Output
where
    F: FnOnce(RawRt) -> Fut,
    Fut: Future,
{
    match flavour {
        Flavour::TokioMultiThread | Flavour::TokioCurrentThread => {
            let mut builder = if flavour == Flavour::TokioMultiThread {
                tokio::runtime::Builder::new_multi_thread()
            } else {
                tokio::runtime::Builder::new_current_thread()
            };
            let runtime = builder.enable_all().build().expect("a tokio runtime");
            let handle = runtime.handle().clone();
            runtime.block_on(main(RawRt::Tokio(handle)))
        }
        Flavour::AsyncStd => async_std::task::block_on(main(RawRt::AsyncStd)),
        Flavour::Smol => {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let executor = Arc::new(Executor::new());
            let (stop, stopped) = smol::channel::bounded::<()>(1);
            std::thread::scope(|scope| {
                for _ in 1..threads {
                    let (executor, stopped) = (executor.clone(), stopped.clone());
                    scope.spawn(move || smol::block_on(executor.run(stopped.recv())));
                }
                let output = smol::block_on(executor.run(main(RawRt::Smol(executor.clone()))));
                drop(stop);
                output
            })
        }
        _ => unreachable!("every flavour is compiled into the bench"),
    }
}
