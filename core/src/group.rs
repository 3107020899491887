//! [`TaskGroup`]: the task slots of one thread, and the count of their live tasks.

use crate::id_map::IdMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use crate::sync::Event;

use crate::error::SlotError;
use crate::notice::Notice;
use crate::notify::{notify_all, wait_for};
use crate::slot::{end_together, Endings, SlotShared, TaskSlot};
use crate::spawner::Runtime;

/// How long slot operations wait for a cancelled task to end.
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::{Runtime, TaskGroup, Timeouts};
///
/// // A group whose tasks must stop quickly, or be reported.
/// fn impatient(rt: Runtime) -> TaskGroup {
///     let timeouts = Timeouts {
///         re_create: Duration::from_secs(1),
///         delete: Duration::from_millis(500),
///     };
///     TaskGroup::with_timeouts(rt, "impatient", timeouts)
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Used by [`TaskSlot::re_create`] for the slot's previous task (default 15 s).
    pub re_create: Duration,
    /// Used by [`TaskSlot::delete`] (default 10 s).
    pub delete: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            re_create: Duration::from_secs(15),
            delete: Duration::from_secs(10),
        }
    }
}

/// The named task slots of one owner (a TaskThread), and the number of their live tasks.
///
/// Invariants:
/// - a slot holds at most one live task; [`TaskSlot::re_create`], a task's
///   [`re_schedule`](crate::TaskCx::re_schedule) and [`TaskSlot::delete`] keep it so;
/// - [`live_tasks`](TaskGroup::live_tasks) counts every task spawned into any slot of the
///   group whose future has not been dropped yet, including a task spawned but not yet
///   polled and a task that outlived a cancel timeout. Zero means nothing of the group runs.
///
/// Cloning a `TaskGroup` gives another handle to the same group.
///
/// ```
/// # use task_thread_core::{Backend, TaskGroup};
/// # fn demo(backend: impl Backend) {
/// backend.block_on(|rt| async move {
///     let group = TaskGroup::new(rt, "main_thread");
///     group.slot("hello").re_create_fn(|cx| async move {
///         cx.sleep(std::time::Duration::from_secs(1)).await;
///         tracing::info!("Hello from {}", cx.thread_id());
///         cx.re_schedule();
///     }).await.unwrap();
///     assert_eq!(group.live_tasks(), 1);
///     group.delete_all().await.unwrap();
///     assert_eq!(group.live_tasks(), 0);
/// });
/// # }
/// ```
#[derive(Clone)]
pub struct TaskGroup {
    pub(crate) shared: Arc<GroupShared>,
}

pub(crate) struct GroupShared {
    pub(crate) runtime: Runtime,
    /// The owner's id, carried into every log line and error of the group's slots.
    pub(crate) owner: Arc<str>,
    pub(crate) timeouts: Timeouts,
    /// Tasks spawned into the group whose futures have not been dropped.
    live: AtomicUsize,
    /// Notified each time `live` falls to zero.
    idle: Event,
    /// Set when the owning thread shuts down: no task is started from then on.
    pub(crate) closed: AtomicBool,
    /// The owning thread's shutdown notice (never fired for a bare group).
    pub(crate) notice: Notice,
    /// Slots by name. Weak: a slot holds its group, so a strong map would keep both alive
    /// forever. A slot lives while a handle or a task of it does; an unused one is dropped,
    /// and asking for its name again gives a fresh, empty slot.
    slots: Mutex<SlotMap>,
    /// Told (task name, panic message) when a task panics; set by the owning thread.
    pub(crate) panic_hook: OnceLock<Weak<dyn PanicHook>>,
    /// The owning thread's span, which the slots' spans sit in (`Span::none()` for a bare
    /// group). Kept here, not in the thread, so a thread holds its span once.
    pub(crate) span: tracing::Span,
    /// The owning thread's [`runaway_rate`](crate::ThreadConfig::runaway_rate), fixed for
    /// its life: read as each `Task`-form task starts, without reaching the thread.
    pub(crate) runaway_rate: Option<NonZeroU32>,
}

/// Told of each failure of a group's tasks (a panic, a supervised task's restarts going
/// past their intensity), after it is logged, and of what it counts of them: the owning
/// thread, held weakly (it holds the group).
pub(crate) trait PanicHook: Send + Sync + 'static {
    fn task_failed(&self, failure: crate::Failure);
    /// A task is started in a slot of the group (its later runs follow reschedules).
    fn task_started(&self);
    /// A slot that had started `runs` runs is forgotten (no handle or task of it is left).
    fn slot_forgotten(&self, runs: u64);
}

/// The group's slots by name, pruned of dropped ones as it grows.
#[derive(Default)]
struct SlotMap {
    names: Names,
    /// The size at which dropped entries are next pruned (amortised: it doubles).
    prune_at: usize,
}

type Entry = (Arc<str>, Weak<SlotShared>);

/// One slot inline (most threads have one: no allocation), a short list while the group
/// has few, a hash map past [`FEW`].
#[derive(Default)]
enum Names {
    #[default]
    Empty,
    One(Entry),
    Few(Vec<Entry>),
    /// Boxed, so that the common cases are small.
    #[allow(clippy::box_collection)]
    Many(Box<IdMap<Weak<SlotShared>>>),
}

const FEW: usize = 8;

impl SlotMap {
    fn get(&self, name: &str) -> Option<TaskSlot> {
        let slot = match &self.names {
            Names::Empty => None,
            Names::One((n, s)) => (&**n == name).then_some(s),
            Names::Few(few) => few.iter().find(|(n, _)| &**n == name).map(|(_, s)| s),
            Names::Many(many) => many.get(name),
        };
        let shared = slot?.upgrade()?;
        Some(TaskSlot::of(shared))
    }

    fn insert(&mut self, slot: &TaskSlot) {
        let entry = (slot.shared.name.clone(), Arc::downgrade(&slot.shared));
        // A dropped slot, or one of the same name (dropped too: `get` found none), is
        // replaced.
        let stale = |(n, s): &Entry| *n == entry.0 || s.strong_count() == 0;
        match std::mem::take(&mut self.names) {
            Names::Empty => self.names = Names::One(entry),
            Names::One(only) if stale(&only) => self.names = Names::One(entry),
            Names::One(only) => self.names = Names::Few(vec![only, entry]),
            Names::Few(mut few) => {
                few.retain(|e| !stale(e));
                if few.len() < FEW {
                    few.push(entry);
                    self.names = Names::Few(few);
                } else {
                    let mut many: Box<IdMap<_>> = Box::new(few.into_iter().collect());
                    many.insert(entry.0, entry.1);
                    self.names = Names::Many(many);
                }
            }
            Names::Many(mut many) => {
                many.insert(entry.0, entry.1);
                if many.len() >= self.prune_at {
                    many.retain(|_, slot| slot.strong_count() > 0);
                    self.prune_at = (2 * many.len()).max(16);
                }
                self.names = Names::Many(many);
            }
        }
    }

    fn live(&self) -> LiveSlots {
        let live = |slot: &Weak<SlotShared>| slot.upgrade().map(TaskSlot::of);
        match &self.names {
            Names::Empty => LiveSlots::new(),
            Names::One((_, slot)) => live(slot).into_iter().collect(),
            Names::Few(few) => few.iter().filter_map(|(_, slot)| live(slot)).collect(),
            Names::Many(many) => many.values().filter_map(live).collect(),
        }
    }
}

/// A group's live slots, listed for one step of its thread's end (most threads have one
/// slot: no allocation for it).
type LiveSlots = smallvec::SmallVec<[TaskSlot; 1]>;

impl TaskGroup {
    /// An empty group owned by `owner` (a thread id), with the default [`Timeouts`].
    pub fn new(runtime: Runtime, owner: impl Into<String>) -> Self {
        Self::with_timeouts(runtime, owner, Timeouts::default())
    }

    /// An empty group with the given cancel timeouts.
    pub fn with_timeouts(runtime: Runtime, owner: impl Into<String>, timeouts: Timeouts) -> Self {
        let owner = owner.into().into();
        Self::build(runtime, owner, timeouts, tracing::Span::none(), false, None)
    }

    /// A thread's group: the thread's id and span are shared, not copied, and its tasks
    /// get the thread's shutdown notice.
    pub(crate) fn of_thread(
        runtime: Runtime,
        owner: Arc<str>,
        timeouts: Timeouts,
        span: tracing::Span,
        runaway_rate: Option<NonZeroU32>,
    ) -> Self {
        Self::build(runtime, owner, timeouts, span, true, runaway_rate)
    }

    fn build(
        runtime: Runtime,
        owner: Arc<str>,
        timeouts: Timeouts,
        span: tracing::Span,
        notice: bool,
        runaway_rate: Option<NonZeroU32>,
    ) -> Self {
        TaskGroup {
            shared: Arc::new(GroupShared {
                runtime,
                owner,
                timeouts,
                live: AtomicUsize::new(0),
                idle: Event::new(),
                closed: AtomicBool::new(false),
                notice: Notice::new(notice),
                slots: Mutex::new(SlotMap::default()),
                panic_hook: OnceLock::new(),
                span,
                runaway_rate,
            }),
        }
    }

    /// The slot named `name`, created empty on first use. A slot that has no task and no
    /// handle left is forgotten; asking for it again gives a new empty slot, which behaves
    /// the same.
    #[must_use]
    pub fn slot(&self, name: &str) -> TaskSlot {
        let mut slots = lock(&self.shared.slots);
        if let Some(slot) = slots.get(name) {
            return slot;
        }
        let slot = TaskSlot::new(self.shared.clone(), name.into());
        slots.insert(&slot);
        slot
    }

    /// The owner's id given at creation.
    #[must_use]
    pub fn owner(&self) -> &str {
        &self.shared.owner
    }

    /// The owner's id, shared (a thread's core keeps no copy of its own).
    pub(crate) fn owner_id(&self) -> &Arc<str> {
        &self.shared.owner
    }

    /// The runtime the group's tasks run on.
    #[must_use]
    pub fn runtime(&self) -> &Runtime {
        &self.shared.runtime
    }

    /// The number of tasks of this group whose futures have not been dropped yet.
    #[must_use]
    pub fn live_tasks(&self) -> usize {
        self.shared.live.load(Ordering::Acquire)
    }

    /// Completes when no task of the group is live (at once if none is).
    pub async fn idle(&self) {
        wait_for(&self.shared.idle, || (self.live_tasks() == 0).then_some(())).await
    }

    /// Deletes every slot's task: all are cancelled first, then awaited together, within
    /// one [`Timeouts::delete`] (besides the wait for a slot's `re_create` or `delete`
    /// already under way). Every slot is empty afterwards; a task that did not end in time
    /// is reported as for [`TaskSlot::delete`] (the error names the first).
    #[doc(alias = "delete")]
    pub async fn delete_all(&self) -> Result<(), SlotError> {
        let mut slots = lock(&self.shared.slots).live();
        // Each slot's operation lock is held until the ends have been awaited, so nothing
        // starts in a slot whose task is still ending. Taken in one global order (by
        // address), so that two `delete_all`s of one group cannot each wait for the other.
        slots.sort_unstable_by_key(|slot| Arc::as_ptr(&slot.shared) as usize);
        let mut ending = Endings::with_capacity(slots.len());
        for slot in &slots {
            ending.push(slot.take_for_deletion().await);
        }
        end_together(ending, self.shared.timeouts.delete).await
    }
}

impl TaskGroup {
    /// Has `hook` told of every panic of the group's tasks (after it is logged).
    pub(crate) fn set_panic_hook(&self, hook: Weak<dyn PanicHook>) {
        let _ = self.shared.panic_hook.set(hook);
    }

    /// Refuses every task started from now on ([`SlotError::Closed`]): the owning thread is
    /// shutting down, and a task started now would outlive it. Called before the slots are
    /// listed for deletion, so a slot made afterwards is refused, not missed.
    pub(crate) fn close(&self) {
        self.shared.closed.store(true, Ordering::SeqCst);
    }

    /// Asks every slot's task to stop without waiting (forced shutdown); slots are emptied.
    pub(crate) fn cancel_all(&self) {
        let slots = lock(&self.shared.slots).live();
        for slot in slots {
            slot.cancel_now();
        }
    }

    /// Fires the owning thread's shutdown notice (once; later calls do nothing): the flag,
    /// then each slot's sleeping task, then the notice's listeners.
    pub(crate) fn fire_notice(&self) {
        let slots = {
            let slots = lock(&self.shared.slots);
            if !self.shared.notice.set() {
                return;
            }
            slots.live()
        };
        for slot in slots {
            slot.wake_sleeper();
        }
        self.shared.notice.wake_listeners();
    }

    /// The live slots as a snapshot sees them, by name: listed under the slots' lock,
    /// each read under its own afterwards; and the slots themselves, which the caller
    /// holds until it has read the runs of forgotten slots (were it the last holder of a
    /// slot, dropping it would forget the slot and count its runs there as well).
    pub(crate) fn slot_snapshots(&self) -> (Vec<crate::thread::SlotSnapshot>, LiveSlots) {
        let slots = lock(&self.shared.slots).live();
        let mut seen: Vec<_> = slots.iter().map(|slot| slot.shared.snapshot()).collect();
        seen.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        (seen, slots)
    }

    /// Cancels, without waiting, the tasks of the slots that asked to be cancelled at once
    /// ([`TaskSlot::cancel_at_once`]) when the thread's shutdown begins.
    pub(crate) fn cancel_at_once_tasks(&self) {
        let slots = lock(&self.shared.slots).live();
        for slot in slots.iter().filter(|slot| slot.is_cancelled_at_once()) {
            slot.cancel_now();
        }
    }
}

impl GroupShared {
    /// The owning thread, while it lives (`None` for a bare group).
    pub(crate) fn owner_hook(&self) -> Option<Arc<dyn PanicHook>> {
        self.panic_hook.get().and_then(Weak::upgrade)
    }

    /// Whether the notice has fired, read under the lock it is fired under: for a waiter
    /// that has just started listening (see `Notice`).
    pub(crate) fn notice_fired_in_order(&self) -> bool {
        let _slots = lock(&self.slots);
        self.notice.has_fired()
    }
}

impl std::fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskGroup")
            .field("owner", &self.shared.owner)
            .field("live_tasks", &self.live_tasks())
            .finish()
    }
}

/// Counts one live task of a group from its spawn until its future is dropped.
pub(crate) struct LiveGuard(Arc<GroupShared>);

impl LiveGuard {
    pub(crate) fn new(group: &Arc<GroupShared>) -> Self {
        group.live.fetch_add(1, Ordering::AcqRel);
        LiveGuard(group.clone())
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            notify_all(&self.0.idle);
        }
    }
}

/// Locks a std mutex, ignoring poisoning: every critical section of core leaves its data
/// consistent even if a panic unwinds through it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
