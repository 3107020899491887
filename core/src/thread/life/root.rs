//! Running a program's root thread: started, then ended by SIGINT or SIGTERM.

use std::convert::Infallible;
use std::time::Instant;

use futures::future::BoxFuture;
use futures::FutureExt;

use crate::spawner::{before, first};
use crate::thread::definition::{TaskThread, ThreadEnd};
use crate::thread::life::launch::{launch, Launched};
use crate::thread::life::thread_core::{ThreadCore, FORCE_GRACE};
use crate::thread::report::ThreadReport;
use crate::{Spawner, SpawnerExt};

/// Runs a root thread until it ends (the original's `run` of a root): SIGINT or SIGTERM
/// terminates it, and so does dropping this future before the root has ended; if its shutdown has not finished within its
/// [`shutdown_budget`](crate::thread::ThreadConfig::shutdown_budget) (a hung handler, `enter` or
/// `exit`), or a second signal arrives meanwhile, it is forced. Several roots in one process
/// each end on the signal. Logs the root's [report](ThreadReport) (how it ended, and how its
/// subtree lived and ended) and returns it.
///
/// ```
/// use task_thread_core::{Backend, LeafThread, ThreadEnd};
///
/// struct Main;
///
/// impl LeafThread for Main {
///     type Signal = ();
///     type Output = ();
///     fn id(&self) -> String { "main".into() }
/// }
///
/// fn main_of_a_program(backend: impl Backend) -> ThreadEnd {
///     let report = backend.block_on(|rt| async move { task_thread_core::run(&rt, Main).await });
///     report.end().clone()
/// }
/// ```
pub async fn run<T: TaskThread>(runtime: &crate::Runtime, thread: T) -> ThreadReport {
    // Listening before the root starts: from here on, a signal ends the tree, not the process.
    let signals = runtime.shutdown_signal();
    let Ok(launched) = launch(runtime.clone(), thread, |_| Ok::<_, Infallible>(()));
    let core = launched.core().clone();
    let end = run_until_ended(runtime, launched, signals).await;
    let report = core.report_of(end);
    match report.end() {
        end @ ThreadEnd::Stopped => tracing::info!("the tree ended: {end}; its report:\n{report}"),
        end => tracing::error!("the tree ended: {end}; its report:\n{report}"),
    }
    report
}

/// `run` until the root has ended: its end.
async fn run_until_ended<T: TaskThread>(
    runtime: &crate::Runtime,
    launched: Launched<T>,
    signals: BoxFuture<'static, std::io::Result<crate::ShutdownSignal>>,
) -> ThreadEnd {
    let handle = match launched.entered().await {
        Ok(handle) => handle,
        Err(end) => return end,
    };
    // Dropped before the root has ended (a `select!` in the embedding program, say), this
    // future terminates it rather than leave a tree nobody can reach.
    let _terminate_if_dropped = TerminateUnlessEnded(&handle.core);
    let signalled = signals.map(|received| match received {
        Ok(signal) => Some(signal),
        Err(error) => {
            tracing::error!(
                "cannot listen for SIGINT / SIGTERM: {error}; running until the root ends"
            );
            None
        }
    });
    let first_signal = first(handle.join().map(Err), signalled.map(Ok)).await;
    let signal = match first_signal {
        Err(end) => return end,
        Ok(Some(signal)) => signal,
        Ok(None) => return handle.join().await,
    };
    tracing::info!(thread = %handle.id(), "shutdown signal received ({signal:?}), terminating");
    // Listening again before terminating: a second signal is never missed.
    let listening = runtime.shutdown_signal();
    let second = async move {
        if listening.await.is_err() {
            futures::future::pending::<()>().await;
        }
    };
    handle.terminate();
    // The thread forces what it can itself when its budget runs out; this backstop only
    // catches what that cannot (a handler or enter blocking its runtime thread).
    let deadline = Instant::now() + handle.core.settings.shutdown_budget + 2 * FORCE_GRACE;
    let ended_in_time = before(handle.core.runtime(), deadline, handle.join());
    let forced_by = match first(ended_in_time.map(Some), second.map(|()| None)).await {
        Some(Some(end)) => return end,
        Some(None) => "its shutdown budget ran out",
        None => "a second shutdown signal",
    };
    // On a task of its own: dropping `run` now must not drop the forcing half done, which
    // would leave the tree with no end for any `join` to see.
    let forcing = handle
        .core
        .runtime()
        .spawn(handle.core.force(forced_by.into()));
    if forcing.await.is_err() {
        // The runtime refused the task (it is shutting down): forced here, then.
        handle.core.force(forced_by.into()).await;
    }
    handle.join().await
}

/// Terminates the root when `run`'s future is dropped before the root has ended.
struct TerminateUnlessEnded<'a>(&'a ThreadCore);

impl Drop for TerminateUnlessEnded<'_> {
    fn drop(&mut self) {
        if self.0.end().is_none() {
            tracing::info!(thread = %self.0.id(), "run was dropped before its root ended: terminating it");
            self.0.terminate(None);
        }
    }
}
