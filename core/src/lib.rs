//! Runtime-agnostic core of [task-thread](https://docs.rs/task-thread): what a runtime
//! must provide ([`Spawner`]), spawned tasks ([`JoinHandle`]), and task slots with the
//! reCreate / reSchedule / delete semantics ([`TaskGroup`], [`TaskSlot`], [`Task`]).
//!
//! This crate depends on no runtime. Backends (`task-thread-tokio`, `task-thread-async-std`,
//! `task-thread-smol`) implement [`Spawner`] and [`Backend`]; users normally depend on the
//! `task-thread` crate, which re-exports this one and the backends.
//!
//! Writing a backend for another runtime: [`contract`] says what it must do, part by part,
//! and shows a minimal one.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod block_on_tasks;
pub mod consuming_cancel;
pub mod contract;
mod error;
mod generation_mirror;
mod group;
mod id_map;
#[cfg(test)]
mod in_flight_tests;
mod incarnation;
mod join;
#[cfg(all(test, task_thread_loom))]
mod loom_models;
mod notice;
mod notify;
mod operation_lock;
mod runaway;
mod slot;
mod spawner;
mod sync;
mod task;
#[cfg(test)]
mod test_runtime;
mod thread;

pub use error::SlotError;
pub use group::{TaskGroup, Timeouts};
pub use join::{JoinError, JoinHandle};
pub use notice::ShutdownNotice;
pub use runaway::DEFAULT_RUNAWAY_RATE;
pub use slot::TaskSlot;
pub use spawner::{
    Backend, BlockingWork, Elapsed, RawOutput, RawTask, Runtime, ShutdownSignal, Spawner,
    SpawnerExt,
};
pub use task::{Next, Task, TaskCx};
pub use thread::{
    run, start, AskError, Backoff, Blocking, BlockingLink, BlockingThread, BoxError, ChildRef,
    Counters, Escalation, Failure, Flow, Intensity, LeafThread, NotKept, OutputLost, Overflow,
    OverflowPolicy, Panicked, QueueDepth, QueueKind, RecvTimeout, Reply, Restart, RestartDecision,
    RestartPolicy, Restarted, SendError, ShutdownPhase, SlotActivity, SlotSnapshot, Strategy,
    TaskThread, ThreadConfig, ThreadCx, ThreadEnd, ThreadError, ThreadHandle, ThreadReport,
    ThreadSnapshot, ThreadState,
};
