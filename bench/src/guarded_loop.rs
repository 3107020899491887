//! Case 2c's floor: the best raw loop (case 2a's) plus what a slot's task pays on every run
//! in any runtime-agnostic design that keeps the slot's guarantees, written by hand:
//!
//! - the task's future boxed behind `dyn Future`: core spawns through an object-safe
//!   `Spawner`, which takes a boxed future (ours is boxed once, as here: the whole task);
//! - each poll under `catch_unwind`: a panic in a task is contained and reported with the
//!   thread's and task's names, not left to the runtime (which may abort or lose it);
//! - the task's span entered on each poll (a span per task);
//! - the run counted (a snapshot shows it) and the shutdown flag read before the next run
//!   (no run after the thread's notice);
//! - the yield made through a runtime behind a trait object (core knows no runtime).
//!
//! Ours against this row is what the design costs beyond its guarantees; this row against
//! case 2a's raw loop is what the guarantees cost.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use task_thread::Flavour;

use crate::raw;

/// Case 2c, the floor: one task looping `n` times with the guarantees above.
pub fn guarded_loop(flavour: Flavour, n: usize) -> Duration {
    raw::block_on(flavour, |rt| async move {
        let start = Instant::now();
        // Behind `black_box`, so the compiler cannot see through the trait object.
        let runtime: Arc<dyn DeferWake> = std::hint::black_box(Arc::new(WakeByRef));
        let slot = Arc::new(Slot {
            runtime,
            shutting_down: AtomicBool::new(false),
            runs: AtomicU64::new(0),
        });
        let guarded: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(Guarded {
            span: tracing::info_span!("task", name = "countdown"),
            run: run_loop(slot, n),
        });
        let task = rt.spawn(guarded);
        task.join().await;
        start.elapsed()
    })
}

/// The runtime as core sees it: a trait object.
trait DeferWake: Send + Sync {
    fn defer_wake(&self, waker: &Waker);
}

struct WakeByRef;

impl DeferWake for WakeByRef {
    fn defer_wake(&self, waker: &Waker) {
        waker.wake_by_ref();
    }
}

/// What the task reads on every run: its runtime, its thread's shutdown flag, its count.
struct Slot {
    runtime: Arc<dyn DeferWake>,
    shutting_down: AtomicBool,
    runs: AtomicU64,
}

/// Case 2's task: counts down, one run at a time.
async fn run_once(left: &mut usize) -> bool {
    *left -= 1;
    *left > 0
}

async fn run_loop(slot: Arc<Slot>, mut left: usize) {
    while run_once(&mut left).await {
        // One writer: a load and a store, as a slot counts its runs.
        slot.runs
            .store(slot.runs.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        DeferredYield {
            runtime: &*slot.runtime,
            yielded: false,
        }
        .await;
        if slot.shutting_down.load(Ordering::Acquire) {
            break;
        }
    }
}

/// A yield through the runtime's trait object: wakes the task once and returns pending.
struct DeferredYield<'a> {
    runtime: &'a dyn DeferWake,
    yielded: bool,
}

impl Future for DeferredYield<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        self.runtime.defer_wake(cx.waker());
        Poll::Pending
    }
}

pin_project_lite::pin_project! {
    /// The task's future: its run polled in its span, under `catch_unwind`.
    struct Guarded<F> {
        span: tracing::Span,
        #[pin]
        run: F,
    }
}

impl<F: Future<Output = ()>> Future for Guarded<F> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let _in_span = this.span.enter();
        let run = this.run;
        match std::panic::catch_unwind(AssertUnwindSafe(|| run.poll(cx))) {
            Ok(poll) => poll,
            // No run panics here; a contained panic would be reported, then end the task.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}
