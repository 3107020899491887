//! The runtime-facing half of a thread, the same for every thread type: lifecycle, control
//! messages and join. Its parent and its registry of children are in `kin`, forcing in
//! `forcing`, the shutdown's deadline in `deadline`; what it keeps for its parent's
//! supervision and report is in `supervising` and `reporting`; what a snapshot reads of it
//! in `observing` and `counting`.

pub(crate) mod counting;
mod deadline;
mod forcing;
mod kin;
mod observing;
mod reporting;
mod supervising;

pub(crate) use forcing::FORCE_GRACE;
pub(crate) use kin::InsertRefused;
pub(crate) use supervising::Supervision;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::sync::Event;
use futures::task::AtomicWaker;

use crate::group::{lock, PanicHook};
use crate::notify::{notify_all, wait_for};
use crate::thread::definition::{ThreadConfig, ThreadEnd};
use crate::thread::failure::Failure;
use crate::thread::family::registry::Registry;
use crate::thread::report::StartTime;
use crate::thread::supervision::RestartDecision;
use crate::{Runtime, TaskGroup};

/// What reaches a signal loop ahead of every queued signal.
pub(crate) enum Control {
    /// End the loop and shut down, by `deadline` at the latest (the parent's, if any).
    Terminate { deadline: Option<Instant> },
    /// A task of the thread failed: shut down and end as failed. Boxed: a waiting control
    /// message is part of every thread's loop state, and this one is rare.
    Fail(Box<Failure>),
}

/// Invariants:
/// - once `running` is false no child is added and the registry only shrinks;
/// - `running` turns false before the thread drops what was queued for its loop or held by
///   its value, its handlers and its tasks at its end (however it ends), and a control
///   message is recorded before the loop takes it: so [`is_ending`](Self::is_ending) is
///   true whenever a thread drops a request because it is ending;
/// - the first control message wins: the loop takes one and ends; later ones change
///   nothing (a terminate after a failure, a second terminate);
/// - `end` is set exactly once, when the thread's shutdown has completed (or was forced,
///   or its task was dropped by its runtime), and `ended` is notified then; [`join`](ThreadCore::join) returns `end` to every waiter;
/// - a registered child's parent is this thread; a child removes itself when it ends.
pub(crate) struct ThreadCore {
    /// The thread's info when it differs from its id (the default is the id).
    info: Option<Box<str>>,
    /// The thread's slots. Its group also keeps what the two share: the thread's id, its
    /// runtime, its span, the cancel timeouts (one copy per thread, not two).
    pub(crate) tasks: TaskGroup,
    pub(crate) settings: ThreadSettings,
    /// The waker of the thread's task, woken by every event: a control message here, a
    /// signal in the thread's mailbox, a force.
    loop_waker: AtomicWaker,
    /// Set when `state.control` holds a message the loop has not taken: the loop's busy
    /// path reads this, not the lock.
    has_control: AtomicBool,
    /// Set by `force` (or as its runtime drops the thread's task): the thread's task polls
    /// its life a last time, in which the loop hands what is queued to its hooks, and
    /// drops it. The thread holds no handle to its own task; this flag is its cancel. The
    /// life reads it in three places, one for each place it can be: the mailbox (no event
    /// is taken: `Event::Forced`), `Contained` (no method is polled again), and
    /// `UnlessForced` (the shutdown stops once the queues are handed over).
    forced: AtomicBool,
    /// Set once the thread's task has let go of its life (the thread's value, its queues):
    /// what a force waits for before it records the end. Notified through `ended`.
    life_gone: AtomicBool,
    /// Set once its `enter` has returned `Ok`: a parent restarting a group leaves out a
    /// member whose first start has not entered yet (it is its caller's until then).
    entered: AtomicBool,
    /// The stage of its shutdown, for a snapshot: 0 before it, then a [`ShutdownPhase`]
    /// (see `shutdown_phase`). Beside the flags, in what would be padding.
    phase: AtomicU8,
    /// What it counts beyond its lanes (see `counting`): allocated by the first count.
    counts: once_cell::race::OnceBox<counting::ThreadCounts>,
    /// The runs of its slots that have been forgotten (a live slot's are in the slot):
    /// not in its counts, which every thread's end would otherwise allocate (its slots are
    /// forgotten as it ends).
    runs_of_forgotten_slots: AtomicU64,
    state: Mutex<CoreState>,
    /// Notified when `end` is set, and when the thread's task lets go of its life (see
    /// `life_gone`): a waiter looks at what it waits for again.
    ended: Event,
    /// Notified when a parent's terminate lowers the deadline of a shutdown under way.
    deadline_lowered: Event,
    /// Notified when the last child leaves the registry.
    children_gone: Event,
    /// For the thread's lifetime in its report.
    started: StartTime,
}

struct CoreState {
    running: bool,
    /// Set once, when the thread is added as a child.
    parent: Option<std::sync::Weak<ThreadCore>>,
    children: Registry,
    /// The control message for the loop, until it takes it.
    control: Option<Control>,
    /// Whether a control message has been sent (the first wins).
    controlled: bool,
    /// A task's failure sent after the first control message (see
    /// `failure_during_shutdown`). Boxed: rare, and every thread carries the field.
    late_failure: Option<Box<Failure>>,
    /// The deadline of the thread's shutdown once it has begun (see
    /// `bound_shutdown`), lowered by any sooner one a terminate brought after the first
    /// control message: a thread already ending by itself still ends within its parent's
    /// cascade. Before the shutdown, only such a terminate's.
    deadline_cap: Option<Instant>,
    /// Boxed: it is set once, at the end, and every thread carries the field.
    end: Option<Box<Ended>>,
    /// Tasks started in its slots: here, in what would be padding, not in its counts, which
    /// a thread's first task would otherwise allocate (every idle thread has one). Wraps
    /// after 2^32.
    tasks_started: u32,
}

struct Ended {
    end: ThreadEnd,
    at: Instant,
    /// What a supervising parent decided about this end.
    restart: Option<RestartDecision>,
}

impl ThreadCore {
    pub(crate) fn new(
        id: String,
        info: String,
        runtime: Runtime,
        config: ThreadConfig,
    ) -> Arc<Self> {
        // A root span, not a child of whatever span starts the thread: a 1,000-deep tree would
        // otherwise nest 1,000 spans, and closing them recurses that deep.
        let span = tracing::info_span!(parent: None, "thread", id = %id, info = %info);
        let info = (info != id).then(|| info.into_boxed_str());
        let id: Arc<str> = id.into();
        // Destructured, so that a field added to ThreadConfig is not forgotten here.
        let ThreadConfig {
            signal_capacity,
            child_signal_capacity,
            shutdown_budget,
            shutdown_grace,
            overflow,
            timeouts,
            runaway_rate,
        } = config;
        let settings = ThreadSettings {
            signal_capacity,
            child_signal_capacity,
            shutdown_budget,
            shutdown_grace,
            overflow,
        };
        let tasks = TaskGroup::of_thread(runtime, id, timeouts, span, runaway_rate);
        Arc::new_cyclic(|me: &std::sync::Weak<ThreadCore>| {
            let me: std::sync::Weak<dyn PanicHook> = me.clone();
            tasks.set_panic_hook(me);
            ThreadCore {
                info,
                tasks,
                settings,
                loop_waker: AtomicWaker::new(),
                has_control: AtomicBool::new(false),
                forced: AtomicBool::new(false),
                life_gone: AtomicBool::new(false),
                entered: AtomicBool::new(false),
                phase: AtomicU8::new(0),
                counts: once_cell::race::OnceBox::new(),
                runs_of_forgotten_slots: AtomicU64::new(0),
                state: Mutex::new(CoreState {
                    running: true,
                    parent: None,
                    children: Registry::default(),
                    control: None,
                    controlled: false,
                    late_failure: None,
                    deadline_cap: None,
                    end: None,
                    tasks_started: 0,
                }),
                ended: Event::new(),
                deadline_lowered: Event::new(),
                children_gone: Event::new(),
                started: StartTime::now(),
            }
        })
    }

    /// The thread's id.
    pub(crate) fn id(&self) -> &Arc<str> {
        self.tasks.owner_id()
    }

    /// The thread's info (its id unless it says otherwise).
    pub(crate) fn info(&self) -> &str {
        self.info.as_deref().unwrap_or(self.id())
    }

    /// The runtime the thread and its tasks run on.
    pub(crate) fn runtime(&self) -> &Runtime {
        self.tasks.runtime()
    }

    /// The thread's span (held by its task group, which the slots' spans sit in).
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.tasks.shared.span
    }

    /// Whether the thread has been forced: its task must end at once.
    #[inline]
    pub(crate) fn is_forced(&self) -> bool {
        self.forced.load(Ordering::Acquire)
    }

    /// The thread's life ends at once (see `forced`).
    pub(crate) fn mark_forced(&self) {
        self.forced.store(true, Ordering::Release);
    }

    /// Asks the loop to end; works before the loop has started and after it has ended.
    pub(crate) fn terminate(&self, deadline: Option<Instant>) {
        self.send_control(Control::Terminate { deadline });
    }

    /// Hands the loop a control message, unless it had one already (the first wins).
    pub(crate) fn send_control(&self, control: Control) {
        let mut state = lock(&self.state);
        // A thread ending by itself when its parent's cascade reaches it: the parent's
        // deadline bounds what is left of its shutdown, whether a control message began the
        // shutdown or a handler's `Stop` did (no message then: this one is the first).
        let lowered = match control {
            Control::Terminate {
                deadline: Some(deadline),
            } if state.controlled || state.deadline_cap.is_some() => {
                deadline::lower_cap(&mut state, deadline);
                true
            }
            _ => false,
        };
        let first = !state.controlled;
        if first {
            state.controlled = true;
            state.control = Some(control);
        } else if let Control::Fail(failure) = control {
            // A task failing once the shutdown has begun (in its grace, say) still fails
            // the thread: the shutdown reads it (`failure_during_shutdown`).
            state.late_failure.get_or_insert(failure);
        }
        drop(state);
        if lowered {
            notify_all(&self.deadline_lowered);
        }
        if !first {
            return;
        }
        self.has_control.store(true, Ordering::Release);
        self.wake_loop();
    }

    /// A task's failure that came once the thread's shutdown had begun: after the loop had
    /// taken its control message, or after it ended without one (a handler's
    /// [`Flow::Stop`](crate::Flow::Stop)), where no loop will take it. The first one.
    pub(crate) fn failure_during_shutdown(&self) -> Option<Failure> {
        let mut state = lock(&self.state);
        if let Some(failure) = state.late_failure.take() {
            return Some(*failure);
        }
        match state.control.take() {
            Some(Control::Fail(failure)) => Some(*failure),
            other => {
                state.control = other;
                None
            }
        }
    }

    /// Whether a control message waits for the loop.
    #[inline]
    pub(crate) fn has_control(&self) -> bool {
        self.has_control.load(Ordering::Acquire)
    }

    /// The control message, if one has come and the loop has not taken it yet.
    #[inline]
    pub(crate) fn take_control(&self) -> Option<Control> {
        // A load first: the loop asks before every event, and a swap would write the
        // flag's cache line (which senders read) every time.
        if !self.has_control() || !self.has_control.swap(false, Ordering::Acquire) {
            return None;
        }
        lock(&self.state).control.take()
    }

    /// Wakes the signal loop (an event has come).
    pub(crate) fn wake_loop(&self) {
        self.loop_waker.wake();
    }

    /// Has `waker` woken by the next event; the caller looks for events again afterwards.
    pub(crate) fn register_loop(&self, waker: &Waker) {
        self.loop_waker.register(waker);
    }

    /// The thread's task has let go of its life and will not run again: the registered
    /// waker is dropped, and a force waiting for the life to be gone is woken.
    pub(crate) fn forget_loop(&self) {
        drop(self.loop_waker.take());
        self.life_gone.store(true, Ordering::Release);
        notify_all(&self.ended);
    }

    /// The control message if one is waiting, registering the loop's waker otherwise.
    pub(crate) fn poll_control(&self, waker: &Waker) -> Option<Control> {
        if let Some(control) = self.take_control() {
            return Some(control);
        }
        self.register_loop(waker);
        self.take_control()
    }

    pub(crate) fn is_running(&self) -> bool {
        lock(&self.state).running
    }

    /// Whether the thread is ending or has ended: told to end (terminated, stopped, a task
    /// failed), past its signal loop (shutting down), forced, or ended. Once true, it stays
    /// true. A [`Reply`](crate::thread::Reply) dropped unanswered reads this to tell "ended" from
    /// "refused".
    pub(crate) fn is_ending(&self) -> bool {
        let state = lock(&self.state);
        state.controlled || !state.running
    }

    /// The thread is ending though no control message says so (its runtime drops its
    /// task): it takes no child from now on, and a request it drops reads it as ending.
    pub(crate) fn mark_ending(&self) {
        lock(&self.state).running = false;
    }

    /// Records how the thread ended, and its report with its parent (before the parent
    /// hears of the end), and wakes every `join`. Only the first call counts.
    pub(crate) fn finish(&self, end: ThreadEnd) -> bool {
        let mut state = lock(&self.state);
        if state.end.is_some() {
            return false;
        }
        state.running = false;
        let parent = state.parent.as_ref().and_then(Weak::upgrade);
        let told = parent.map(|parent| (parent, end.clone()));
        state.end = Some(Box::new(Ended {
            end,
            at: Instant::now(),
            restart: None,
        }));
        drop(state);
        if let Some((parent, end)) = told {
            // Asked first (neither lock held in the other): a report is made only if the
            // parent keeps it.
            let takes = lock(&parent.state)
                .children
                .ended_children()
                .takes(self.id(), &end);
            // Not `report().filter(..)`: that made every child's report, kept or not.
            if let Some(report) = takes.then(|| self.report()).flatten() {
                lock(&parent.state).children.ended_children().record(report);
            }
        }
        notify_all(&self.ended);
        true
    }

    pub(crate) fn end(&self) -> Option<ThreadEnd> {
        let state = lock(&self.state);
        state.end.as_deref().map(|ended| ended.end.clone())
    }

    pub(crate) async fn join(&self) -> ThreadEnd {
        wait_for(&self.ended, || self.end()).await
    }
}

/// A task of the thread panicked, or a supervised one gave up: the thread fails.
impl PanicHook for ThreadCore {
    fn task_failed(&self, failure: Failure) {
        self.send_control(Control::Fail(Box::new(failure)));
    }

    fn task_started(&self) {
        let mut state = lock(&self.state);
        state.tasks_started = state.tasks_started.wrapping_add(1);
    }

    fn slot_forgotten(&self, runs: u64) {
        // No lock: a slot can be dropped wherever its last holder lets go of it, under the
        // core's lock too (a signal holding it, in a child's queue dropped there).
        let forgotten = &self.runs_of_forgotten_slots;
        forgotten.fetch_add(runs, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A thread's [`ThreadConfig`] but the slots' timeouts (which its task group keeps): what
/// its queues hold, what a sender does when one is full, how long its shutdown may take.
pub(crate) struct ThreadSettings {
    pub(crate) signal_capacity: usize,
    pub(crate) child_signal_capacity: usize,
    pub(crate) shutdown_budget: Duration,
    pub(crate) shutdown_grace: Duration,
    pub(crate) overflow: crate::thread::OverflowPolicy,
}
