//! Case 6: resident memory per idle thread and per sleeping task. Each measurement runs in a
//! process of its own (the bench re-runs itself), so that memory freed by one case cannot
//! be reused by the next.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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
    /// The floor of an idle thread in any design where a thread is a loop task beside its
    /// slots' tasks, spawned through an object-safe spawner: per thread, two raw tasks,
    /// each with its future boxed, holding a reference to the thread's one shared counter;
    /// the loop waits on nothing, the slot's task sleeps in a boxed sleep. None of our
    /// state (queues, registry, slot map, names, span) is in it.
    ThreadFloor,
}

impl Subject {
    pub fn name(self) -> &'static str {
        match self {
            Subject::Threads => "threads",
            Subject::SlotTasks => "slot-tasks",
            Subject::RawTasks => "raw-tasks",
            Subject::ThreadFloor => "thread-floor",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            Subject::Threads,
            Subject::SlotTasks,
            Subject::RawTasks,
            Subject::ThreadFloor,
        ]
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
        Subject::ThreadFloor => raw::block_on(flavour, |rt| async move {
            let mut tasks = Vec::with_capacity(2 * n);
            for _ in 0..n {
                let thread = Arc::new(AtomicUsize::new(0));
                let looping = thread.clone();
                let looping: BoxFuture = Box::pin(async move {
                    std::future::pending::<()>().await;
                    looping.fetch_add(1, Ordering::Relaxed);
                });
                tasks.push(rt.spawn(looping));
                let sleeper = rt.clone();
                let sleep: BoxFuture =
                    Box::pin(async move { sleeper.sleep(Duration::from_secs(3600)).await });
                let slot_task: BoxFuture = Box::pin(async move {
                    sleep.await;
                    thread.fetch_add(1, Ordering::Relaxed);
                });
                tasks.push(rt.spawn(slot_task));
            }
            let grown = resident_bytes() - before;
            std::mem::forget(tasks);
            grown
        }),
    };
    grown / n
}

type BoxFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
