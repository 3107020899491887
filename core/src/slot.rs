//! [`TaskSlot`]: the place of one live task, with the reCreate / reSchedule / delete rules.

mod ending;
mod observing;
mod state;

pub(crate) use ending::{end_together, Ending, Endings};
pub(crate) use state::{InFlight, SlotShared, SlotState};

use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::error::SlotError;
use crate::generation_mirror::GenerationMirror;
use crate::group::{lock, GroupShared, LiveGuard};
use crate::incarnation::{launch, launch_once, run_task};
use crate::operation_lock::OperationLock;
use crate::spawner::RawTask;
use crate::task::{Task, TaskCx};
use crate::{TaskThread, ThreadCx};

/// The place of at most one live task of a thread (the original's `self.tasks.x`).
///
/// Invariants, kept under the slot's lock:
/// - the slot holds the handle of its current task or nothing;
/// - every run of the slot's task carries the slot's *generation* at its start; only the
///   run whose generation is still current may reschedule itself, and its successor runs in
///   this same slot (in the same runtime task), started once the current run has returned
///   and been dropped: a slot never has two runs alive. `re_create` and `delete` advance the generation before cancelling, so a
///   task being replaced or deleted can never put a successor back (defect 1 of the original);
/// - `re_create` and `delete` on one slot run one at a time, so the previous task has ended
///   before `re_create` spawns the next one;
/// - `re_create` spawns outside the lock (a runtime that refuses drops user code on the
///   spot); until it stores the handle, `in_flight` records what became of the task (it
///   ended, it was cancelled, its runtime dropped it before or after it ran), which
///   decides whether the handle is stored and what `re_create` returns.
///
/// Compared with a bare [`JoinHandle`](crate::JoinHandle): a slot owns its task (dropping a
/// `TaskSlot` handle does nothing; deleting the slot cancels), survives rescheduling, and
/// bounds every cancel-and-await by a timeout.
///
/// A task must not `re_create` or `delete` its own slot, nor `delete_all` its group: it
/// would wait for its own end until the timeout (or, in `delete_all`, be cancelled itself
/// and leave the later slots running). To stop, a task returns [`Next::Stop`](crate::Next::Stop) (or does not reschedule).
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::{SlotError, TaskGroup};
///
/// async fn poll_then_stop(tasks: &TaskGroup) -> Result<(), SlotError> {
///     let poller = tasks.slot("poller");
///     poller
///         .re_create_fn(|cx| async move {
///             cx.sleep(Duration::from_millis(100)).await;
///             cx.re_schedule();
///         })
///         .await?;
///     assert!(poller.is_live());
///     // Cancelled at its next await, and awaited: nothing of it runs afterwards.
///     poller.delete().await?;
///     assert!(!poller.is_live());
///     Ok(())
/// }
/// ```
pub struct TaskSlot<T = ()> {
    pub(crate) shared: Arc<SlotShared>,
    /// The thread whose context the slot's tasks reach (see [`TaskCx::thread`]).
    thread: PhantomData<fn() -> T>,
}

impl<T> Clone for TaskSlot<T> {
    fn clone(&self) -> Self {
        TaskSlot::of(self.shared.clone())
    }
}

impl TaskSlot {
    pub(crate) fn new(group: Arc<GroupShared>, name: Arc<str>) -> Self {
        // Inside the owning thread's span, whatever span creates the slot: slots made by
        // tasks would otherwise nest one task's span in another's.
        let parent = group.span.id();
        let span = tracing::info_span!(parent: parent, "task", thread = %group.owner, task = %name);
        TaskSlot {
            shared: Arc::new(SlotShared {
                name,
                group,
                span,
                state: Mutex::new(SlotState::empty()),
                generations: GenerationMirror::new(),
                operations: OperationLock::new(),
                looped_runs: AtomicU64::new(0),
                thread: OnceLock::new(),
            }),
            thread: PhantomData,
        }
    }

    /// This slot as a slot of `thread`, whose tasks reach the thread's context.
    pub(crate) fn of_thread<T: TaskThread>(self, thread: &ThreadCx<T>) -> TaskSlot<T> {
        self.shared.thread.get_or_init(|| Box::new(thread.clone()));
        TaskSlot::of(self.shared)
    }
}

impl<T> TaskSlot<T> {
    pub(crate) fn of(shared: Arc<SlotShared>) -> Self {
        TaskSlot {
            shared,
            thread: PhantomData,
        }
    }

    /// The slot's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Whether the slot holds a task that has not ended (a spawned task that has not
    /// started yet counts).
    #[must_use]
    pub fn is_live(&self) -> bool {
        let state = lock(&self.shared.state);
        // Being spawned counts: the task may already be running and asking.
        state.task.is_some() || state.in_flight == InFlight::Spawning
    }

    /// Asks for this slot's task to be cancelled as soon as its thread's shutdown begins,
    /// instead of being given the thread's
    /// [grace](crate::ThreadConfig::shutdown_grace) to return by itself. Returns the slot,
    /// so that it reads as part of starting the task.
    ///
    /// By default a slot's task gets the grace: it finishes the run under way (a `Task`'s
    /// `run` is not called again, a pending [`TaskCx::sleep`] ends early), which is what a
    /// task that writes something needs and costs a task that only sleeps between runs
    /// nothing. The mark is for a task that waits on something else, which the notice does
    /// not end (an `accept`, a read from a peer, a channel), and that has nothing to finish:
    /// without it, its thread's shutdown would wait the whole grace for it.
    ///
    /// The mark stays with the slot while it lives (while a handle or a task of it does).
    /// Once the notice has fired, `re_create` in a marked slot starts nothing
    /// ([`SlotError::Closed`]).
    ///
    /// ```
    /// use task_thread_core::{BoxError, LeafThread, Next, Task, TaskCx, ThreadCx};
    ///
    /// /// Waits for a peer's message: nothing to flush, nothing the notice would interrupt.
    /// struct Listen(futures::channel::mpsc::Receiver<String>);
    ///
    /// impl<T> Task<T> for Listen {
    ///     async fn run(&mut self, _cx: &TaskCx<T>) -> Next {
    ///         use futures::StreamExt;
    ///         match self.0.next().await {
    ///             Some(message) => { tracing::info!("{message}"); Next::Reschedule }
    ///             None => Next::Stop,
    ///         }
    ///     }
    /// }
    ///
    /// struct Peer(Option<futures::channel::mpsc::Receiver<String>>);
    ///
    /// impl LeafThread for Peer {
    ///     type Signal = ();
    ///     type Output = ();
    ///     fn id(&self) -> String { "peer".into() }
    ///
    ///     async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
    ///         let messages = self.0.take().ok_or("entered twice")?;
    ///         cx.slot("listen").cancel_at_once().re_create(Listen(messages)).await?;
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn cancel_at_once(&self) -> &Self {
        lock(&self.shared.state).at_once = true;
        self
    }

    /// Whether [`cancel_at_once`](Self::cancel_at_once) marked the slot.
    pub(crate) fn is_cancelled_at_once(&self) -> bool {
        lock(&self.shared.state).at_once
    }

    /// Wakes the current task's pending sleep, if any (the thread's notice has fired).
    pub(crate) fn wake_sleeper(&self) {
        let sleeper = lock(&self.shared.state).sleeper.take();
        if let Some(waker) = sleeper {
            waker.wake();
        }
    }

    /// Starts `task` in this slot, in the idiomatic form: the library calls
    /// [`Task::run`] again each time it returns [`Next::Reschedule`](crate::Next::Reschedule), yielding to the
    /// scheduler between runs (where a cancel takes effect).
    ///
    /// If the slot holds a live task it is cancelled and awaited first (at most
    /// [`Timeouts::re_create`](crate::Timeouts)); the old task has ended before the new one
    /// starts. On a timeout the new task is not started and the error names the thread and
    /// the task. In a thread that is shutting down (past its `exit`) or has ended, nothing
    /// is started: [`SlotError::Closed`], so no task outlives its thread. A runtime that
    /// refuses the spawn (it is shutting down) gives [`SlotError::Refused`], with the slot
    /// left empty; the task is dropped without the slot's lock held, so its destructors
    /// may use the slot.
    #[doc(alias = "reCreate")]
    pub async fn re_create<K: Task<T>>(&self, task: K) -> Result<(), SlotError>
    where
        T: 'static,
    {
        self.replace(move |cx, live| {
            let body = run_task(task, cx.clone());
            launch_once(cx, body, live)
        })
        .await
    }

    /// Starts `task_fn` in this slot, in the explicit form: each run is a fresh future from
    /// `task_fn`, and a run that wants another calls [`TaskCx::re_schedule`], which runs
    /// `task_fn` again in this same slot once the run has returned (after a turn of the
    /// scheduler, as a spawn would give; the slot's runtime task is reused, so a hop costs a
    /// yield, not a spawn). Replaces a live task exactly like [`re_create`](Self::re_create).
    ///
    ///
    /// The task function is called once per run, so it may keep state across runs (it is an
    /// `FnMut`); it needs to be `Send`, not `Sync`.
    ///
    /// ```
    /// # use task_thread_core::{Backend, TaskGroup, TaskCx};
    /// async fn hello(cx: TaskCx) {
    ///     cx.sleep(std::time::Duration::from_secs(1)).await;
    ///     tracing::info!("Hello from {}", cx.thread_id());
    ///     cx.re_schedule();
    /// }
    /// # fn demo(backend: impl Backend) {
    /// backend.block_on(|rt| async move {
    ///     let group = TaskGroup::new(rt, "main_thread");
    ///     group.slot("hello").re_create_fn(hello).await.unwrap();
    ///     group.slot("hello").delete().await.unwrap();
    /// });
    /// # }
    /// ```
    #[doc(alias = "reCreate")]
    pub async fn re_create_fn<F, Fut>(&self, task_fn: F) -> Result<(), SlotError>
    where
        F: FnMut(TaskCx<T>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
        T: 'static,
    {
        self.replace(move |mut cx, live| {
            cx.explicit = true;
            launch(cx, task_fn, live)
        })
        .await
    }

    /// Cancels the slot's task, waits for its end (at most
    /// [`Timeouts::delete`](crate::Timeouts)) and leaves the slot empty. A no-op on an
    /// empty slot or one whose task has finished. A task that has been spawned but not
    /// started is cancelled before it runs; nothing of the cancellation reaches the caller.
    pub async fn delete(&self) -> Result<(), SlotError> {
        let _operation = self.shared.operations.lock().await;
        self.end_current(self.shared.group.timeouts.delete).await
    }

    /// Empties the slot and asks its task to stop, without waiting for its end.
    pub(crate) fn cancel_now(&self) {
        drop(self.take_current());
    }

    /// Takes the current task out of the slot (so it can no longer reschedule) and cancels
    /// it: the handle returned is the only way left to see it end.
    fn take_current(&self) -> Option<Box<dyn RawTask>> {
        let mut state = lock(&self.shared.state);
        let mut released = state.release(&self.shared.generations, InFlight::Cancelled);
        drop(state);
        let mut task = released.task.take();
        drop(released);
        if let Some(task) = &mut task {
            task.cancel();
        }
        task
    }

    async fn replace(
        &self,
        spawn: impl FnOnce(TaskCx<T>, LiveGuard) -> Box<dyn RawTask>,
    ) -> Result<(), SlotError> {
        let _operation = self.shared.operations.lock().await;
        self.end_current(self.shared.group.timeouts.re_create)
            .await?;
        let closed = || SlotError::Closed {
            thread: self.shared.group.owner.to_string(),
            task: self.shared.name.to_string(),
        };
        if self.shared.group.closed.load(Ordering::SeqCst) {
            return Err(closed());
        }
        let generation = {
            let mut state = lock(&self.shared.state);
            // A slot cancelled at once would see its task cancelled as it starts.
            if state.at_once && self.shared.group.notice.has_fired() {
                return Err(closed());
            }
            state.begin_spawn(&self.shared.generations)
        };
        // Counted by its thread (once per task, off the rescheduling path).
        if let Some(thread) = self.shared.group.owner_hook() {
            thread.task_started();
        }
        let cx = TaskCx::new(self.shared.clone(), generation);
        // Outside the lock: see `InFlight`. Meanwhile the task may run, reschedule itself
        // (the generation moves on, the task stays the slot's), end, be cancelled, or be
        // dropped by its runtime.
        let task = spawn(cx, LiveGuard::new(&self.shared.group));
        let mut state = lock(&self.shared.state);
        let Err((in_flight, mut task)) = state.end_spawn(task) else {
            return Ok(());
        };
        drop(state);
        // Outside the lock: a runtime may drop the task's future in its cancel.
        if in_flight == InFlight::Cancelled {
            task.cancel();
        }
        drop(task);
        if in_flight == InFlight::Refused {
            tracing::error!(
                thread = %self.shared.group.owner,
                task = %self.shared.name,
                "the runtime refused to start the task (it is shutting down)"
            );
            return Err(SlotError::Refused {
                thread: self.shared.group.owner.to_string(),
                task: self.shared.name.to_string(),
            });
        }
        Ok(())
    }

    /// Takes the current task out of the slot, cancels it and waits for its end.
    async fn end_current(&self, timeout: Duration) -> Result<(), SlotError> {
        let ending = self.take_current().map(|task| Ending {
            slot: &self.shared,
            task: Some(task),
            _operation: None,
        });
        end_together(ending.into_iter().collect(), timeout).await
    }

    /// For `delete_all`: waits for the slot's other operations, then takes its task out and
    /// cancels it at once (if the wait for a later slot's lock outlasts the caller's
    /// deadline, nothing taken is left running without a handle). The guard keeps other
    /// operations out until the task has ended.
    pub(crate) async fn take_for_deletion(&self) -> Ending<'_> {
        let operation = self.shared.operations.lock().await;
        Ending {
            slot: &self.shared,
            task: self.take_current(),
            _operation: Some(operation),
        }
    }
}

impl<T> std::fmt::Debug for TaskSlot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskSlot")
            .field("thread", &self.shared.group.owner)
            .field("name", &self.shared.name)
            .field("live", &self.is_live())
            .finish()
    }
}
