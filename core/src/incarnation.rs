//! One run of a slot's task as a spawned future: counted live, panics caught, and the
//! successor spawned into the same slot when the run asked for one.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use futures::future::CatchUnwind;
use futures::FutureExt;

use crate::group::{lock, LiveGuard};
use crate::join::panic_message;
use crate::spawner::{RawOutput, RawTask, Spawner};
use crate::task::{Next, Task, TaskCx};

/// Builds and spawns one incarnation of a rescheduling task for a given context. Behind
/// `dyn` so that [`TaskCx`] names no task type.
pub(crate) trait Incarnate: Send + Sync + 'static {
    fn spawn(&self, cx: TaskCx, live: LiveGuard) -> Box<dyn RawTask>;
}

/// The explicit form: a function called afresh for each run.
pub(crate) struct FnTask<F>(pub(crate) F);

impl<F, Fut> Incarnate for FnTask<F>
where
    F: Fn(TaskCx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn spawn(&self, cx: TaskCx, live: LiveGuard) -> Box<dyn RawTask> {
        let body = (self.0)(cx.clone());
        launch(cx, body, live)
    }
}

/// The idiomatic form's driver: one spawned task running `task` until it says stop.
pub(crate) async fn run_task<T: Task>(mut task: T, cx: TaskCx) {
    while let Next::Reschedule = task.run(&cx).await {
        YieldOnce(false).await;
    }
}

/// Gives the scheduler one turn: wakes its task and is pending once. Every runtime puts a
/// task that wakes itself while running at the back of its queue, so this is the runtimes'
/// own yield, without the allocation of a boxed `Spawner::yield_now` on every run.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Spawns one incarnation running `body` (polled in the slot's span). `live` counts it (a new guard
/// for a first run, the predecessor's guard for a rescheduled run, so a hop never counts
/// two tasks).
pub(crate) fn launch<Fut>(cx: TaskCx, body: Fut, live: LiveGuard) -> Box<dyn RawTask>
where
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = cx.slot.group.runtime.clone();
    let body = AssertUnwindSafe(body).catch_unwind();
    runtime.spawn_raw(Box::pin(Incarnation {
        body: Some(body),
        cx,
        live: Some(live),
    }))
}

pin_project_lite::pin_project! {
    /// Fields drop in declaration order: when an incarnation is cancelled its body's
    /// destructors have run before the live count falls.
    struct Incarnation<F> {
        #[pin]
        body: Option<CatchUnwind<AssertUnwindSafe<F>>>,
        cx: TaskCx,
        live: Option<LiveGuard>,
    }
}

impl<F: Future<Output = ()>> Future for Incarnation<F> {
    type Output = RawOutput;

    fn poll(self: Pin<&mut Self>, task_cx: &mut Context<'_>) -> Poll<RawOutput> {
        let mut this = self.project();
        // The slot's span, entered here rather than copied into every run's future.
        let _in_span = this.cx.slot.span.enter();
        if let Some(body) = this.body.as_mut().as_pin_mut() {
            let ended = std::task::ready!(body.poll(task_cx));
            // The run is over: drop it before a successor can start.
            this.body.set(None);
            if let Some(live) = this.live.take() {
                finish(this.cx, ended.err(), live);
            }
        }
        Poll::Ready(Ok(Box::new(()) as Box<dyn Any + Send>))
    }
}

/// After a run has ended (normally or by a panic; a cancelled run is dropped instead):
/// spawns its successor if it asked for one and is still the slot's current task, else
/// empties the slot if it still is.
fn finish(cx: &TaskCx, panic: Option<Box<dyn Any + Send>>, live: LiveGuard) {
    if let Some(payload) = &panic {
        tracing::error!(
            thread = %cx.thread_id(),
            task = %cx.task_name(),
            "task panicked: {}; its slot is now empty",
            panic_message(payload.as_ref())
        );
        if let Some(hook) = cx
            .slot
            .group
            .panic_hook
            .get()
            .and_then(|hook| hook.upgrade())
        {
            hook.task_panicked(cx.task_name(), &panic_message(payload.as_ref()));
        }
    }
    let mut state = lock(&cx.slot.state);
    if state.generation() != cx.generation {
        return;
    }
    let asked = cx.slot.reschedule_requested.load(Ordering::Acquire) == cx.generation;
    let generation = cx.slot.advance(&mut state);
    let ended = state.task.take();
    if let (Some(incarnate), true, None) = (&state.incarnate, asked, &panic) {
        let next = cx.successor(generation);
        state.task = Some(incarnate.spawn(next, live));
        return;
    }
    // No successor: the task function goes too, dropped outside the lock (user code).
    let task_fn = state.incarnate.take();
    drop(state);
    drop((ended, task_fn));
}
