//! [`ThreadSnapshot`]: the live tree as it runs, read from the state every thread already
//! shares (no message to any thread), for an operator to print ([`Display`](std::fmt::Display)),
//! a tool to read (`serde`, behind the `serde` feature) or Graphviz to draw
//! ([`ThreadSnapshot::to_dot`]). Reading the tree is in `taking`, drawing it in `render`,
//! building, cloning and dropping it without recursion in `iterative`.

mod iterative;
#[cfg(feature = "metrics")]
mod metrics;
mod render;
pub(crate) mod taking;

use std::time::Duration;

use iterative::assemble;

/// One thread of a running tree, with its subtree: what
/// [`ThreadHandle::snapshot`](crate::ThreadHandle::snapshot) and
/// [`ThreadCx::snapshot`](crate::ThreadCx::snapshot) return. `Display` prints it as an
/// indented tree, one line per thread:
///
/// ```text
/// server (Server, 12.31s): running; queued 0/100 from parent, 3/100 from children; received from children 40, runs 41, reschedules 39, children started 2; slots: accept running (1 run), tick rescheduling (40 runs)
/// ├── conn-1 (Connection, 3.20s): running; queued 2/8 from parent, 0/100 from children; received 14, sent to parent 12, runs 12, reschedules 11; slots: read running (12 runs)
/// └── conn-2 (Connection, 0.10s): shutting down (exit); queued 0/8 from parent, 0/100 from children; undelivered 2
/// ```
///
/// Consistency: taking it never waits for a thread (it takes no lock across an `.await`,
/// sends no message, and runs no user code), so a busy or hung handler does not delay it.
/// The price is that it is not one instant of the whole tree: each value is read from
/// the state its thread shares with its handles (its lifecycle, its queues under their
/// lock, each slot under its lock, its counters), one after the other, while the tree
/// runs on. Each queue's depth is exact at the moment it was read; a thread's line may
/// mix moments a few microseconds apart (a signal counted as received but not yet as
/// queued, say); a child that starts or ends while the snapshot is taken may be in it or
/// not. Ended children are not in it (their [`ThreadReport`](crate::ThreadReport)s are).
///
/// Any depth: taking, cloning, dropping, `Display`, [`to_dot`](Self::to_dot) and
/// `record_metrics` walk the tree with a stack on the heap, not by recursion, so a chain
/// of thousands of threads does not overflow the stack. `Debug`, `PartialEq` and
/// `Serialize` (derived) recurse per level: keep them to trees a few hundred levels deep.
///
/// ```
/// use task_thread_core::{LeafThread, Runtime, ThreadState, start};
///
/// struct Clock;
/// impl LeafThread for Clock {
///     type Signal = ();
///     type Output = ();
///     fn id(&self) -> String { "clock".into() }
/// }
///
/// async fn show(rt: &Runtime) {
///     let clock = start(rt, Clock).await.unwrap();
///     let tree = clock.snapshot();
///     assert_eq!(tree.state, ThreadState::Running);
///     assert_eq!(tree.from_parent.queued, 0);
///     assert!(tree.slots.is_empty() && tree.children.is_empty());
///     tracing::info!("the tree:\n{tree}");
///     clock.terminate();
///     clock.join().await;
/// }
/// ```
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ThreadSnapshot {
    /// The thread's id.
    pub id: String,
    /// The thread's info (its id unless it says otherwise).
    pub info: String,
    /// The Rust type of the thread (`std::any::type_name`).
    pub type_name: &'static str,
    /// Where the thread is in its life.
    pub state: ThreadState,
    /// How long since the thread was started.
    pub age: Duration,
    /// Its queue from its parent (and any holder of its handle).
    pub from_parent: QueueDepth,
    /// Its queue from its children.
    pub from_children: QueueDepth,
    /// What has flowed through it since it started.
    pub counters: Counters,
    /// Its live slots, by name (a slot that has no task and no handle left is forgotten,
    /// and not listed).
    pub slots: Vec<SlotSnapshot>,
    /// Its children, by id.
    pub children: Vec<ThreadSnapshot>,
}

/// Where a thread is in its life, as a [`ThreadSnapshot`] saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum ThreadState {
    /// Its `enter` runs.
    Entering,
    /// Its signal loop runs (a handler may be busy).
    Running,
    /// Its shutdown runs, at this stage.
    ShuttingDown(ShutdownPhase),
    /// Its end is recorded; it is leaving its parent's registry (its handle's
    /// [`end`](crate::ThreadHandle::end) says how it ended).
    Ended,
}

/// The stage of a thread's shutdown (see the order in [`TaskThread`](crate::TaskThread)'s
/// module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum ShutdownPhase {
    /// The notice has fired; its tasks have their grace to return, then are cancelled.
    Tasks,
    /// Its `exit` runs.
    Exit,
    /// Its children are terminated and awaited.
    Children,
}

/// How full one of a thread's queues is: the signals queued or taken by its loop and not
/// handled yet (what counts against the capacity), and the capacity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct QueueDepth {
    /// Signals waiting for a handler.
    pub queued: usize,
    /// The most the queue holds.
    pub capacity: usize,
}

/// What has flowed through a thread since it started. Each count only grows, with two
/// momentary exceptions a snapshot can catch: a slot being forgotten (its last handle
/// dropped by another worker) while the snapshot lists the slots is in neither its live
/// runs nor its forgotten ones for that one snapshot; and a task being started is counted
/// in its slot just before its thread, so `reschedules` can read one more for a moment.
///
/// They cost the busy paths next to nothing: what its queues take and refuse is counted
/// under the lock each push takes anyway, in the queues' own storage (allocated by the
/// first signal); what it sends is one relaxed atomic add in storage allocated by its first
/// count; a slot's runs are read from the generation its rescheduling keeps anyway, less
/// the tasks that left it (counted as they leave), plus the runs a [`Task`](crate::Task)
/// looped through in one generation (a relaxed load and store by the task itself). An
/// idle thread carries one pointer for them all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Counters {
    /// Signals queued for it from its parent (or any holder of its handle).
    pub received: u64,
    /// Signals queued for it from its children.
    pub received_from_children: u64,
    /// Signals it sent to its parent ([`ThreadCx::send_to_parent`](crate::ThreadCx::send_to_parent)),
    /// counted once queued (a send waiting for room is not counted yet, a refused one never).
    pub sent_to_parent: u64,
    /// Signals it sent to its children ([`ThreadCx::send_to_child`](crate::ThreadCx::send_to_child),
    /// [`send_to_children`](crate::ThreadCx::send_to_children)).
    pub sent_to_children: u64,
    /// Sends (each way) that found one of its queues full.
    pub overflows: u64,
    /// Signals for it that it never handled: refused (full under the reject policy, or
    /// sent after its end) or handed to its undelivered hooks at its end.
    pub undelivered: u64,
    /// Runs its slots' tasks have started (of the slots it has had, forgotten ones too;
    /// counted as [`SlotSnapshot::runs`] are).
    pub slot_runs: u64,
    /// Of those, the runs that followed a reschedule (the others are tasks' first runs).
    pub reschedules: u64,
    /// Children added to it.
    pub children_started: u64,
    /// Children that ended and left it.
    pub children_ended: u64,
}

/// One slot of a thread, as a [`ThreadSnapshot`] saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct SlotSnapshot {
    /// The slot's name.
    pub name: String,
    /// What its task is doing.
    pub activity: SlotActivity,
    /// How many runs its tasks have started (a re-created task's runs add to its
    /// predecessors'); a run scheduled (by a reschedule, or a task's spawn) counts from
    /// then, even if a cancel comes before it starts.
    pub runs: u64,
}

/// What a slot's task is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum SlotActivity {
    /// No task (never had one, or it ended).
    Empty,
    /// A run is under way (maybe waiting on something), or about to start.
    Running,
    /// Its run has asked for a successor with
    /// [`TaskCx::re_schedule`](crate::TaskCx::re_schedule) and has not returned yet (a
    /// [`Task`](crate::Task) asks by returning, so its slot shows as running).
    Rescheduling,
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_serializes_as_json_for_tools() {
        let leaf = ThreadSnapshot {
            id: "leaf".into(),
            info: "leaf".into(),
            type_name: "x::Leaf",
            state: ThreadState::ShuttingDown(ShutdownPhase::Exit),
            age: Duration::from_millis(1500),
            from_parent: QueueDepth {
                queued: 3,
                capacity: 8,
            },
            from_children: QueueDepth {
                queued: 0,
                capacity: 100,
            },
            counters: Counters {
                received: 4,
                slot_runs: 2,
                reschedules: 1,
                ..Counters::default()
            },
            slots: vec![SlotSnapshot {
                name: "tick".into(),
                activity: SlotActivity::Rescheduling,
                runs: 2,
            }],
            children: Vec::new(),
        };
        let json = serde_json::to_value(&leaf).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "id": "leaf",
                "info": "leaf",
                "type_name": "x::Leaf",
                "state": { "ShuttingDown": "Exit" },
                "age": { "secs": 1, "nanos": 500_000_000 },
                "from_parent": { "queued": 3, "capacity": 8 },
                "from_children": { "queued": 0, "capacity": 100 },
                "counters": {
                    "received": 4,
                    "received_from_children": 0,
                    "sent_to_parent": 0,
                    "sent_to_children": 0,
                    "overflows": 0,
                    "undelivered": 0,
                    "slot_runs": 2,
                    "reschedules": 1,
                    "children_started": 0,
                    "children_ended": 0
                },
                "slots": [{ "name": "tick", "activity": "Rescheduling", "runs": 2 }],
                "children": []
            })
        );
    }
}
