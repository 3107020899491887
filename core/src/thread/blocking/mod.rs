//! Blocking code as a thread of the tree: [`BlockingThread`], the handler a user writes,
//! runs on an OS thread of its own; [`Blocking`] is the thread around it, which the tree
//! starts, sends to, hears from and ends as any other.

mod errors;
mod handler;
mod link;
mod shared;

use std::convert::Infallible;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use futures::channel::oneshot;
use futures::future::{select, Either};

use super::definition::{BoxError, Flow, ThreadConfig};
use super::failure::Panicked;
use super::leaf::LeafThread;
use super::life::thread_core::ThreadCore;
use super::ThreadCx;
use crate::join::panic_message;
use crate::spawner::first;
use crate::{Spawner, TaskCx};
pub use errors::{OutputLost, RecvTimeout};
pub use handler::BlockingThread;
pub use link::BlockingLink;
use shared::Shared;

/// The thread of the tree around a [`BlockingThread`]: start it with
/// [`ThreadCx::spawn_child`] (or [`start`](crate::start)) as any thread.
///
/// What it does with the handler: `enter` starts it on its OS thread; each signal from the
/// parent is handed to it, and the thread's loop waits while 16 are waiting for `recv` (so
/// the thread's own queue, with its capacity and overflow policy, is the queue that fills,
/// and the blocking side takes several per wake-up), and until the shutdown once the
/// handler takes no more ([`BlockingLink::close`], or `run` returned); each
/// output is put into the parent's queue before [`BlockingLink::send`] returns. At the
/// shutdown the handler is told at once (as the thread's tasks are, by the notice), with
/// the shutdown's deadline, then `exit` waits for `run` to return, still forwarding its
/// outputs, until that deadline (told again to the handler if its parent's cascade brings
/// a sooner one).
///
/// ```
/// use task_thread_core::{
///     Blocking, BlockingLink, BlockingThread, BoxError, ChildRef, Flow, TaskThread, ThreadCx,
/// };
///
/// struct Doubler;
///
/// impl BlockingThread for Doubler {
///     type Signal = u32;
///     type Output = u32;
///     fn run(&mut self, link: &BlockingLink<u32, u32>) -> Result<(), BoxError> {
///         while let Some(n) = link.recv() {
///             link.send(2 * n)?;
///         }
///         Ok(())
///     }
/// }
///
/// struct Master;
///
/// impl TaskThread for Master {
///     type Signal = ();
///     type Output = ();
///     type ChildOutput = u32;
///
///     async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
///         let doubler = cx.spawn_child(Blocking::new(Doubler)).await?;
///         let _ = doubler.send(21).await;
///         Ok(())
///     }
///
///     async fn on_child_signal(&mut self, n: u32, _: &ChildRef, _: &ThreadCx<Self>) -> Flow {
///         tracing::info!("doubled: {n}");
///         Flow::Continue
///     }
/// }
/// ```
pub struct Blocking<B: BlockingThread> {
    id: String,
    info: String,
    config: ThreadConfig,
    /// The handler: here before `enter` and once `run` has returned, on its OS thread
    /// between the two.
    handler: Option<B>,
    link: Arc<Shared<B::Signal, B::Output>>,
    /// Where the OS thread hands the handler back, with what `run` returned.
    returned: Option<oneshot::Receiver<Returned<B>>>,
    /// Signals the handler did not take, kept until it is back to be handed them.
    undelivered: Vec<B::Signal>,
    /// Whether the handler was started on its OS thread.
    started: bool,
}

/// The handler and what its `run` returned.
type Returned<B> = (B, Result<(), BoxError>);

impl<B: BlockingThread> Blocking<B> {
    /// The thread around `handler`; its id, info and config are the handler's.
    pub fn new(handler: B) -> Self {
        Blocking {
            id: handler.id(),
            info: handler.info(),
            config: handler.config(),
            handler: Some(handler),
            link: Shared::new(),
            returned: None,
            undelivered: Vec::new(),
            started: false,
        }
    }

    /// Hands the signals not taken to the handler, if it is back: those it was offered
    /// first, then those that did not reach it, in the order they came.
    fn hand_back_undelivered(&mut self) {
        let mut offered = self.link.take_signals();
        if !offered.is_empty() {
            offered.append(&mut self.undelivered);
            self.undelivered = offered;
        }
        if let Some(handler) = self.handler.as_mut() {
            if !self.undelivered.is_empty() {
                handler.on_undelivered(std::mem::take(&mut self.undelivered));
            }
        }
    }

    /// Tells the handler each sooner deadline its thread's shutdown is given (its parent's
    /// cascade reaching a thread that was ending already), forever.
    async fn follow_deadline(link: &Shared<B::Signal, B::Output>, core: &ThreadCore) -> Infallible {
        loop {
            // Listening before reading: a deadline lowered in between wakes it.
            let lowered = core.deadline_lowered();
            link.stop(core.shutdown_deadline());
            lowered.await;
        }
    }

    /// Forwards the handler's outputs to the parent, one at a time, forever.
    async fn forward_outputs(
        link: &Shared<B::Signal, B::Output>,
        cx: &ThreadCx<Self>,
    ) -> Infallible {
        loop {
            forward_one(link, cx).await;
        }
    }
}

/// Puts the handler's next output into the parent's queue, and tells the handler how it
/// went. Cancelled while it sends, it tells the handler the output is dropped.
async fn forward_one<B: BlockingThread>(
    link: &Shared<B::Signal, B::Output>,
    cx: &ThreadCx<Blocking<B>>,
) {
    let output = link.next_output().await;
    send_up(link, output, cx).await;
}

/// Puts `output`, taken from the handler, into the parent's queue, and tells the handler
/// how it went; cancelled, it tells the handler the output is dropped.
async fn send_up<B: BlockingThread>(
    link: &Shared<B::Signal, B::Output>,
    output: B::Output,
    cx: &ThreadCx<Blocking<B>>,
) {
    let guard = DroppedIfCancelled(link);
    let sent = cx.send_to_parent(output).await;
    std::mem::forget(guard);
    link.output_sent(sent);
}

/// Marks the output being sent as dropped, if the sending is cancelled.
struct DroppedIfCancelled<'a, S, O>(&'a Shared<S, O>);

impl<S, O> Drop for DroppedIfCancelled<'_, S, O> {
    fn drop(&mut self) {
        self.0.output_dropped();
    }
}

impl<B: BlockingThread> LeafThread for Blocking<B> {
    type Signal = B::Signal;
    type Output = B::Output;

    fn id(&self) -> String {
        self.id.clone()
    }

    fn info(&self) -> String {
        self.info.clone()
    }

    fn config(&self) -> ThreadConfig {
        self.config
    }

    /// Starts the output forwarding, then the handler on its OS thread.
    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let link = self.link.clone();
        cx.slot("blocking outputs")
            .re_create_fn(move |task: TaskCx<Self>| {
                let link = link.clone();
                async move {
                    // The notice ends the wait for an output, never a send under way: an
                    // output taken is in the parent's queue, or back with the handler.
                    let next = std::pin::pin!(link.next_output());
                    match select(next, task.shutting_down()).await {
                        Either::Left((output, _)) => {
                            send_up(&link, output, task.thread()).await;
                            task.re_schedule();
                        }
                        // The handler is told now, with the shutdown's deadline (kept
                        // before the notice fired); `exit` forwards what it sends from here.
                        Either::Right(((), _)) => {
                            link.stop(task.thread().handle.core.shutdown_deadline());
                        }
                    }
                }
            })
            .await?;
        let mut handler = self
            .handler
            .take()
            .expect("a thread's enter runs once, and the handler is there until it does");
        let (hand_back, returned) = oneshot::channel();
        self.returned = Some(returned);
        let link = self.link.clone();
        let thread = cx.handle().clone();
        let id = self.id.clone();
        cx.runtime().spawn_blocking(
            &self.id,
            Box::new(move || {
                let span = tracing::info_span!("blocking", thread = %id);
                let _span = span.enter();
                let link = BlockingLink { shared: link };
                let result = catch_unwind(AssertUnwindSafe(|| handler.run(&link))).unwrap_or_else(
                    |payload| {
                        let message = panic_message(payload.as_ref());
                        tracing::error!(thread = %id, "the blocking handler panicked: {message}");
                        Err(Box::new(Panicked::new(message)))
                    },
                );
                link.shared.run_returned();
                // The thread may be gone (forced): the handler is dropped here then.
                let _ = hand_back.send((handler, result));
                thread.terminate();
            }),
        )?;
        self.started = true;
        Ok(())
    }

    /// Hands the signal to the handler, and waits while 16 are waiting for it, or until
    /// the thread ends. Once the handler takes no more (it closed its link, or returned),
    /// keeps the signal for the undelivered hook and waits for the shutdown: the loop
    /// takes no other, so the thread's queue fills, with its capacity and overflow policy,
    /// and what is in it goes to the hook too.
    async fn on_signal(&mut self, signal: B::Signal, cx: &ThreadCx<Self>) -> Flow {
        if self.link.is_stopping() {
            self.undelivered.push(signal);
            cx.shutting_down().await;
            return Flow::Continue;
        }
        self.link.offer(signal);
        let taken = std::pin::pin!(self.link.taken());
        // At the shutdown a signal not taken stays with the link, for the undelivered hook.
        let _ = select(taken, cx.shutting_down()).await;
        Flow::Continue
    }

    /// Tells the handler to stop, and by when (the shutdown's deadline, and a sooner one
    /// if its parent's cascade brings it); forwards its outputs until `run` returns, and
    /// ends as it did. Cut short at the deadline, the thread is forced; the handler's OS
    /// thread is then left behind (see [`Drop`]).
    async fn exit(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let core = &cx.handle.core;
        self.link.stop(core.shutdown_deadline());
        let Some(returned) = self.returned.take() else {
            return Ok(());
        };
        let link = self.link.clone();
        // Cut short at the deadline, the thread ends without waiting for `run` any more:
        // the handler's release runs before the end is recorded.
        let abandoned_if_cut = AbandonedIfCut {
            link: &link,
            thread: &self.id,
        };
        let forwarding = std::pin::pin!(first(
            Self::forward_outputs(&link, cx),
            Self::follow_deadline(&link, core),
        ));
        let returned = select(returned, forwarding).await;
        std::mem::forget(abandoned_if_cut);
        let result = match returned {
            Either::Left((Ok((handler, result)), _)) => {
                self.handler = Some(handler);
                result
            }
            // The closure was dropped without running: `spawn_blocking` failed, which
            // `enter` reported.
            Either::Left((Err(oneshot::Canceled), _)) => Ok(()),
            Either::Right((never, _)) => match never {},
        };
        self.hand_back_undelivered();
        result
    }

    fn on_undelivered(&mut self, signals: Vec<B::Signal>) {
        self.undelivered.extend(signals);
        self.hand_back_undelivered();
    }
}

/// Marks the thread as abandoned if `exit`'s wait for the handler is cut short (the
/// thread's budget ran out): nothing forwards its outputs any more, and what it registered
/// with [`BlockingLink::on_abandon`] runs now.
struct AbandonedIfCut<'a, S, O> {
    link: &'a Shared<S, O>,
    thread: &'a str,
}

impl<S, O> Drop for AbandonedIfCut<'_, S, O> {
    fn drop(&mut self) {
        self.link.thread_gone(self.thread);
    }
}

impl<B: BlockingThread> Drop for Blocking<B> {
    fn drop(&mut self) {
        // Abandoned, if `run` still runs: what it holds is released before the end.
        self.link.thread_gone(&self.id);
        if self.started && !self.link.has_run_returned() {
            tracing::error!(
                thread = %self.id,
                "its blocking handler has not returned by the thread's end: its OS thread \
                 is left behind, running, and not joined"
            );
        }
        self.hand_back_undelivered();
        if !self.undelivered.is_empty() {
            tracing::error!(
                thread = %self.id,
                count = self.undelivered.len(),
                "signals its blocking handler never took are dropped: the handler did not \
                 return to be handed them"
            );
        }
    }
}
