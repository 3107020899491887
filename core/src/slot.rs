//! [`TaskSlot`]: the place of one live task, with the reCreate / reSchedule / delete rules.

mod observing;
use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use crate::error::SlotError;
use crate::generation_mirror::GenerationMirror;
use crate::group::{lock, GroupShared, LiveGuard};
use crate::incarnation::{launch, launch_once, run_task};
use crate::operation_lock::{OperationGuard, OperationLock};
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

pub(crate) struct SlotShared {
    pub(crate) name: Arc<str>,
    pub(crate) group: Arc<GroupShared>,
    /// The span every incarnation of the slot's task runs in.
    pub(crate) span: tracing::Span,
    pub(crate) state: Mutex<SlotState>,
    /// The current generation and the last run's ask for a successor, read and written
    /// by the running task without the lock.
    pub(crate) generations: GenerationMirror,
    /// Serialises `re_create` and `delete`; never taken by the rescheduling hot path.
    operations: OperationLock,
    /// The runs of its [`Task`]-form tasks after their first: such a task loops inside one
    /// generation (see `run_task`), so its runs are not generations. Written by the running
    /// task only (one at a time: `re_create` awaits the old task's end before spawning the
    /// next), as a relaxed load and store, no read-modify-write on the hop; read by
    /// snapshots.
    pub(crate) looped_runs: AtomicU64,
    /// The owning thread's context (a `ThreadCx<T>`), set when the thread first names the
    /// slot through its context: what [`TaskCx::thread`] hands out. Kept by the slot, not
    /// the group, which the thread holds: the slot is held by its handles and tasks only,
    /// so no cycle keeps an ended thread.
    thread: OnceLock<Box<dyn Any + Send + Sync>>,
}

pub(crate) struct SlotState {
    /// Advanced (by [`SlotShared::advance`]) whenever the current task changes or leaves.
    generation: u64,
    /// The handle of the current task.
    pub(crate) task: Option<Box<dyn RawTask>>,
    /// A task `re_create` is spawning outside the lock, and what became of it meanwhile.
    pub(crate) in_flight: InFlight,
    /// Set by [`TaskSlot::cancel_at_once`]: the thread's shutdown cancels this slot's task
    /// when it begins, without the grace.
    at_once: bool,
    /// The waker of the current task's pending [`TaskCx::sleep`], which the thread's
    /// shutdown notice wakes (see `notice::Sleep`); let go when the task leaves the slot.
    pub(crate) sleeper: Option<Waker>,
    /// How many times a task left the slot (each a generation that was not a run): the
    /// runs are the generations less these, so the rescheduling path counts nothing more
    /// than it did. In what would be padding; it wraps after 2^32 tasks.
    releases: u32,
    /// Whether the slot has been warned about as a runaway (once per slot).
    runaway_warned: bool,
}

/// The task of a `re_create` between its spawn and the storing of its handle: the spawn
/// is made outside the slot's lock, because a runtime that refuses it drops the task's
/// future (user code, which may use the slot) on the spot.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum InFlight {
    /// No spawn in progress.
    No,
    /// Spawned (or being spawned); its handle is not stored yet.
    Spawning,
    /// It has already ended (its last run returned or panicked): the handle is not stored.
    Ended,
    /// Cancelled meanwhile (a `cancel_all`): the handle is cancelled, not stored.
    Cancelled,
    /// Dropped by the runtime without having ended (it refused the spawn, or is shutting
    /// down): `re_create` fails with [`SlotError::Refused`].
    Refused,
}

impl SlotState {
    /// A slot that has never had a task.
    pub(crate) fn empty() -> Self {
        SlotState {
            generation: 0,
            task: None,
            in_flight: InFlight::No,
            at_once: false,
            sleeper: None,
            releases: 0,
            runaway_warned: false,
        }
    }

    /// The runs its tasks have started or been scheduled for, as generations count them:
    /// each generation is a task's first run (`begin_spawn`), a successor (`finish`) or a
    /// task leaving (`release`). A [`Task`]'s later runs are in
    /// [`SlotShared::looped_runs`] instead (see [`SlotShared::runs`]).
    pub(crate) fn runs(&self) -> u64 {
        self.generation.wrapping_sub(u64::from(self.releases))
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Moves the slot to its next generation (its lock held: `self`); returns the new one.
    pub(crate) fn advance(&mut self, generations: &GenerationMirror) -> u64 {
        self.generation += 1;
        generations.set_current(self.generation);
        self.generation
    }

    /// The current task leaves the slot: it ended, it is taken out, or its runtime dropped
    /// it. The slot moves to its next generation (nothing of that task can reschedule) and
    /// gives up the task's handle, to be dropped or cancelled outside the lock; a
    /// `re_create` still spawning the task finds `outcome` instead of storing its handle
    /// (see [`end_spawn`](Self::end_spawn)).
    ///
    /// A task sleeping through a context of the slot (a helper the task spawned with a
    /// clone of it) is woken as the [`Released`] is dropped, outside the lock: its sleep
    /// then listens to the notice by itself instead of through the slot.
    pub(crate) fn release(
        &mut self,
        generations: &GenerationMirror,
        outcome: InFlight,
    ) -> Released {
        self.advance(generations);
        self.releases = self.releases.wrapping_add(1);
        if self.in_flight == InFlight::Spawning {
            self.in_flight = outcome;
        }
        Released {
            task: self.task.take(),
            sleeper: self.sleeper.take(),
        }
    }

    /// `re_create` spawns a task, outside the lock from now on: the slot moves to the
    /// task's generation (returned), and what becomes of the task meanwhile is kept.
    pub(crate) fn begin_spawn(&mut self, generations: &GenerationMirror) -> u64 {
        self.in_flight = InFlight::Spawning;
        self.advance(generations)
    }

    /// The spawn begun by [`begin_spawn`](Self::begin_spawn) has returned the task's
    /// handle: kept if the task is still the slot's; otherwise handed back with what became
    /// of the task (it ended, was cancelled, or was refused), for the caller to cancel or
    /// drop outside the lock.
    pub(crate) fn end_spawn(
        &mut self,
        task: Box<dyn RawTask>,
    ) -> Result<(), (InFlight, Box<dyn RawTask>)> {
        match std::mem::replace(&mut self.in_flight, InFlight::No) {
            InFlight::Spawning => {
                self.task = Some(task);
                Ok(())
            }
            meanwhile => Err((meanwhile, task)),
        }
    }
}

impl SlotShared {
    /// The context of the thread `T` that owns the slot.
    pub(crate) fn thread<T: TaskThread>(&self) -> &ThreadCx<T> {
        self.thread
            .get()
            .and_then(|thread| thread.downcast_ref::<ThreadCx<T>>())
            .expect("a TaskCx<T> comes from a slot its thread T named through its context")
    }
}

/// What a task leaving its slot leaves behind, for after the slot's lock: its handle, to
/// drop or cancel, and the waker of a sleep through the slot, woken when this is dropped.
pub(crate) struct Released {
    pub(crate) task: Option<Box<dyn RawTask>>,
    sleeper: Option<Waker>,
}

impl Drop for Released {
    fn drop(&mut self) {
        if let Some(sleeper) = self.sleeper.take() {
            sleeper.wake();
        }
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

/// A slot whose task has been taken out and cancelled, until its end has been seen.
/// Tasks taken from their slots to end together: a delete's one, or a group's few, inline.
pub(crate) type Endings<'a> = smallvec::SmallVec<[Ending<'a>; 1]>;

pub(crate) struct Ending<'a> {
    slot: &'a SlotShared,
    /// The cancelled task; `None` once its end has been seen (or if the slot had none).
    task: Option<Box<dyn RawTask>>,
    /// For `delete_all`: the slot's operation lock, kept until the end has been awaited.
    _operation: Option<OperationGuard<'a>>,
}

/// Waits under one deadline for the ends of tasks already cancelled and taken from their
/// slots. The error names the first slot whose task had not ended when the deadline came;
/// every such task is logged and stays counted as live until it ends.
pub(crate) fn end_together<'a>(
    mut ending: Endings<'a>,
    timeout: Duration,
) -> impl Future<Output = Result<(), SlotError>> + Send + 'a {
    let first_task = ending.iter().find(|end| end.task.is_some());
    let group = first_task.map(|end| end.slot.group.clone());
    // A plain `fn` returning an `async move` block: an `async fn` would keep `ending`
    // twice, and every stopping thread's shutdown holds this future.
    async move {
        let Some(group) = group else {
            return Ok(());
        };
        let started = Instant::now();
        // Awaited one after the other: all were cancelled at once, so while the first ends the
        // others end too, and each later await finds its task ended. No allocation per task
        // (awaiting them as a `FuturesUnordered` would make a node for each), and each handle
        // is released as soon as its end is seen, while the task is still in the cache; what
        // is still held afterwards was not seen ending. `awaited`: the last task awaited (or
        // being awaited when the deadline came).
        let mut awaited = 0;
        let all_ended = async {
            for (index, end) in ending.iter_mut().enumerate() {
                if let Some(task) = &mut end.task {
                    awaited = index;
                    futures::future::poll_fn(|cx| task.poll_end(cx)).await;
                }
                end.task = None;
            }
        };
        let ended = crate::spawner::before(&group.runtime, started + timeout, all_ended).await;
        // An end counts only if it was seen within the deadline: on a single-threaded runtime
        // a task that blocks while being dropped delays the timer too.
        if ended.is_some() && started.elapsed() <= timeout {
            return Ok(());
        }
        // The tasks not seen ending (those still held): each is looked at once more.
        let mut check = Context::from_waker(futures::task::noop_waker_ref());
        let lingering: Vec<&SlotShared> = ending
            .iter_mut()
            .filter_map(|end| {
                let task = end.task.as_mut()?;
                task.poll_end(&mut check).is_pending().then_some(end.slot)
            })
            .collect();
        // Every task ended, but after the deadline: the last, awaited when it came, is named.
        let reported = if lingering.is_empty() {
            vec![ending[awaited].slot]
        } else {
            lingering
        };
        for slot in &reported {
            tracing::error!(
                thread = %group.owner,
                task = %slot.name,
                "task '{}' of thread '{}' did not end within {timeout:?} of being cancelled; it stays counted as live until it ends",
                slot.name,
                group.owner
            );
        }
        Err(SlotError::CancelTimedOut {
            thread: group.owner.to_string(),
            task: reported[0].name.to_string(),
            timeout,
        })
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
