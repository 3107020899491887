//! A slot's task as a spawned future: counted live, panics caught, and each run that asked
//! for a successor followed by a fresh run in the same slot.
//!
//! The successor of an explicit-form run is not a new runtime task: the same task drops the
//! run's future, yields once to the scheduler, and starts the next run from the task
//! function. What a user can observe is the same as a spawn (the run has returned and been
//! dropped before the next starts, other tasks run in between, a delete or re-create stops
//! it), and a hop costs a yield instead of a spawn, two boxes and a handle.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use futures::future::CatchUnwind;
use futures::FutureExt;

use crate::group::{lock, LiveGuard};
use crate::join::{panic_message, panic_of};
use crate::runaway::Streak;
use crate::slot::InFlight;
use crate::spawner::{RawTask, Spawner, SpawnerExt};
use crate::task::{Next, Task, TaskCx};

/// The idiomatic form's driver: one spawned task running `task` until it says stop. A plain
/// `fn` returning an `async move` block: an `async fn` would keep the user's task (and the
/// context) twice for the task's whole life.
#[allow(clippy::manual_async_fn)] // On purpose: see above.
pub(crate) fn run_task<T: 'static, K: Task<T>>(
    mut task: K,
    cx: TaskCx<T>,
) -> impl Future<Output = ()> + Send {
    async move {
        // Watched only if the thread turned the warning on (its setting is fixed): a run
        // then costs the task no count.
        let mut streak = cx.slot.runaway_rate().map(|_| Streak::default());
        loop {
            let (next, waited) = Waits::new(task.run(&cx)).await;
            if next == Next::Stop {
                break;
            }
            if let Some(streak) = &mut streak {
                streak.rescheduled(waited, &cx.slot);
            }
            // The next run counts from now, as an explicit-form successor does from its
            // generation. This task is the counter's only writer (one task per slot at a
            // time): a load and a store, no read-modify-write on the hop.
            let looped = &cx.slot.looped_runs;
            looped.store(looped.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            cx.slot.group.runtime.yield_now().await;
            // After the yield, the last moment before the next run: once the thread's
            // shutdown notice has fired, the run that returned was the last.
            if cx.is_shutting_down() {
                break;
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A run of a `Task`, and whether it waited (returned `Pending` at least once).
    struct Waits<F> {
        #[pin]
        run: F,
        waited: bool,
    }
}

impl<F> Waits<F> {
    fn new(run: F) -> Self {
        Waits { run, waited: false }
    }
}

impl<F: Future> Future for Waits<F> {
    type Output = (F::Output, bool);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.run.poll(cx) {
            Poll::Ready(output) => Poll::Ready((output, *this.waited)),
            Poll::Pending => {
                *this.waited = true;
                Poll::Pending
            }
        }
    }
}

/// Spawns a slot's task of the explicit form: each run, the first included, is made by
/// `task_fn` inside the task (so no user code runs under the slot's lock). `live` counts
/// the task from now until its future is dropped.
pub(crate) fn launch<T: 'static, F, Fut>(
    cx: TaskCx<T>,
    task_fn: F,
    live: LiveGuard,
) -> Box<dyn RawTask>
where
    F: FnMut(TaskCx<T>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    spawn(cx, None, Some(task_fn), live)
}

/// Spawns a task of one run (the [`Task`] form, whose run loops by itself).
pub(crate) fn launch_once<T: 'static, Fut>(
    cx: TaskCx<T>,
    body: Fut,
    live: LiveGuard,
) -> Box<dyn RawTask>
where
    Fut: Future<Output = ()> + Send + 'static,
{
    spawn::<T, fn(TaskCx<T>) -> Fut, Fut>(cx, Some(body), None, live)
}

fn spawn<T: 'static, F, Fut>(
    cx: TaskCx<T>,
    body: Option<Fut>,
    task_fn: Option<F>,
    live: LiveGuard,
) -> Box<dyn RawTask>
where
    F: FnMut(TaskCx<T>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = cx.slot.group.runtime.clone();
    // Named `thread-id/slot-name` for a runtime that shows tasks by name (see
    // `Spawner::spawn_named_raw`).
    let slot = cx.slot.clone();
    let name = format_args!("{}/{}", slot.group.owner, slot.name);
    runtime.spawn_named_raw(
        name,
        Box::pin(Incarnation {
            body: body.map(|body| AssertUnwindSafe(body).catch_unwind()),
            task_fn,
            cx,
            polled: false,
            streak: Streak::default(),
            live,
        }),
    )
}

pin_project_lite::pin_project! {
    /// The runtime drops the task once it has ended or been cancelled (or without either,
    /// when it refuses it or shuts down: see `left_by_runtime`): the run and the
    /// task function go first (below), then the fields in declaration order, so the live
    /// count falls last.
    struct Incarnation<T, F, Fut> {
        #[pin]
        body: Option<CatchUnwind<AssertUnwindSafe<Fut>>>,
        task_fn: Option<F>,
        cx: TaskCx<T>,
        // Whether the runtime has polled it: a task dropped unpolled never ran.
        polled: bool,
        // Its runs in a row that rescheduled without waiting (where `polled` leaves room).
        streak: Streak,
        live: LiveGuard,
    }

    /// A panic in the run's or the task function's destructors is contained and reported
    /// like a run's (some runtimes abort the process on a panic while dropping a task).
    impl<T, F, Fut> PinnedDrop for Incarnation<T, F, Fut> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let mut body = this.body;
            if let Some(panic) = panic_of(|| body.set(None)) {
                report_panic(this.cx, panic.as_ref());
            }
            let task_fn = this.task_fn;
            if let Some(panic) = panic_of(|| drop(task_fn.take())) {
                report_panic(this.cx, panic.as_ref());
            }
            left_by_runtime(this.cx, *this.polled);
        }
    }
}

/// A task dropped while it is still its slot's current one has neither ended nor been
/// cancelled: its runtime dropped it (refused to spawn it, or is shutting down). Its slot
/// must not keep it: a `re_create` still spawning it learns that it was refused (if it
/// never ran) or that it ended (if it did), and otherwise the slot is emptied as if the
/// task had ended. (A task that ended or was cancelled moved the slot to another
/// generation first; the check costs those a load.)
fn left_by_runtime<T>(cx: &TaskCx<T>, polled: bool) {
    if !cx.slot.generations.is_current(cx.generation) {
        return;
    }
    let mut state = lock(&cx.slot.state);
    if state.generation() != cx.generation {
        return;
    }
    let outcome = if polled {
        InFlight::Ended
    } else {
        InFlight::Refused
    };
    let handle = state.release(&cx.slot.generations, outcome);
    drop(state);
    drop(handle);
}

impl<T, F, Fut> Future for Incarnation<T, F, Fut>
where
    F: FnMut(TaskCx<T>) -> Fut,
    Fut: Future<Output = ()>,
{
    type Output = crate::spawner::RawOutput;

    fn poll(self: Pin<&mut Self>, task_cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        *this.polled = true;
        // The slot's span, entered here rather than copied into every run's future.
        let _in_span = this.cx.slot.span.enter();
        // Whether the run under way was made in this poll: if it ends in it, it never waited.
        let mut made_now = false;
        loop {
            let Some(body) = this.body.as_mut().as_pin_mut() else {
                // No run yet, or the last one asked for a successor: make it. The task
                // function is user code: a panic in it ends the task like one in a run.
                let Some(task_fn) = this.task_fn.as_mut() else {
                    break;
                };
                let cx = this.cx.clone();
                match std::panic::catch_unwind(AssertUnwindSafe(|| task_fn(cx))) {
                    Ok(run) => {
                        this.body.set(Some(AssertUnwindSafe(run).catch_unwind()));
                        made_now = true;
                    }
                    Err(panic) => {
                        finish(this.cx, Some(panic), false);
                        break;
                    }
                }
                continue;
            };
            let mut ended = std::task::ready!(body.poll(task_cx)).err();
            // The run is over: drop it before a successor can start (its destructors are
            // user code too).
            let body = &mut this.body;
            ended = ended.or(panic_of(|| body.set(None)));
            match finish(this.cx, ended, this.task_fn.is_some()) {
                Some(next) => {
                    // The successor runs after the scheduler's turn, as a spawned one would.
                    this.cx.generation = next;
                    this.streak.rescheduled(!made_now, &this.cx.slot);
                    this.cx.slot.group.runtime.defer_wake(task_cx.waker());
                    return Poll::Pending;
                }
                None => break,
            }
        }
        // The end: the slot is empty already; dropping the task (see above) releases the
        // task function and then the live count.
        Poll::Ready(Ok(Box::new(()) as Box<dyn Any + Send>))
    }
}

/// After a run has ended (normally or by a panic; a cancelled run is dropped instead):
/// if it asked for a successor, can have one (`can_continue`: the explicit form) and is
/// still the slot's current run, moves the slot to the successor's generation and returns
/// it; else empties the slot if this run still is its current one.
fn finish<T>(
    cx: &TaskCx<T>,
    panic: Option<Box<dyn Any + Send>>,
    can_continue: bool,
) -> Option<u64> {
    if let Some(payload) = &panic {
        report_panic(cx, payload.as_ref());
    }
    let mut state = lock(&cx.slot.state);
    if state.generation() != cx.generation {
        return None;
    }
    let asked = cx.slot.generations.asked(cx.generation);
    if asked && can_continue && panic.is_none() {
        return Some(state.advance(&cx.slot.generations));
    }
    // This task's own handle: dropped (detached) outside the lock.
    let ended = state.release(&cx.slot.generations, InFlight::Ended);
    drop(state);
    drop(ended);
    None
}

/// Logs a panic of the task (a run, its task function, a destructor) with the thread and
/// task names, and tells the owning thread.
fn report_panic<T>(cx: &TaskCx<T>, payload: &(dyn Any + Send)) {
    let message = panic_message(payload);
    tracing::error!(
        thread = %cx.thread_id(),
        task = %cx.task_name(),
        "task panicked: {message}; its slot is now empty"
    );
    let during = format!("task {}", cx.task_name());
    cx.tell_thread(crate::thread::Failure::panicked(during, message));
}
