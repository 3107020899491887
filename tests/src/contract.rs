//! The `Spawner` contract, checked first (core's `contract` page says it in full).
//!
//! A backend that breaks one of these parts breaks other cases far from the cause: a task
//! that reschedules itself starves its worker and a case hangs, a task left running after
//! `block_on` leaks into the next case. So [`crate::run_case`] runs these checks once per
//! backend before any case, and a breach fails every case with the sentence below that
//! names the part broken. Each check is also a case of its own (the `contract::` tests).
//!
//! Each check returns the [`Breach`] it found rather than panicking, so that
//! `tests/tests/contract_breaches.rs` can show that each one fails on a backend broken on
//! purpose (`crate::broken_backends`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::channel::{mpsc, oneshot};
use futures::StreamExt;
use task_thread::{
    Backend, JoinError, Next, RawOutput, Runtime, SlotError, Spawner, SpawnerExt, Task, TaskCx,
    TaskGroup,
};

use crate::fixtures::{drop_flag, Counter, PanicsWhenDropped, SetOnDrop};

/// A part of the contract that a backend breaks, and what the check saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breach {
    /// The part broken, in the words of core's `contract` page.
    pub part: Part,
    /// What the check saw.
    pub seen: String,
}

/// The parts of the contract the checks cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// `Spawner::defer_wake` lets the other ready tasks run before the waker's task.
    DeferWake,
    /// A cancel whose future panics while dropped harms neither the worker nor the process.
    PanicWhileDropped,
    /// `RawTask::poll_end` reports an end only once the future has been dropped.
    EndAfterDrop,
    /// When `Backend::block_on` returns, its tasks are dropped and its runtime refuses spawns.
    BlockOnEnd,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::DeferWake => {
                "Spawner::defer_wake must let the other tasks ready on the worker run before \
                 the woken task is polled again"
            }
            Part::PanicWhileDropped => {
                "a task whose destructor panics during a cancel must read as cancelled, and \
                 its worker must go on running tasks"
            }
            Part::EndAfterDrop => {
                "RawTask::poll_end must report a task's end only after its future has been \
                 dropped"
            }
            Part::BlockOnEnd => {
                "when Backend::block_on returns, every task it spawned must have been \
                 dropped, and a spawn through its Runtime must be refused"
            }
        })
    }
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the backend breaks the Spawner contract: {}; seen: {}",
            self.part, self.seen
        )
    }
}

impl std::error::Error for Breach {}

fn breach(part: Part, seen: impl Into<String>) -> Result<(), Breach> {
    Err(Breach {
        part,
        seen: seen.into(),
    })
}

/// The checks that run on a runtime, one after the other: the first breach.
pub async fn checks_on_a_runtime(rt: Runtime) -> Result<(), Breach> {
    a_rescheduling_task_lets_others_run(rt.clone()).await?;
    a_panic_while_a_task_is_dropped_harms_nothing(rt.clone()).await?;
    the_end_of_a_task_is_seen_after_its_destructors_ran(rt).await
}

/// How many times a task reschedules itself, at most, waiting for another task to run: a
/// fair runtime lets the other run within a few.
pub const PATIENCE: usize = 10_000;

/// A task that reschedules itself lets a task ready on its worker run: in both slot forms
/// and through `yield_now`.
///
/// So that the check holds on a runtime of several workers too, it runs four spinners per
/// core, each spawning the task it waits for on its first run: on an executor that polls a
/// self-woken task again at once, every worker is then held by a spinner while the tasks
/// they wait for sit in a queue.
pub async fn a_rescheduling_task_lets_others_run(rt: Runtime) -> Result<(), Breach> {
    let spinners = 4 * std::thread::available_parallelism().map_or(2, |n| n.get());
    let group = TaskGroup::new(rt.clone(), "contract");
    for form in [Form::Explicit, Form::Task, Form::YieldNow] {
        let (report, mut reports) = mpsc::unbounded::<usize>();
        for number in 0..spinners {
            let spinner = Spinner {
                runtime: rt.clone(),
                runs: Counter::default(),
                other_ran: Arc::new(AtomicBool::new(false)),
                report: report.clone(),
            };
            form.start(spinner, &group, number).await;
        }
        for _ in 0..spinners {
            let runs = reports.next().await.expect("each spinner reports");
            if runs >= PATIENCE {
                return breach(
                    Part::DeferWake,
                    format!(
                        "a task rescheduling itself ({form:?}) ran {runs} times in a row \
                         while a task it had spawned was ready (an executor that polls a \
                         self-woken task again at once needs defer_wake to go through its \
                         queue)"
                    ),
                );
            }
        }
    }
    Ok(())
}

/// How a task reschedules itself.
#[derive(Clone, Copy, Debug)]
enum Form {
    /// A slot's task function, run again after `re_schedule`.
    Explicit,
    /// A slot's [`Task`], run again after returning `Next::Reschedule`.
    Task,
    /// A spawned loop around `yield_now`.
    YieldNow,
}

impl Form {
    async fn start(self, spinner: Spinner, group: &TaskGroup, number: usize) {
        let slot = group.slot(&format!("{self:?} {number}"));
        match self {
            Form::Explicit => {
                let spinner = std::sync::Mutex::new(spinner);
                slot.re_create_fn(move |cx| {
                    let next = spinner.lock().unwrap().turn();
                    async move {
                        if let Next::Reschedule = next {
                            cx.re_schedule();
                        }
                    }
                })
                .await
                .expect("the spinner starts");
            }
            Form::Task => slot.re_create(spinner).await.expect("the spinner starts"),
            Form::YieldNow => {
                let rt = group.runtime().clone();
                let mut spinner = spinner;
                drop(group.runtime().spawn(async move {
                    while let Next::Reschedule = spinner.turn() {
                        rt.yield_now().await;
                    }
                }));
            }
        }
    }
}

/// Spawns another task on its first turn, then counts its turns; stops once the other task
/// has run, or after [`PATIENCE`] turns.
struct Spinner {
    runtime: Runtime,
    runs: Counter,
    other_ran: Arc<AtomicBool>,
    report: mpsc::UnboundedSender<usize>,
}

impl Spinner {
    fn turn(&mut self) -> Next {
        let runs = self.runs.bump();
        if runs == 1 {
            let other_ran = self.other_ran.clone();
            drop(
                self.runtime
                    .spawn(async move { other_ran.store(true, Ordering::SeqCst) }),
            );
        }
        if self.other_ran.load(Ordering::SeqCst) || runs >= PATIENCE {
            let _ = self.report.unbounded_send(runs);
            return Next::Stop;
        }
        Next::Reschedule
    }
}

impl Task for Spinner {
    async fn run(&mut self, _cx: &TaskCx) -> Next {
        self.turn()
    }
}

/// A task whose destructor panics when a cancel drops it reads as cancelled, and every
/// worker still runs tasks afterwards (the process lives on).
pub async fn a_panic_while_a_task_is_dropped_harms_nothing(rt: Runtime) -> Result<(), Breach> {
    let (started, has_started) = oneshot::channel();
    let mut doomed = rt.spawn(async move {
        let _panics = PanicsWhenDropped;
        let _ = started.send(());
        futures::future::pending::<()>().await;
    });
    has_started.await.expect("the task starts");
    doomed.cancel();
    let end = doomed.await;
    if end != Err(JoinError::Cancelled) {
        return breach(
            Part::PanicWhileDropped,
            format!("the task's end read {end:?}, not cancelled"),
        );
    }
    // More tasks than workers, each run to its end.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let tasks: Vec<_> = (0..4 * workers)
        .map(|n| rt.spawn(async move { n }))
        .collect();
    for (n, task) in tasks.into_iter().enumerate() {
        let end = task.await;
        if end != Ok(n) {
            return breach(
                Part::PanicWhileDropped,
                format!("a task spawned after the cancel ended {end:?}"),
            );
        }
    }
    Ok(())
}

/// Whoever sees a task's end sees it after the task's destructors ran: the end of a task
/// that returned, and of one cancelled while it waited.
pub async fn the_end_of_a_task_is_seen_after_its_destructors_ran(
    rt: Runtime,
) -> Result<(), Breach> {
    let (dropped, guard) = drop_flag();
    let returned = rt.spawn(HoldsUntilDropped { _guard: guard }).await;
    if returned.is_err() || !dropped.load(Ordering::SeqCst) {
        return breach(
            Part::EndAfterDrop,
            format!("a task that returned ended {returned:?} before its future was dropped"),
        );
    }
    let (dropped, guard) = drop_flag();
    let (started, has_started) = oneshot::channel();
    let mut waiting = rt.spawn(async move {
        let _guard = guard;
        let _ = started.send(());
        futures::future::pending::<()>().await;
    });
    has_started.await.expect("the task starts");
    waiting.cancel();
    let cancelled = waiting.await;
    if !dropped.load(Ordering::SeqCst) {
        return breach(
            Part::EndAfterDrop,
            format!("a cancelled task ended {cancelled:?} before its future was dropped"),
        );
    }
    Ok(())
}

/// A future that is ready at once and keeps its guard until it is dropped (after its last
/// poll, unlike an `async` block's locals).
struct HoldsUntilDropped {
    _guard: SetOnDrop,
}

impl Future for HoldsUntilDropped {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

/// When `block_on` returns, the tasks it spawned are dropped (a detached one and a slot's),
/// and a spawn through its runtime is refused with [`SlotError::Refused`].
pub fn block_on_leaves_no_task_behind<B: Backend>(backend: &B) -> Result<(), Breach> {
    let (detached_dropped, detached_guard) = drop_flag();
    let (slot_dropped, slot_guard) = drop_flag();
    let (handleless_dropped, handleless_guard) = drop_flag();
    let (runtime, _group) = backend.block_on(|rt| async move {
        let (started, has_started) = oneshot::channel();
        drop(rt.spawn(async move {
            let _guard = detached_guard;
            let _ = started.send(());
            futures::future::pending::<()>().await;
        }));
        has_started.await.expect("the detached task starts");
        // And one spawned without a handle (a thread's own task is).
        let (started, has_started) = oneshot::channel();
        let task = async move {
            let _guard = handleless_guard;
            let _ = started.send(());
            futures::future::pending::<RawOutput>().await
        };
        rt.spawn_named_detached(format_args!("handleless"), Box::pin(task));
        has_started
            .await
            .expect("the task spawned without a handle starts");
        let group = TaskGroup::new(rt.clone(), "contract");
        let slot_guard = std::sync::Mutex::new(Some(slot_guard));
        group
            .slot("left_running")
            .re_create_fn(move |cx| {
                let guard = slot_guard.lock().unwrap().take();
                async move {
                    let _guard = guard;
                    cx.sleep(Duration::from_secs(3600)).await;
                }
            })
            .await
            .expect("the slot's task starts");
        // The group is kept past the end: only the end of block_on may drop its task.
        (rt, group)
    });
    for (task, dropped) in [
        ("a detached task", detached_dropped),
        ("a task spawned without a handle", handleless_dropped),
        ("a slot's task", slot_dropped),
    ] {
        if !dropped.load(Ordering::SeqCst) {
            return breach(
                Part::BlockOnEnd,
                format!("{task} spawned in block_on was still alive after block_on returned"),
            );
        }
    }
    let group = TaskGroup::new(runtime, "after_block_on");
    let late = group.slot("late");
    let started = crate::runtimes::on_another_thread("a spawn after block_on", move || {
        futures::executor::block_on(late.re_create_fn(|cx| async move {
            cx.sleep(Duration::from_secs(3600)).await;
        }))
    });
    if !matches!(started, Err(SlotError::Refused { .. })) {
        return breach(
            Part::BlockOnEnd,
            format!("a spawn after block_on returned gave {started:?}, not Refused"),
        );
    }
    // A spawn without a handle is refused too: its future is dropped before the call returns.
    let (dropped, guard) = drop_flag();
    let late = async move {
        let _guard = guard;
        futures::future::pending::<RawOutput>().await
    };
    group
        .runtime()
        .spawn_named_detached(format_args!("late"), Box::pin(late));
    if !dropped.load(Ordering::SeqCst) {
        return breach(
            Part::BlockOnEnd,
            "a spawn without a handle after block_on returned kept its future".to_owned(),
        );
    }
    Ok(())
}
