//! [`LeafThread`]: the shorter trait for a thread that starts no children, the common case.

use std::convert::Infallible;
use std::future::Future;

use super::context::ThreadCx;
use super::definition::{BoxError, Flow, TaskThread, ThreadConfig};
use super::mailbox::overflow::Overflow;

/// A thread that starts no children: [`TaskThread`] without what concerns children (their
/// output type and handlers), which a blanket impl fills in. Most threads of a tree are
/// leaves (a connection, a worker): they say what they take from their parent and what they
/// send up, and nothing more.
///
/// Why a second trait: Rust has no defaults for associated types yet, and a leaf naming a
/// child output it never receives (`type ChildOutput = ();`) reads as if it had children.
/// A thread that starts children implements [`TaskThread`] instead; a type implements one
/// or the other. Its context, handle and every function taking a `TaskThread` work the same
/// for a leaf (its `ChildOutput` is [`Infallible`]: nothing can send to it as a child).
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::{BoxError, LeafThread, ThreadCx};
///
/// struct Child;
///
/// impl LeafThread for Child {
///     type Signal = ();
///     type Output = String;
///
///     fn id(&self) -> String { "subthread".into() }
///
///     async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
///         cx.slot("hello").re_create_fn(|task| async move {
///             task.sleep(Duration::from_secs(5)).await;
///             let _ = task.thread().send_to_parent("hello from child".into()).await;
///             task.re_schedule();
///         }).await?;
///         Ok(())
///     }
/// }
/// ```
pub trait LeafThread: Send + Sized + 'static {
    /// What the parent sends to this thread.
    type Signal: Send + 'static;
    /// What this thread sends to its parent.
    type Output: Send + 'static;

    /// As [`TaskThread::id`]; defaults to the type's name in snake case.
    fn id(&self) -> String {
        super::definition::id_of_type::<Self>()
    }

    /// As [`TaskThread::info`]; defaults to the id.
    fn info(&self) -> String {
        self.id()
    }

    /// As [`TaskThread::config`].
    fn config(&self) -> ThreadConfig {
        ThreadConfig::default()
    }

    /// As [`TaskThread::enter`].
    fn enter(&mut self, cx: &ThreadCx<Self>) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = cx;
        async { Ok(()) }
    }

    /// As [`TaskThread::exit`].
    fn exit(&mut self, cx: &ThreadCx<Self>) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = cx;
        async { Ok(()) }
    }

    /// As [`TaskThread::on_signal`]; the default keeps running.
    fn on_signal(
        &mut self,
        signal: Self::Signal,
        cx: &ThreadCx<Self>,
    ) -> impl Future<Output = Flow> + Send {
        let _ = (signal, cx);
        async { Flow::Continue }
    }

    /// As [`TaskThread::on_overflow`]; the default logs a warning, at most one a second
    /// per thread ([`Overflow::log`]).
    fn on_overflow(overflow: &Overflow<'_>) {
        overflow.log();
    }

    /// As [`TaskThread::on_undelivered`]; the default logs how many there were.
    fn on_undelivered(&mut self, signals: Vec<Self::Signal>) {
        super::definition::log_undelivered(signals.len());
    }
}

/// A leaf is a thread whose children's output is [`Infallible`].
impl<L: LeafThread> TaskThread for L {
    type Signal = L::Signal;
    type Output = L::Output;
    type ChildOutput = Infallible;

    fn id(&self) -> String {
        LeafThread::id(self)
    }

    fn info(&self) -> String {
        LeafThread::info(self)
    }

    fn config(&self) -> ThreadConfig {
        LeafThread::config(self)
    }

    fn enter(&mut self, cx: &ThreadCx<Self>) -> impl Future<Output = Result<(), BoxError>> + Send {
        LeafThread::enter(self, cx)
    }

    fn exit(&mut self, cx: &ThreadCx<Self>) -> impl Future<Output = Result<(), BoxError>> + Send {
        LeafThread::exit(self, cx)
    }

    fn on_signal(
        &mut self,
        signal: Self::Signal,
        cx: &ThreadCx<Self>,
    ) -> impl Future<Output = Flow> + Send {
        LeafThread::on_signal(self, signal, cx)
    }

    fn on_overflow(overflow: &Overflow<'_>) {
        <L as LeafThread>::on_overflow(overflow);
    }

    fn on_undelivered(&mut self, signals: Vec<Self::Signal>) {
        LeafThread::on_undelivered(self, signals);
    }
}
