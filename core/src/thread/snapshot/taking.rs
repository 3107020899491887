//! Taking a [`ThreadSnapshot`]: each thread read from what its handles already share (its
//! core, its mailbox, its slots), each part under its own lock and none held across
//! another thread's, with no `.await`: a busy or hung thread cannot delay it.

use std::sync::Arc;

use super::{Counters, QueueDepth, ThreadSnapshot};
use crate::thread::definition::TaskThread;
use crate::thread::family::registry::AnyChild;
use crate::thread::life::thread_core::ThreadCore;
use crate::thread::mailbox::{LanesSeen, Mailbox};

/// What a snapshot reads of a thread whatever its type: its type's name and its lanes. A
/// registered child is one (see [`AnyChild`](crate::thread::family::registry::AnyChild)).
pub(crate) trait Observed {
    fn type_name(&self) -> &'static str;
    fn lanes(&self) -> LanesSeen;
}

impl<T: TaskThread> Observed for Mailbox<T> {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    fn lanes(&self) -> LanesSeen {
        self.seen()
    }
}

/// The snapshot of the thread `core`, whose mailbox is `observed`, and of its subtree.
/// Iterative, not recursive: a tree can be deeper than any stack (a chain of thousands of
/// threads takes a few hundred bytes a level on the heap instead).
pub(crate) fn snapshot<O: Observed + ?Sized>(core: &ThreadCore, observed: &O) -> ThreadSnapshot {
    let root = (one_thread(core, observed), core.children());
    let mut tree = super::assemble(root, |child: Arc<dyn AnyChild>| {
        (one_thread(child.core(), &*child), child.core().children())
    });
    sort_by_id(&mut tree);
    tree
}

/// Each thread's children by id (the registry keeps them in no order), level by level.
fn sort_by_id(tree: &mut ThreadSnapshot) {
    let mut to_sort = vec![tree];
    while let Some(thread) = to_sort.pop() {
        thread.children.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        to_sort.extend(thread.children.iter_mut());
    }
}

/// The snapshot of the thread `core` alone (no children yet).
fn one_thread<O: Observed + ?Sized>(core: &ThreadCore, observed: &O) -> ThreadSnapshot {
    let state = core.state();
    let lanes = observed.lanes();
    let settings = &core.settings;
    let (slots, held) = core.tasks.slot_snapshots();
    // Read after the slots: a task is counted in its slot as it is spawned, then in its
    // thread, so a snapshot taken in between counts its first run as a reschedule.
    let counted = core.counts_seen();
    let forgotten_runs = core.runs_of_forgotten_slots();
    // Let go only now: a slot forgotten as the snapshot lets go of it has its runs counted
    // in its thread's after they were read here, not twice.
    drop(held);
    let tasks_started = core.tasks_started();
    let live_runs: u64 = slots.iter().map(|slot| slot.runs).sum();
    let slot_runs = live_runs + forgotten_runs;
    ThreadSnapshot {
        id: core.id().to_string(),
        info: core.info().to_owned(),
        type_name: observed.type_name(),
        state,
        age: core.age(),
        from_parent: QueueDepth {
            queued: lanes.from_parent,
            capacity: settings.signal_capacity,
        },
        from_children: QueueDepth {
            queued: lanes.from_children,
            capacity: settings.child_signal_capacity,
        },
        counters: Counters {
            received: lanes.counts.received,
            received_from_children: lanes.counts.received_from_children,
            sent_to_parent: counted.sent_to_parent,
            sent_to_children: counted.sent_to_children,
            overflows: lanes.counts.overflows,
            undelivered: lanes.counts.undelivered,
            slot_runs,
            reschedules: slot_runs.saturating_sub(tasks_started),
            children_started: counted.children_started,
            children_ended: counted.children_ended,
        },
        slots,
        children: Vec::new(),
    }
}
