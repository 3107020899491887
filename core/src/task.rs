//! The unit of work of a slot: the [`Task`] trait, its [`Next`] step, and its context [`TaskCx`].

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::notice::ShutdownNotice;
use crate::slot::SlotShared;
use crate::spawner::SpawnerExt;
use crate::spawner::{Runtime, Spawner};
use crate::{TaskThread, ThreadCx};

/// What a [`Task`] wants after one run.
///
/// ```
/// use task_thread_core::{Next, Task, TaskCx};
///
/// /// Runs three times, then leaves its slot empty.
/// struct Thrice(u8);
///
/// impl Task for Thrice {
///     async fn run(&mut self, _cx: &TaskCx) -> Next {
///         self.0 += 1;
///         if self.0 < 3 { Next::Reschedule } else { Next::Stop }
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Run again, in the same slot, after yielding to the scheduler.
    #[doc(alias = "reSchedule")]
    Reschedule,
    /// End the task; the slot becomes empty.
    Stop,
}

/// One unit of work that runs again and again in a [`TaskSlot`](crate::TaskSlot): the
/// idiomatic form of the original's "do one thing, then reschedule yourself".
///
/// The task's fields persist from one run to the next. Between two runs the library yields
/// to the scheduler; a `delete` or `re_create` of the slot takes effect there or at any
/// `.await` inside `run`. Implement it with `async fn`.
///
/// `T` is the thread whose slot the task runs in (`()` for a bare [`TaskGroup`](crate::TaskGroup)):
/// a task of a thread's slot reaches its thread through
/// [`cx.thread()`](TaskCx::thread). A task that does not need its thread implements
/// `Task<T>` for every `T`, and runs in any slot:
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::{LeafThread, Next, Task, TaskCx};
///
/// struct Hello { count: u32 }
///
/// impl<T> Task<T> for Hello {
///     async fn run(&mut self, cx: &TaskCx<T>) -> Next {
///         cx.sleep(Duration::from_secs(1)).await;
///         self.count += 1;
///         tracing::info!("Hello #{} from {}", self.count, cx.thread_id());
///         Next::Reschedule
///     }
/// }
///
/// /// Reports each reading to the thread's parent.
/// struct Report;
///
/// impl Task<Sensor> for Report {
///     async fn run(&mut self, cx: &TaskCx<Sensor>) -> Next {
///         cx.sleep(Duration::from_secs(1)).await;
///         match cx.thread().send_to_parent(21.5).await {
///             Ok(()) => Next::Reschedule,
///             Err(_) => Next::Stop, // nobody listens any more
///         }
///     }
/// }
/// # struct Sensor;
/// # impl LeafThread for Sensor {
/// #     type Signal = ();
/// #     type Output = f64;
/// #     fn id(&self) -> String { "sensor".into() }
/// # }
/// ```
pub trait Task<T = ()>: Send + 'static {
    /// Does one unit of work and says whether to run again.
    fn run(&mut self, cx: &TaskCx<T>) -> impl Future<Output = Next> + Send;
}

/// What a running task knows of where it runs: its thread, its slot, its runtime.
///
/// `T` is the thread whose slot the task runs in, `()` for a bare
/// [`TaskGroup`](crate::TaskGroup); a thread's task reaches its thread's context through
/// [`thread`](Self::thread), typed, with nothing to clone before a `move`.
///
/// Cloning is cheap. A `TaskCx` belongs to one incarnation of the slot's task: once the
/// slot has been deleted, re-created or rescheduled, [`re_schedule`](Self::re_schedule)
/// through it does nothing.
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::TaskCx;
///
/// // The explicit form: each run gets its context, and asks for the next run through it.
/// async fn heartbeat<T>(cx: TaskCx<T>) {
///     cx.sleep(Duration::from_secs(1)).await;
///     tracing::info!(thread = cx.thread_id(), task = cx.task_name(), "alive");
///     cx.re_schedule();
/// }
/// ```
pub struct TaskCx<T = ()> {
    pub(crate) slot: Arc<SlotShared>,
    /// The slot generation this incarnation was spawned with.
    pub(crate) generation: u64,
    /// Whether the task is of the explicit form (`re_create_fn`), which reschedules
    /// through [`re_schedule`](Self::re_schedule).
    pub(crate) explicit: bool,
    /// The thread type, whose context the slot holds (see `SlotShared::thread`).
    thread: PhantomData<fn() -> T>,
}

impl<T> Clone for TaskCx<T> {
    fn clone(&self) -> Self {
        TaskCx {
            slot: self.slot.clone(),
            generation: self.generation,
            explicit: self.explicit,
            thread: PhantomData,
        }
    }
}

impl<T: TaskThread> TaskCx<T> {
    /// The context of the thread whose slot runs this task: to send to its parent, start
    /// children, end it with its handle's `terminate`.
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
    #[must_use]
    pub fn thread(&self) -> &ThreadCx<T> {
        self.slot.thread::<T>()
    }
}

impl<T> TaskCx<T> {
    pub(crate) fn new(slot: Arc<SlotShared>, generation: u64) -> Self {
        TaskCx {
            slot,
            generation,
            explicit: false,
            thread: PhantomData,
        }
    }

    /// The id of the thread owning the task's slot.
    #[must_use]
    pub fn thread_id(&self) -> &str {
        &self.slot.group.owner
    }

    /// The name of the task's slot.
    #[must_use]
    pub fn task_name(&self) -> &str {
        &self.slot.name
    }

    /// The runtime the task runs on.
    #[must_use]
    pub fn runtime(&self) -> &Runtime {
        &self.slot.group.runtime
    }

    /// Sleeps for `duration` on the task's runtime, or until the thread's shutdown notice
    /// fires, whichever comes first (at once if it has fired): a task that sleeps between
    /// runs does not hold its thread's shutdown up for the grace. What follows the sleep
    /// then runs once more (a periodic flush flushes what it holds); a task whose step must
    /// not run at shutdown checks [`is_shutting_down`](Self::is_shutting_down) after the
    /// sleep. [`Spawner::sleep`] on [`runtime`](Self::runtime) sleeps its whole duration.
    ///
    /// ```
    /// use std::time::Duration;
    /// use task_thread_core::{Next, Task, TaskCx};
    ///
    /// /// Writes its readings out every minute, and a last time when its thread ends.
    /// struct Flusher { readings: Vec<f64> }
    ///
    /// impl<T> Task<T> for Flusher {
    ///     async fn run(&mut self, cx: &TaskCx<T>) -> Next {
    ///         cx.sleep(Duration::from_secs(60)).await; // cut short by the notice
    ///         tracing::info!("writing {} readings", self.readings.len());
    ///         self.readings.clear();
    ///         Next::Reschedule // not run again once the notice has fired
    ///     }
    /// }
    /// ```
    pub fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        crate::notice::sleep(&self.slot, self.slot.group.runtime.sleep(duration))
    }

    /// Whether the thread's shutdown notice has fired: the thread is ending, and this task
    /// should finish what it is doing and return (see [`shutting_down`](Self::shutting_down)).
    /// One atomic load. Always false in a [`TaskGroup`](crate::TaskGroup) that belongs to
    /// no thread.
    pub fn is_shutting_down(&self) -> bool {
        self.slot.group.notice.has_fired()
    }

    /// The thread's shutdown notice, as a future that completes once the thread's shutdown
    /// has begun ([`ShutdownNotice`]). Until it is over, the thread's
    /// [grace](crate::ThreadConfig::shutdown_grace) lets the task finish its work and
    /// return by itself; what has not returned then is cancelled. Once it has fired, a
    /// [`Task`]'s `run` is not called again and [`re_schedule`](Self::re_schedule) asks for
    /// no further run.
    ///
    /// ```
    /// use task_thread_core::TaskCx;
    ///
    /// // Holds a session open until its thread ends, then closes it properly.
    /// async fn session<T>(cx: TaskCx<T>) {
    ///     tracing::info!("{}: session open", cx.thread_id());
    ///     cx.shutting_down().await;
    ///     tracing::info!("{}: goodbye", cx.thread_id());
    /// }
    /// ```
    pub fn shutting_down(&self) -> ShutdownNotice {
        ShutdownNotice::new(self.slot.group.clone())
    }

    /// Yields to the scheduler once ([`SpawnerExt::yield_now`](crate::SpawnerExt::yield_now)
    /// on the task's runtime).
    pub fn yield_now(&self) -> impl Future<Output = ()> + Send + '_ {
        self.slot.group.runtime.yield_now()
    }

    /// Asks for the task function to run again, as a fresh run in the same slot, once
    /// this run returns (the explicit form, see
    /// [`TaskSlot::re_create_fn`](crate::TaskSlot::re_create_fn)). The successor always lands
    /// in the slot this task came from, and starts only after this run has returned and been
    /// dropped, so a slot never has two runs alive. A `delete` or `re_create` before then
    /// cancels the request.
    ///
    /// Returns `false`, and requests nothing, when this run is no longer its slot's current
    /// task (the slot was deleted or re-created) or has already asked, once the thread's
    /// shutdown notice has fired (the run under way is the last; a request made just before
    /// it fired still starts one run, which sees the notice), and for a [`Task`]-form task,
    /// which reschedules by returning [`Next::Reschedule`].
    #[doc(alias = "reSchedule")]
    pub fn re_schedule(&self) -> bool {
        if !self.explicit {
            tracing::warn!(
                thread = %self.thread_id(),
                task = %self.task_name(),
                "re_schedule called from a Task-form task: return Next::Reschedule instead"
            );
            return false;
        }
        // Lock-free (see `GenerationMirror`): a request from a run that stopped being
        // current meanwhile is ignored where it is read, in `finish`, under the lock.
        !self.is_shutting_down() && self.slot.generations.ask(self.generation)
    }
}

impl<T> TaskCx<T> {
    /// Whether this run has asked for a successor with [`re_schedule`](Self::re_schedule).
    pub(crate) fn has_asked_again(&self) -> bool {
        self.slot.generations.asked(self.generation)
    }

    /// Fails the owning thread with `failure` (nothing for a bare group).
    pub(crate) fn tell_thread(&self, failure: crate::Failure) {
        if let Some(hook) = self.slot.group.owner_hook() {
            hook.task_failed(failure);
        }
    }
}

impl<T> std::fmt::Debug for TaskCx<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskCx")
            .field("thread", &self.thread_id())
            .field("task", &self.task_name())
            .field("generation", &self.generation)
            .finish()
    }
}
