//! [`Backend`]: a runtime that synchronous code starts, the door from a `main` or a test
//! into a [`Runtime`].

use std::future::Future;

use super::Runtime;

/// A runtime that synchronous code (a `main`, a test) can start: one per backend flavour.
///
/// `block_on` starts the runtime, runs `main` with a [`Runtime`] handle to it, and returns
/// `main`'s output. Tasks still running when `main` ends are dropped (their destructors
/// run) before `block_on` returns, and the handle refuses spawns from then on (see
/// [the contract](crate::contract)); a program that wants its tasks to finish ends them
/// first (a root TaskThread's `run` does).
///
/// ```
/// use task_thread_core::{Backend, SpawnerExt};
///
/// // Synchronous code picks the backend; everything inside only sees a `Runtime`.
/// fn answer_on(backend: impl Backend) -> u32 {
///     backend.block_on(|rt| async move { rt.spawn(async { 6 * 7 }).await.unwrap() })
/// }
/// ```
pub trait Backend {
    /// A short name for logs and test names.
    fn name(&self) -> &'static str;
    /// Starts the runtime and drives `main` to completion on the calling thread; then drops
    /// every task still alive, and refuses spawns, before returning.
    fn block_on<F, Fut>(&self, main: F) -> Fut::Output
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future;

    /// A whole program: starts the runtime, runs `root` as the tree's root until SIGINT or
    /// SIGTERM or its own end (see [`run`](crate::run), which logs the tree's
    /// [report](crate::ThreadReport)), and returns the status to exit with ([`ThreadEnd::exit_code`](crate::ThreadEnd::exit_code)).
    ///
    /// ```
    /// use std::process::ExitCode;
    /// use task_thread_core::{Backend, LeafThread};
    ///
    /// struct Main;
    ///
    /// impl LeafThread for Main {
    ///     type Signal = ();
    ///     type Output = ();
    ///     fn id(&self) -> String { "main".into() }
    /// }
    ///
    /// fn main_of_a_program(backend: impl Backend) -> ExitCode {
    ///     backend.run(Main)
    /// }
    /// ```
    fn run<T: crate::TaskThread>(&self, root: T) -> std::process::ExitCode {
        let report = self.block_on(|rt| async move { crate::run(&rt, root).await });
        report.end().exit_code()
    }
}
