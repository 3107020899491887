//! What a user writes: the [`TaskThread`] trait and the values its methods return. How a
//! thread ended is in `thread_end`, its settings in `thread_config`.

mod thread_config;
mod thread_end;

pub use thread_config::ThreadConfig;
pub use thread_end::ThreadEnd;

use std::future::Future;

use super::context::ThreadCx;
use super::family::children::ChildRef;

/// The error a user method may return: anything that converts into a boxed error
/// (`?` on an `io::Error`, an `anyhow::Error`, a `String`, ...).
///
/// ```
/// use std::net::SocketAddr;
/// use task_thread_core::{BoxError, LeafThread, ThreadCx};
///
/// struct Listener {
///     address: String,
///     bound: Option<SocketAddr>,
/// }
///
/// impl LeafThread for Listener {
///     type Signal = ();
///     type Output = ();
///     fn id(&self) -> String { "listener".into() }
///
///     async fn enter(&mut self, _cx: &ThreadCx<Self>) -> Result<(), BoxError> {
///         // Any error type and a plain message alike end the thread as Failed in "enter".
///         let address: SocketAddr = self.address.parse()?;
///         if address.port() == 0 {
///             return Err(format!("{address}: clients need a fixed port").into());
///         }
///         self.bound = Some(address);
///         Ok(())
///     }
/// }
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a signal handler wants next (the original returned a truthy value, and its default
/// handler's `None` stopped the thread by accident: defect 2).
///
/// ```
/// use task_thread_core::{Flow, LeafThread, ThreadCx};
///
/// struct Shell;
///
/// impl LeafThread for Shell {
///     type Signal = String;
///     type Output = ();
///     fn id(&self) -> String { "shell".into() }
///
///     async fn on_signal(&mut self, command: String, _cx: &ThreadCx<Self>) -> Flow {
///         if command == "quit" {
///             // Commands queued behind "quit" are not run: they go to `on_undelivered`.
///             return Flow::Stop;
///         }
///         tracing::info!("running {command}");
///         Flow::Continue
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep the signal loop running.
    Continue,
    /// Stop this thread: its tasks end (with their grace), its exit runs, then its
    /// children are terminated.
    Stop,
}

/// A TaskThread: a group of tasks with a signal loop, a parent and children. A thread that
/// starts no children implements the shorter [`LeafThread`](super::LeafThread) instead,
/// and is a `TaskThread` through it.
///
/// The library owns the value once the thread starts, and calls its methods one at a time
/// from the thread's signal loop, in this order: [`enter`](Self::enter); then, for each
/// signal in arrival order, [`on_signal`](Self::on_signal), [`on_child_signal`](Self::on_child_signal)
/// or [`on_child_ended`](Self::on_child_ended), until one returns [`Flow::Stop`] or the thread
/// is terminated; then [`exit`](Self::exit). Before `exit` the thread's tasks end: its
/// shutdown notice fires ([`ThreadCx::shutting_down`]), they get the thread's
/// [grace](ThreadConfig::shutdown_grace) to return by themselves, and what is left is
/// cancelled. After `exit` the library deletes any task `exit` started, then terminates all
/// the thread's children together and waits for them. The whole takes at most the thread's
/// [`shutdown_budget`](ThreadConfig::shutdown_budget) (and never more than its parent's
/// remaining one): what still runs then is cancelled, and the thread ends
/// [`Forced`](ThreadEnd::Forced), its queued signals still handed to
/// [`on_undelivered`](Self::on_undelivered) and
/// [`on_undelivered_from_children`](Self::on_undelivered_from_children).
///
/// Failure policy: an error returned by, or a panic in, any of these methods or in one of the
/// thread's tasks is logged (with the thread id and the method or task name), ends the
/// thread as [`ThreadEnd::Failed`] after the usual shutdown (`exit` still runs, unless it is
/// `exit` that failed, and children are terminated), and is reported to the parent through
/// [`on_child_ended`](Self::on_child_ended). Nothing else in the tree is disturbed.
///
/// The methods are `async fn`s (the trait spells them as functions returning a `Send`
/// future, so that threads can run on multi-threaded runtimes):
///
/// ```
/// use task_thread_core::{Flow, LeafThread, ThreadCx};
///
/// struct Greeter { id: String }
///
/// impl LeafThread for Greeter {
///     type Signal = String;      // what the parent sends
///     type Output = ();          // what this thread sends to its parent
///
///     fn id(&self) -> String { self.id.clone() }
///
///     async fn on_signal(&mut self, name: String, _cx: &ThreadCx<Self>) -> Flow {
///         tracing::info!("hello, {name}");
///         Flow::Continue
///     }
/// }
/// ```
pub trait TaskThread: Send + Sized + 'static {
    /// What the parent sends to this thread.
    type Signal: Send + 'static;
    /// What this thread sends to its parent.
    type Output: Send + 'static;
    /// What this thread's children send to it.
    type ChildOutput: Send + 'static;

    /// A unique id among its siblings (the original's `getId`), used to find it. The
    /// default is the type's name in snake case (`MainThread` is `"main_thread"`), which
    /// suits a thread of which its parent has one; siblings of one type each need their own
    /// (a second child with the same id is refused: [`ThreadError::DuplicateId`](super::ThreadError::DuplicateId)).
    /// The default comes from [`std::any::type_name`], which the compiler may spell
    /// differently from one version to the next: keep it for logs and lookups inside the
    /// program, not in anything stored.
    fn id(&self) -> String {
        id_of_type::<Self>()
    }

    /// A human-readable description (the original's `getInfo`); defaults to the id.
    fn info(&self) -> String {
        self.id()
    }

    /// Queue capacities, shutdown budget and slot timeouts.
    fn config(&self) -> ThreadConfig {
        ThreadConfig::default()
    }

    /// The start point: starts the thread's tasks (and maybe children). Runs before any
    /// signal is handled.
    fn enter(&mut self, cx: &ThreadCx<Self>) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = cx;
        async { Ok(()) }
    }

    /// Cleanup, after the signal loop has ended and the thread's tasks have ended (they had
    /// the [grace](ThreadConfig::shutdown_grace) to return by themselves, then were
    /// cancelled), and before the children are terminated: what the tasks used is free to
    /// close. A task started here is deleted by the library once `exit` returns.
    fn exit(&mut self, cx: &ThreadCx<Self>) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = cx;
        async { Ok(()) }
    }

    /// A signal from the parent. The default keeps running.
    fn on_signal(
        &mut self,
        signal: Self::Signal,
        cx: &ThreadCx<Self>,
    ) -> impl Future<Output = Flow> + Send {
        let _ = (signal, cx);
        async { Flow::Continue }
    }

    /// A signal from one child. The default keeps running.
    fn on_child_signal(
        &mut self,
        signal: Self::ChildOutput,
        child: &ChildRef,
        cx: &ThreadCx<Self>,
    ) -> impl Future<Output = Flow> + Send {
        let _ = (signal, child, cx);
        async { Flow::Continue }
    }

    /// A child has ended (stopped itself, was stopped, failed or was forced) and has left
    /// the registry. The default logs a failed child and keeps running.
    fn on_child_ended(
        &mut self,
        child: &ChildRef,
        end: ThreadEnd,
        cx: &ThreadCx<Self>,
    ) -> impl Future<Output = Flow> + Send {
        let _ = cx;
        if end != ThreadEnd::Stopped {
            tracing::warn!(child = %child.id(), "child ended: {end:?}");
        }
        async { Flow::Continue }
    }

    /// One of this thread's queues is full; called on the sender's side, before the
    /// thread's [`OverflowPolicy`](super::OverflowPolicy) applies. The default logs a warning,
    /// at most one a second per thread ([`Overflow::log`](super::Overflow::log)); nothing
    /// else logs a full queue, so a hook that replaces it decides what is said.
    fn on_overflow(overflow: &super::Overflow<'_>) {
        overflow.log();
    }

    /// Signals from the parent still queued when the thread ended. Called once, however
    /// the thread ends, before its `join` returns; not called if nothing was left. A
    /// forced thread (by its own budget, an ancestor's cascade, or its runtime dropping its
    /// task) calls it too: a handler still running is dropped, not polled again, and the
    /// hooks run before the thread's end is recorded. The default logs how many there were.
    fn on_undelivered(&mut self, signals: Vec<Self::Signal>) {
        log_undelivered(signals.len());
    }

    /// Signals from children still queued when the thread ended, with the id of the child
    /// that sent each. Called as [`on_undelivered`](Self::on_undelivered) is. The default
    /// logs how many there were.
    fn on_undelivered_from_children(&mut self, signals: Vec<(String, Self::ChildOutput)>) {
        tracing::warn!(
            count = signals.len(),
            "signals from children undelivered at the thread's end"
        );
    }
}

/// The default undelivered hook: how many signals from the parent were left.
pub(crate) fn log_undelivered(count: usize) {
    tracing::warn!(count, "signals undelivered at the thread's end");
}

/// A thread type's default id: its name, without its path or generic arguments, in snake
/// case (`MainThread<u8>` is `"main_thread"`).
pub(crate) fn id_of_type<T>() -> String {
    let name = std::any::type_name::<T>();
    let name = name.split('<').next().unwrap_or(name);
    let name = name.rsplit("::").next().unwrap_or(name);
    let chars: Vec<char> = name.chars().collect();
    let mut id = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        // A word starts at an upper-case letter after a lower-case one or a digit, or at
        // the last capital of an acronym before a lower-case letter (`TCPServer`).
        let before = i.checked_sub(1).map(|b| chars[b]);
        let after = chars.get(i + 1);
        let starts_word = c.is_uppercase()
            && before.is_some_and(|b| !b.is_uppercase() || after.is_some_and(|a| a.is_lowercase()));
        if starts_word && before != Some('_') {
            id.push('_');
        }
        id.extend(c.to_lowercase());
    }
    id
}

#[cfg(test)]
mod tests {
    use super::id_of_type;

    struct MainThread;
    struct Subthread;
    struct Pool<T>(T);
    #[allow(clippy::upper_case_acronyms)]
    struct TCPServer;
    struct Http2Client;

    #[test]
    fn a_default_id_is_the_type_name_in_snake_case() {
        assert_eq!(id_of_type::<MainThread>(), "main_thread");
        assert_eq!(id_of_type::<Subthread>(), "subthread");
        assert_eq!(id_of_type::<Pool<MainThread>>(), "pool");
        assert_eq!(id_of_type::<TCPServer>(), "tcp_server");
        assert_eq!(id_of_type::<Http2Client>(), "http2_client");
    }
}
