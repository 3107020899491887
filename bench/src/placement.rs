//! Where the two ends of case 3's signals ran. On a multi-worker runtime a sender and its
//! receiver run on one worker or on two, the executor's choice, and a signal costs 2-3x
//! more on two (its queue's cache lines move between the cores). So case 3 says, for ours
//! and for the raw channel, how many of the signals were taken on another worker than the
//! one that sent them (sampled), and it runs again in a process pinned to one core, where
//! every runtime starts one worker and both ends share it.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// One sample in this many signals: a thread-local read and a relaxed store or load.
const EVERY: usize = 256;

static NEXT_WORKER: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    /// This OS thread's number (from 1), given on first use.
    static WORKER: usize = NEXT_WORKER.fetch_add(1, Relaxed);
}

fn worker() -> usize {
    WORKER.with(|worker| *worker)
}

/// The samples of one side of a paired case (ours, or the baseline).
pub struct Tally {
    /// The worker the sender was last seen on (0: none yet).
    sender_at: AtomicUsize,
    apart: AtomicUsize,
    together: AtomicUsize,
}

/// Ours.
pub static OURS: Tally = Tally::new();
/// The raw baseline.
pub static RAW: Tally = Tally::new();

impl Tally {
    const fn new() -> Self {
        Tally {
            sender_at: AtomicUsize::new(0),
            apart: AtomicUsize::new(0),
            together: AtomicUsize::new(0),
        }
    }

    /// The sender sends its `i`th signal.
    pub fn sent(&self, i: usize) {
        if i.is_multiple_of(EVERY) {
            self.sender_at.store(worker(), Relaxed);
        }
    }

    /// The receiver takes its `i`th signal.
    pub fn received(&self, i: usize) {
        if i % EVERY != EVERY / 2 {
            return;
        }
        let sender = self.sender_at.load(Relaxed);
        if sender == 0 {
            return;
        }
        let counter = if sender == worker() {
            &self.together
        } else {
            &self.apart
        };
        counter.fetch_add(1, Relaxed);
    }

    /// The share of the samples since the last call taken on another worker than the
    /// sender's (`None` without samples), and a fresh start.
    pub fn apart_share(&self) -> Option<f64> {
        let apart = self.apart.swap(0, Relaxed);
        let together = self.together.swap(0, Relaxed);
        self.sender_at.store(0, Relaxed);
        (apart + together > 0).then(|| apart as f64 / (apart + together) as f64)
    }
}

/// Forgets what the cases before left in the tallies.
pub fn forget_samples() {
    for tally in [&OURS, &RAW] {
        tally.apart_share();
    }
}

/// Pins this process to its first allowed core, before any runtime starts: every runtime
/// then starts one worker (they size themselves by the cores the process may use), so a
/// sender and its receiver share a worker.
#[cfg(target_os = "linux")]
pub fn pin_to_one_core() {
    use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};
    let allowed = sched_getaffinity(None).expect("the process's cores");
    let first = (0..CpuSet::MAX_CPU)
        .find(|&cpu| allowed.is_set(cpu))
        .expect("one core at least");
    let mut one = CpuSet::new();
    one.set(first);
    sched_setaffinity(None, &one).expect("pinned to one core");
    assert_eq!(
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        1,
        "the runtimes see one core"
    );
}

/// Pinning is Linux-only here: elsewhere the one-worker rows run on every core.
#[cfg(not(target_os = "linux"))]
pub fn pin_to_one_core() {}
