//! A thread's shutdown notice: the flag its tasks and methods check, the future they await
//! ([`ShutdownNotice`]), and the task sleep that ends early when it fires.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::sync::{Event, EventListener};
use futures::future::BoxFuture;

use crate::group::{lock, GroupShared};
use crate::notify::notify_all;
use crate::slot::SlotShared;

/// The notice of one task group: set once, when the owning thread's shutdown begins.
///
/// Ordering: the flag is set under the group's slot-map lock (see
/// [`TaskGroup::fire_notice`](crate::TaskGroup)); a waiter that listens and then looks at
/// the flag again under that lock, or under its slot's lock (which the firing takes after
/// setting the flag, to wake the slot's sleeper), either sees the flag or is woken.
pub(crate) struct Notice {
    fired: AtomicBool,
    /// Whether the notice can fire at all: a thread's group. A bare group's cannot, and its
    /// tasks' sleeps skip the registration.
    armed: bool,
    /// Woken when the notice fires, for [`ShutdownNotice`]s and sleeps not registered in
    /// their slot.
    event: Event,
}

impl Notice {
    pub(crate) fn new(armed: bool) -> Self {
        Notice {
            fired: AtomicBool::new(false),
            armed,
            event: Event::new(),
        }
    }

    /// The cheap check: one atomic load.
    #[inline]
    pub(crate) fn has_fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// Sets the flag (the caller holds the group's slot-map lock); true the first time.
    pub(crate) fn set(&self) -> bool {
        !self.fired.swap(true, Ordering::AcqRel)
    }

    /// Wakes every listener, once the flag is set and the lock released.
    pub(crate) fn wake_listeners(&self) {
        notify_all(&self.event);
    }
}

/// A thread's shutdown notice, as a future: it completes once the thread's shutdown has
/// begun, at once if it already has, and never for a [`TaskGroup`](crate::TaskGroup) that
/// belongs to no thread. [`has_fired`](Self::has_fired) is the same answer without
/// waiting, one atomic load.
///
/// The notice fires when the thread learns that it is ending: its signal loop takes a
/// terminate or a task's failure (even while a handler runs, which can then see it), a
/// handler returns [`Flow::Stop`](crate::Flow::Stop), or `enter` fails; and when the thread
/// ends without its shutdown (forced, its task dropped by its runtime, a panic outside its
/// methods), where its tasks are then cancelled at once. From then on its
/// tasks get the thread's [grace](crate::ThreadConfig::shutdown_grace) to return by
/// themselves, before what is left is cancelled (see [`TaskThread`](crate::TaskThread)
/// for the order of a shutdown).
///
/// Compared with tokio-util's `CancellationToken::cancelled()`: the same contract
/// (completes once fired, cheap to check, many waiters), but there is no token to create
/// or pass down: every thread has one, reached from its [`ThreadCx`](crate::ThreadCx) and
/// from its tasks' [`TaskCx`](crate::TaskCx), and nothing but the thread's shutdown fires
/// it. It is `'static` and `Unpin`, so it can be moved into a `select` or another task.
///
/// ```
/// use futures::channel::mpsc;
/// use futures::future::{select, Either};
/// use futures::StreamExt;
/// use task_thread_core::{Next, Task, TaskCx};
///
/// /// Reads from a queue of its own; on the notice, writes what it holds and ends.
/// struct Batcher {
///     batch: Vec<u32>,
///     input: mpsc::Receiver<u32>,
/// }
///
/// impl<T> Task<T> for Batcher {
///     async fn run(&mut self, cx: &TaskCx<T>) -> Next {
///         match select(self.input.next(), cx.shutting_down()).await {
///             Either::Left((Some(item), _)) => {
///                 self.batch.push(item);
///                 Next::Reschedule
///             }
///             // The thread is ending (or the input closed): flush and stop.
///             _ => {
///                 tracing::info!("writing {} items", self.batch.len());
///                 self.batch.clear();
///                 Next::Stop
///             }
///         }
///     }
/// }
/// ```
#[must_use = "a future does nothing unless awaited; `has_fired` checks without waiting"]
pub struct ShutdownNotice {
    group: Arc<GroupShared>,
    listener: Option<EventListener>,
}

impl ShutdownNotice {
    pub(crate) fn new(group: Arc<GroupShared>) -> Self {
        ShutdownNotice {
            group,
            listener: None,
        }
    }

    /// Whether the notice has fired: the thread's shutdown has begun. One atomic load.
    ///
    /// ```
    /// use task_thread_core::TaskCx;
    ///
    /// async fn copy_rows<T>(cx: TaskCx<T>, rows: Vec<String>) {
    ///     let notice = cx.shutting_down();
    ///     for row in rows {
    ///         // Finish the row under way, start no new one once the thread is ending.
    ///         if notice.has_fired() {
    ///             break;
    ///         }
    ///         tracing::debug!("copying {row}");
    ///         cx.yield_now().await;
    ///     }
    /// }
    /// ```
    pub fn has_fired(&self) -> bool {
        self.group.notice.has_fired()
    }
}

impl Future for ShutdownNotice {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.has_fired() {
                return Poll::Ready(());
            }
            let this = &mut *self;
            match &mut this.listener {
                Some(listener) => {
                    std::task::ready!(Pin::new(listener).poll(cx));
                    this.listener = None;
                }
                None => {
                    this.listener = Some(crate::notify::listen(&this.group.notice.event));
                    // Looked at again in the firing's order (see `Notice`).
                    if this.group.notice_fired_in_order() {
                        return Poll::Ready(());
                    }
                }
            }
        }
    }
}

impl Clone for ShutdownNotice {
    fn clone(&self) -> Self {
        ShutdownNotice::new(self.group.clone())
    }
}

impl std::fmt::Debug for ShutdownNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownNotice")
            .field("thread", &self.group.owner)
            .field("fired", &self.has_fired())
            .finish()
    }
}

/// A task's sleep that ends early when its thread's notice fires (see
/// [`TaskCx::sleep`](crate::TaskCx::sleep)).
///
/// Woken without a listener of its own: the sleeping task leaves its waker in its slot,
/// which the firing wakes (a slot has one task, so one waker; the field costs a thread
/// less than a listener per sleep, which would allocate). A sleep whose slot already holds
/// another task's waker (a [`TaskCx`](crate::TaskCx) moved into a task of its own) listens
/// to the group's notice instead, its timer and listener boxed together: the rare case
/// pays that allocation, and no sleep pays one otherwise.
pub(crate) struct Sleep {
    timer: BoxFuture<'static, ()>,
    /// The sleeping task's slot; `None` in a bare group, and once the timer listens to the
    /// notice itself.
    slot: Option<Arc<SlotShared>>,
}

/// The sleep of a task of `slot` (a bare group's never ends early: its notice never fires).
pub(crate) fn sleep(slot: &Arc<SlotShared>, timer: BoxFuture<'static, ()>) -> Sleep {
    Sleep {
        timer,
        slot: slot.group.notice.armed.then(|| slot.clone()),
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        // The notice first: a sleep woken by it (every sleeping task of a stopping
        // thread) ends without polling its timer, a runtime call that reads the timer's
        // state (a tree of 10,000 stopping: 140 instructions a child, on cold lines).
        if let Some(slot) = &this.slot {
            if slot.group.notice.has_fired() {
                return Poll::Ready(());
            }
        }
        if this.timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        let Some(slot) = &this.slot else {
            return Poll::Pending;
        };
        let notice = &slot.group.notice;
        let mut state = lock(&slot.state);
        // Under the slot's lock, which the firing takes after setting the flag.
        if notice.has_fired() {
            return Poll::Ready(());
        }
        match &state.sleeper {
            None => state.sleeper = Some(cx.waker().clone()),
            Some(waker) if waker.will_wake(cx.waker()) => {}
            Some(_) => {
                drop(state);
                let listener = crate::notify::listen(&notice.event);
                if slot.group.notice_fired_in_order() {
                    return Poll::Ready(());
                }
                let timer = std::mem::replace(&mut this.timer, Box::pin(std::future::pending()));
                this.timer = Box::pin(async move {
                    futures::future::select(timer, listener).await;
                });
                this.slot = None;
                return this.timer.as_mut().poll(cx);
            }
        }
        Poll::Pending
    }
}
