//! Case 6: resident memory per idle thread and per sleeping task. Each measurement runs in a
//! process of its own (the bench re-runs itself), so that memory freed by one case cannot
//! be reused by the next.

use std::time::Duration;

use task_thread::{start, Backend, Flavour, TaskGroup};

use crate::raw;
use crate::tree::Leaf;

/// What one memory measurement creates.
#[derive(Clone, Copy, Debug)]
pub enum Subject {
    /// Idle threads, each with one slot holding a sleeping task.
    Threads,
    /// Sleeping tasks, each in a slot of one group.
    SlotTasks,
    /// Sleeping tasks spawned on the raw runtime.
    RawTasks,
}

impl Subject {
    pub fn name(self) -> &'static str {
        match self {
            Subject::Threads => "threads",
            Subject::SlotTasks => "slot-tasks",
            Subject::RawTasks => "raw-tasks",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Subject::Threads, Subject::SlotTasks, Subject::RawTasks]
            .into_iter()
            .find(|subject| subject.name() == name)
    }
}

/// The process's resident set, in bytes.
pub fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm (Linux)");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm's resident field");
    pages * 4096
}

/// A task that sleeps for an hour.
pub async fn sleep_an_hour<T>(task: task_thread::TaskCx<T>) {
    task.sleep(Duration::from_secs(3600)).await
}

/// Bytes of resident memory per `subject`, for `n` of them (run in a process of its own).
pub fn measure(flavour: Flavour, subject: Subject, n: usize) -> usize {
    let before = resident_bytes();
    let grown = match subject {
        Subject::Threads => flavour.block_on(|rt| async move {
            let mut threads = Vec::with_capacity(n);
            for i in 0..n {
                threads.push(start(&rt, Leaf(i)).await.unwrap());
            }
            let grown = resident_bytes() - before;
            std::mem::forget(threads);
            grown
        }),
        Subject::SlotTasks => flavour.block_on(|rt| async move {
            let tasks = TaskGroup::new(rt, "memory");
            for i in 0..n {
                tasks
                    .slot(&i.to_string())
                    .re_create_fn(sleep_an_hour)
                    .await
                    .unwrap();
            }
            let grown = resident_bytes() - before;
            std::mem::forget(tasks);
            grown
        }),
        Subject::RawTasks => raw::block_on(flavour, |rt| async move {
            let mut sleepers = Vec::with_capacity(n);
            for _ in 0..n {
                let sleeper = rt.clone();
                sleepers
                    .push(rt.spawn(async move { sleeper.sleep(Duration::from_secs(3600)).await }));
            }
            let grown = resident_bytes() - before;
            std::mem::forget(sleepers);
            grown
        }),
    };
    grown / n
}
