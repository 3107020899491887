//! The [`Spawner`] contract: spawn, the three outcomes of a join, dropping a handle,
//! cancellation, sleep, yield and shutdown signals.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use task_thread::{JoinError, Runtime, ShutdownSignal, Spawner, SpawnerExt};

use crate::fixtures::drop_flag;

/// Awaiting a handle gives the task's value.
pub async fn spawn_returns_the_value(rt: Runtime) {
    assert_eq!(rt.spawn(async { 6 * 7 }).await, Ok(42));
    assert_eq!(
        rt.spawn(async { String::from("text") }).await.as_deref(),
        Ok("text")
    );
}

/// A cancelled task is reported as `Cancelled`, not as a value or a panic.
pub async fn cancel_is_reported_as_cancelled(rt: Runtime) {
    let (started, has_started) = oneshot::channel();
    let mut task = rt.spawn(async move {
        started.send(()).unwrap();
        futures::future::pending::<u8>().await
    });
    has_started.await.unwrap();
    task.cancel();
    assert_eq!(task.await, Err(JoinError::Cancelled));
}

/// A panic is caught: the handle reports its message and the runtime keeps working.
pub async fn panic_is_reported_with_its_message(rt: Runtime) {
    let task = rt.spawn(async {
        if std::hint::black_box(true) {
            panic!("boom number {}", 7);
        }
        1u8
    });
    assert_eq!(
        task.await,
        Err(JoinError::Panicked {
            message: "boom number 7".into()
        })
    );
    let static_message = rt.spawn(async { panic!("static boom") });
    assert_eq!(
        static_message.await,
        Err::<(), _>(JoinError::Panicked {
            message: "static boom".into()
        })
    );
    assert_eq!(rt.spawn(async { 1 }).await, Ok(1));
}

/// Dropping a handle detaches: the task runs on to its end, on every backend.
pub async fn dropping_a_handle_detaches_the_task(rt: Runtime) {
    let (go, wait_for_go) = oneshot::channel::<()>();
    let (done, is_done) = oneshot::channel();
    let task = rt.spawn(async move {
        wait_for_go.await.unwrap();
        done.send(42).unwrap();
    });
    drop(task);
    go.send(()).unwrap();
    assert_eq!(is_done.await, Ok(42));
}

/// A detached spawn (no handle made) runs its future to its end, and drops it after: what
/// the future holds is let go of without anyone awaiting the task. The future is ready at
/// once and keeps what it holds in itself, not in a local a returning `async` block would let
/// go of anyway: only the runtime dropping the future lets go of it.
pub async fn a_detached_spawn_runs_to_its_end_and_is_dropped(rt: Runtime) {
    // Held by the future: its receiver hears `Canceled` once the future is dropped.
    let (held, let_go) = oneshot::channel::<()>();
    let (done, is_done) = oneshot::channel();
    let task = ReadyHolding {
        _held: Some(held),
        done: Some(done),
    };
    rt.spawn_named_detached(format_args!("detached"), Box::pin(task));
    assert_eq!(is_done.await, Ok(42));
    assert_eq!(let_go.await, Err(oneshot::Canceled));
}

/// Ready at its first poll (it says so through `done`), and holds `_held` until dropped.
struct ReadyHolding {
    _held: Option<oneshot::Sender<()>>,
    done: Option<oneshot::Sender<u32>>,
}

impl std::future::Future for ReadyHolding {
    type Output = task_thread::RawOutput;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        if let Some(done) = self.done.take() {
            let _ = done.send(42);
        }
        std::task::Poll::Ready(Ok(Box::new(()) as Box<dyn Any + Send>))
    }
}
/// When awaiting a cancelled handle returns, the task's destructors have run.
pub async fn cancel_runs_destructors_before_await_returns(rt: Runtime) {
    let (dropped, guard) = drop_flag();
    let (started, has_started) = oneshot::channel();
    let mut task = rt.spawn(async move {
        let _guard = guard;
        started.send(()).unwrap();
        futures::future::pending::<()>().await
    });
    has_started.await.unwrap();
    task.cancel();
    assert_eq!(task.await, Err(JoinError::Cancelled));
    assert!(dropped.load(Ordering::SeqCst));
}

/// A task cancelled right after its spawn (before it could start, on a single-threaded
/// runtime) is dropped too, and its cancellation reaches nobody but its handle.
pub async fn cancel_before_first_poll_runs_destructors(rt: Runtime) {
    let (dropped, guard) = drop_flag();
    let mut task = rt.spawn(async move {
        let _guard = guard;
        futures::future::pending::<()>().await
    });
    task.cancel();
    assert_eq!(task.await, Err(JoinError::Cancelled));
    assert!(dropped.load(Ordering::SeqCst));
}

/// `sleep` never completes early.
pub async fn sleep_waits_at_least_its_duration(rt: Runtime) {
    let start = Instant::now();
    rt.sleep(Duration::from_millis(20)).await;
    assert!(start.elapsed() >= Duration::from_millis(20));
}

/// A task sleeping for an hour is cancelled at once, and dropped.
pub async fn a_sleeping_task_can_be_cancelled(rt: Runtime) {
    let (dropped, guard) = drop_flag();
    let (started, has_started) = oneshot::channel();
    let sleeper = rt.clone();
    let mut task = rt.spawn(async move {
        let _guard = guard;
        started.send(()).unwrap();
        sleeper.sleep(Duration::from_secs(3600)).await;
    });
    has_started.await.unwrap();
    task.cancel();
    assert_eq!(task.await, Err(JoinError::Cancelled));
    assert!(dropped.load(Ordering::SeqCst));
}

/// `yield_now` lets another task run, even on a single-threaded runtime.
pub async fn yield_lets_other_tasks_run(rt: Runtime) {
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let _other = rt.spawn(async move { flag.store(true, Ordering::SeqCst) });
    let mut yields = 0;
    while !ran.load(Ordering::SeqCst) {
        assert!(yields < 100_000, "the other task never ran");
        rt.yield_now().await;
        yields += 1;
    }
}

/// SIGINT and SIGTERM each reach every listener made before them (several roots in one
/// process all hear a signal), and are told apart.
pub async fn shutdown_signal_reaches_every_listener(rt: Runtime) {
    let _alone = crate::fixtures::signal_lock().await;
    let first = rt.shutdown_signal();
    let second = rt.shutdown_signal();
    send_signal_to_self("INT");
    assert_eq!(first.await.unwrap(), ShutdownSignal::Interrupt);
    assert_eq!(second.await.unwrap(), ShutdownSignal::Interrupt);
    let third = rt.shutdown_signal();
    send_signal_to_self("TERM");
    assert_eq!(third.await.unwrap(), ShutdownSignal::Terminate);
}

/// Sends a signal to this process with `kill`.
pub fn send_signal_to_self(signal: &str) {
    let status = std::process::Command::new("kill")
        .args(["-s", signal, &std::process::id().to_string()])
        .status()
        .expect("the kill command runs");
    assert!(status.success(), "kill -s {signal} failed");
}
