//! A thread's life on its own task: enter, the signal loop, then the shutdown cascade.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use futures::{FutureExt, Stream};
use tracing::Instrument;

use super::children::ChildRef;
use super::context::ThreadCx;
use super::core::{Control, ThreadCore, FORCE_GRACE};
use super::definition::{BoxError, Flow, TaskThread, ThreadEnd};
use super::errors::ThreadError;
use super::handle::{Links, ThreadHandle};
use crate::group::lock;
use crate::join::panic_message;
use crate::spawner::first;
use crate::{Spawner, SpawnerExt};

/// What the loop waits for, in the order it is taken when several are ready.
enum Event<T: TaskThread> {
    Control(Control),
    Signal(T::Signal),
    ChildEnded(ChildRef, ThreadEnd),
    ChildSignal(ChildRef, T::ChildOutput),
}

/// A receiving end, boxed: an `async_channel::Receiver` must be pinned to be polled.
type Inbox<M> = Pin<Box<async_channel::Receiver<M>>>;

/// The loop's receiving ends.
struct Queues<T: TaskThread> {
    control: Inbox<Control>,
    signals: Inbox<T::Signal>,
    child_ended: Inbox<(ChildRef, ThreadEnd)>,
    child_signals: Inbox<(ChildRef, T::ChildOutput)>,
}

impl<T: TaskThread> Queues<T> {
    /// The next event; control first, so a terminate overtakes queued signals.
    async fn next(&mut self) -> Event<T> {
        futures::future::poll_fn(|cx| {
            if let Poll::Ready(Some(control)) = self.control.as_mut().poll_next(cx) {
                return Poll::Ready(Event::Control(control));
            }
            if let Poll::Ready(Some(signal)) = self.signals.as_mut().poll_next(cx) {
                return Poll::Ready(Event::Signal(signal));
            }
            if let Poll::Ready(Some((child, end))) = self.child_ended.as_mut().poll_next(cx) {
                return Poll::Ready(Event::ChildEnded(child, end));
            }
            if let Poll::Ready(Some((child, signal))) = self.child_signals.as_mut().poll_next(cx) {
                return Poll::Ready(Event::ChildSignal(child, signal));
            }
            Poll::Pending
        })
        .await
    }
}

/// Starts `thread` on its own task and returns once it has entered and its signal loop
/// runs. `adopt` runs first, before `enter`: a parent registers the child there, so that
/// what the child's `enter` and tasks send up already reaches it. If `adopt` refuses, the
/// thread never runs; if `enter` fails, the thread shuts down (its `exit` runs) and the
/// error is returned.
pub(crate) async fn start<T: TaskThread>(
    runtime: crate::Runtime,
    thread: T,
    adopt: impl FnOnce(&ThreadHandle<T>) -> Result<(), ThreadError>,
) -> Result<ThreadHandle<T>, ThreadError> {
    let config = thread.config();
    let (control_sender, control) = async_channel::unbounded();
    let core = ThreadCore::new(
        thread.id(),
        thread.info(),
        runtime.clone(),
        config,
        control_sender,
    );
    let (signal_sender, signals) = async_channel::bounded(config.signal_capacity.max(1));
    let (child_signal_sender, child_signals) =
        async_channel::bounded(config.child_signal_capacity.max(1));
    let (child_ended_sender, child_ended) = async_channel::unbounded();
    let cx = ThreadCx {
        handle: ThreadHandle {
            core: core.clone(),
            signals: signal_sender,
            links: Arc::new(Links {
                parent: Mutex::new(None),
                child_signals: child_signal_sender,
                child_ended: child_ended_sender,
            }),
        },
    };
    let handle = cx.handle.clone();
    adopt(&handle)?;
    let queues = Queues {
        control: Box::pin(control),
        signals: Box::pin(signals),
        child_ended: Box::pin(child_ended),
        child_signals: Box::pin(child_signals),
    };
    let (entered, has_entered) = oneshot::channel();
    let span = core.span.clone();
    let signal_loop = runtime.spawn(life(thread, cx, queues, entered).instrument(span));
    core.set_signal_loop(signal_loop);
    match has_entered.await {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(message)) => Err(ThreadError::EnterFailed {
            child: handle.id().to_owned(),
            message,
        }),
        Err(_) => Err(ThreadError::EnterFailed {
            child: handle.id().to_owned(),
            message: "the thread was forced to end during enter".into(),
        }),
    }
}

/// Runs a user method, turning an error or a panic into a message, logged with where.
async fn guarded<R>(
    thread_id: &str,
    method: &str,
    call: impl Future<Output = Result<R, BoxError>>,
) -> Result<R, ThreadEnd> {
    let failure = match AssertUnwindSafe(call).catch_unwind().await {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(error)) => error.to_string(),
        Err(panic) => format!("panicked: {}", panic_message(panic.as_ref())),
    };
    tracing::error!(thread = %thread_id, method, "{failure}");
    Err(ThreadEnd::Failed {
        r#where: method.to_owned(),
        message: failure,
    })
}

async fn life<T: TaskThread>(
    mut thread: T,
    cx: ThreadCx<T>,
    mut queues: Queues<T>,
    entered: oneshot::Sender<Result<(), String>>,
) {
    let id = cx.id().to_owned();
    let entering = guarded(&id, "enter", thread.enter(&cx)).await;
    let mut parent_deadline = None;
    let end = match entering {
        Err(failed) => {
            let message = match &failed {
                ThreadEnd::Failed { message, .. } => message.clone(),
                other => format!("{other:?}"),
            };
            let _ = entered.send(Err(message));
            failed
        }
        Ok(()) => {
            let _ = entered.send(Ok(()));
            loop {
                let flow = match queues.next().await {
                    Event::Control(Control::Terminate { deadline }) => {
                        parent_deadline = deadline;
                        break ThreadEnd::Stopped;
                    }
                    Event::Control(Control::Fail { r#where, message }) => {
                        break ThreadEnd::Failed { r#where, message };
                    }
                    Event::Signal(signal) => {
                        guarded(&id, "on_signal", thread.on_signal(signal, &cx).map(Ok)).await
                    }
                    Event::ChildEnded(child, end) => {
                        let handling = thread.on_child_ended(&child, end, &cx).map(Ok);
                        guarded(&id, "on_child_ended", handling).await
                    }
                    Event::ChildSignal(child, signal) => {
                        let handling = thread.on_child_signal(signal, &child, &cx).map(Ok);
                        guarded(&id, "on_child_signal", handling).await
                    }
                };
                match flow {
                    Ok(Flow::Continue) => {}
                    Ok(Flow::Stop) => break ThreadEnd::Stopped,
                    Err(failed) => break failed,
                }
            }
        }
    };
    let end = shut_down(&mut thread, &cx, &mut queues, end, parent_deadline).await;
    let core = cx.handle.core.clone();
    if core.finish(end.clone()) {
        tell_parent(&cx, end);
    }
}

/// The cascade: undelivered signals to their hook, `exit`, delete the tasks, then terminate
/// every child at once and wait for all of them, everything within the shutdown budget.
async fn shut_down<T: TaskThread>(
    thread: &mut T,
    cx: &ThreadCx<T>,
    queues: &mut Queues<T>,
    mut end: ThreadEnd,
    parent_deadline: Option<Instant>,
) -> ThreadEnd {
    let core = cx.handle.core.clone();
    let own_deadline = Instant::now() + core.config.shutdown_budget;
    let deadline = parent_deadline.map_or(own_deadline, |parent| parent.min(own_deadline));
    let children = core.close_children();
    queues.signals.close();
    let undelivered: Vec<T::Signal> =
        std::iter::from_fn(|| queues.signals.try_recv().ok()).collect();
    if !undelivered.is_empty() {
        thread.on_undelivered(undelivered);
    }
    // Children still running get their signals back from now on.
    queues.child_signals.close();
    let from_children: Vec<(String, T::ChildOutput)> =
        std::iter::from_fn(|| queues.child_signals.try_recv().ok())
            .map(|(child, signal)| (child.id().to_owned(), signal))
            .collect();
    if !from_children.is_empty() {
        thread.on_undelivered_from_children(from_children);
    }
    let mut forced = Vec::new();

    let exiting = guarded(&core.id, "exit", thread.exit(cx));
    match within(&core, deadline, exiting).await {
        Some(Ok(())) => {}
        Some(Err(failed)) => {
            if end == ThreadEnd::Stopped {
                end = failed;
            }
        }
        None => forced.push("exit".to_owned()),
    }
    if within(&core, deadline, core.tasks.delete_all()).await != Some(Ok(())) {
        // Out of budget: cancel without waiting for each in turn, then give the runtime a
        // moment to drop them all.
        core.tasks.cancel_all();
        if !core.tasks_idle_within(FORCE_GRACE).await {
            forced.push("tasks".to_owned());
        }
    }
    for child in &children {
        child.core().terminate(Some(deadline));
    }
    let joins = futures::future::join_all(children.iter().map(|child| child.core().join()));
    if within(&core, deadline, joins).await.is_none() {
        let late: Vec<_> = children
            .iter()
            .filter(|child| child.core().end().is_none())
            .collect();
        forced.extend(
            late.iter()
                .map(|child| format!("child {}", child.core().id)),
        );
        let forcing = late.iter().map(|child| {
            child
                .core()
                .force("its parent's shutdown budget ran out".into())
        });
        futures::future::join_all(forcing).await;
    }
    if !forced.is_empty() {
        tracing::error!(thread = %core.id, "shutdown forced after {:?}: {}", core.config.shutdown_budget, forced.join(", "));
        if end == ThreadEnd::Stopped {
            end = ThreadEnd::Forced {
                what: forced.join(", "),
            };
        }
    }
    end
}

/// Runs `work` until `deadline`; `None` if the deadline came first.
async fn within<R>(
    core: &ThreadCore,
    deadline: Instant,
    work: impl Future<Output = R>,
) -> Option<R> {
    let left = deadline.saturating_duration_since(Instant::now());
    let timer = core.runtime.sleep(left.max(Duration::from_millis(0)));
    first(work.map(Some), timer.map(|()| None)).await
}

/// Removes the ended child from its parent's registry and tells the parent.
fn tell_parent<T: TaskThread>(cx: &ThreadCx<T>, end: ThreadEnd) {
    let link = lock(&cx.handle.links.parent).take();
    let Some(link) = link else { return };
    let Some(child) = link.me.upgrade() else {
        return; // the parent let go of this child already (it was forced)
    };
    if let Some(parent) = link.parent.upgrade() {
        parent.remove_child(&cx.handle.core);
    }
    let _ = link.ended.try_send((ChildRef { child }, end));
}

/// Runs a root thread until it ends: it is terminated by SIGINT or SIGTERM, and a second
/// signal during its shutdown forces it at once. Returns how it ended.
pub async fn run<T: TaskThread>(runtime: &crate::Runtime, thread: T) -> ThreadEnd {
    let signals = runtime.shutdown_signal();
    let handle = match start(runtime.clone(), thread, |_| Ok(())).await {
        Ok(handle) => handle,
        Err(ThreadError::EnterFailed { message, .. }) => {
            return ThreadEnd::Failed {
                r#where: "enter".into(),
                message,
            }
        }
        Err(other) => unreachable!("starting a root only fails in enter: {other}"),
    };
    let joined = handle.join();
    let received = first(
        joined.map(Some),
        signals.map(|s| {
            if let Err(error) = &s {
                tracing::error!("cannot listen for SIGINT / SIGTERM: {error}");
            }
            None
        }),
    );
    if let Some(end) = received.await {
        return end;
    }
    tracing::info!(thread = %handle.id(), "shutdown signal received, terminating");
    // Listening again before terminating: a second signal is never missed.
    let second = runtime.shutdown_signal();
    handle.terminate();
    let joined = handle.join();
    match first(joined.map(Some), second.map(|_| None)).await {
        Some(end) => end,
        None => {
            handle.core.force("a second shutdown signal".into()).await;
            handle.join().await
        }
    }
}
