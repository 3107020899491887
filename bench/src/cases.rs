//! The hot paths, each as a pair: task-thread's way, and the raw runtime doing the same.
//! Every function runs one repetition on a fresh runtime and returns the time it took.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use task_thread::{
    start, Backend, ChildRef, Flavour, Flow, LeafThread, Next, SpawnerExt, Task, TaskCx, TaskGroup,
    TaskThread, ThreadCx,
};

use crate::placement;
use crate::raw::{self, RawRt};

type Done = async_channel::Sender<()>;

/// Case 1, ours: one slot whose task reschedules itself `n` times through `re_schedule`.
pub fn reschedule_hops(flavour: Flavour, n: usize) -> Duration {
    flavour.block_on(|rt| async move {
        let tasks = TaskGroup::new(rt, "bench");
        let (done, finished) = async_channel::bounded::<()>(1);
        let runs = Arc::new(AtomicUsize::new(0));
        let start = Instant::now();
        tasks
            .slot("hop")
            .re_create_fn(move |cx| {
                let (runs, done) = (runs.clone(), done.clone());
                async move {
                    if runs.fetch_add(1, Ordering::Relaxed) + 1 < n {
                        cx.re_schedule();
                    } else {
                        let _ = done.try_send(());
                    }
                }
            })
            .await
            .unwrap();
        finished.recv().await.unwrap();
        start.elapsed()
    })
}

/// Case 1, raw: a task that spawns its successor and ends, `n` times.
pub fn raw_spawn_hops(flavour: Flavour, n: usize) -> Duration {
    fn hop(rt: RawRt, left: usize, done: Done) {
        if left == 0 {
            let _ = done.try_send(());
            return;
        }
        let next = rt.clone();
        rt.spawn(async move { hop(next, left - 1, done) }).detach();
    }
    raw::block_on(flavour, |rt| async move {
        let (done, finished) = async_channel::bounded::<()>(1);
        let start = Instant::now();
        hop(rt, n, done);
        finished.recv().await.unwrap();
        start.elapsed()
    })
}

struct Countdown {
    left: usize,
    done: Done,
}

impl<T> Task<T> for Countdown {
    async fn run(&mut self, _cx: &TaskCx<T>) -> Next {
        self.left -= 1;
        if self.left == 0 {
            let _ = self.done.try_send(());
            return Next::Stop;
        }
        Next::Reschedule
    }
}

/// Case 2, ours: a `Task` run `n` times by the library.
pub fn task_form_runs(flavour: Flavour, n: usize) -> Duration {
    flavour.block_on(|rt| async move {
        let tasks = TaskGroup::new(rt, "bench");
        let (done, finished) = async_channel::bounded::<()>(1);
        let start = Instant::now();
        tasks
            .slot("countdown")
            .re_create(Countdown { left: n, done })
            .await
            .unwrap();
        finished.recv().await.unwrap();
        start.elapsed()
    })
}

/// Case 2a, raw: one task looping `n` times, waking itself each time (the best raw loop).
pub fn raw_self_waking_loop(flavour: Flavour, n: usize) -> Duration {
    raw_loop(flavour, n, true)
}

/// Case 2b, raw: one task looping `n` times, with the runtime's own yield each time.
pub fn raw_yield_loop(flavour: Flavour, n: usize) -> Duration {
    raw_loop(flavour, n, false)
}

/// One task looping `n` times, yielding each time by waking itself or through the runtime.
fn raw_loop(flavour: Flavour, n: usize, self_waking: bool) -> Duration {
    raw::block_on(flavour, |rt| async move {
        let start = Instant::now();
        let looper = rt.clone();
        let task = rt.spawn(async move {
            for _ in 0..n {
                if self_waking {
                    looper.self_waking_yield().await;
                } else {
                    looper.yield_now().await;
                }
            }
        });
        task.join().await;
        start.elapsed()
    })
}

/// A thread that counts the signals it gets, from its parent or from its children.
struct Counter {
    expected: usize,
    seen: usize,
    done: Done,
    /// Where `enter` hands out the thread's context, for a case that acts as the thread.
    hand_out: Option<futures::channel::oneshot::Sender<ThreadCx<Counter>>>,
}

impl Counter {
    fn count(&mut self) -> Flow {
        placement::OURS.received(self.seen);
        self.seen += 1;
        if self.seen == self.expected {
            let _ = self.done.try_send(());
        }
        Flow::Continue
    }
}

impl TaskThread for Counter {
    type Signal = u64;
    type Output = ();
    type ChildOutput = u64;

    fn id(&self) -> String {
        "counter".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), task_thread::BoxError> {
        if let Some(hand_out) = self.hand_out.take() {
            let _ = hand_out.send(cx.clone());
        }
        Ok(())
    }

    async fn on_signal(&mut self, _signal: u64, _cx: &ThreadCx<Self>) -> Flow {
        self.count()
    }

    async fn on_child_signal(
        &mut self,
        _signal: u64,
        _child: &ChildRef,
        _cx: &ThreadCx<Self>,
    ) -> Flow {
        self.count()
    }
}

/// Case 3a, ours: `n` signals to a thread, each handled by its `on_signal`.
pub fn parent_to_child(flavour: Flavour, n: usize) -> Duration {
    flavour.block_on(|rt| async move {
        let (done, finished) = async_channel::bounded::<()>(1);
        let child = start(
            &rt,
            Counter {
                expected: n,
                seen: 0,
                done,
                hand_out: None,
            },
        )
        .await
        .unwrap();
        let start = Instant::now();
        // Sent from a task, as the raw baseline's producer is one.
        let sender = child.clone();
        let _producer = rt.spawn(async move {
            for i in 0..n {
                placement::OURS.sent(i);
                sender.send(i as u64).await.unwrap();
            }
        });
        finished.recv().await.unwrap();
        let elapsed = start.elapsed();
        child.terminate();
        child.join().await;
        elapsed
    })
}

/// A child that sends `n` signals to its parent from a task.
struct Chatter {
    n: usize,
}

struct Pump {
    left: usize,
}

impl Task<Chatter> for Pump {
    async fn run(&mut self, cx: &TaskCx<Chatter>) -> Next {
        let thread = cx.thread();
        while self.left > 0 {
            self.left -= 1;
            placement::OURS.sent(self.left);
            if thread.send_to_parent(self.left as u64).await.is_err() {
                break;
            }
        }
        Next::Stop
    }
}

impl LeafThread for Chatter {
    type Signal = ();
    type Output = u64;

    fn id(&self) -> String {
        "chatter".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), task_thread::BoxError> {
        cx.slot("pump").re_create(Pump { left: self.n }).await?;
        Ok(())
    }
}

/// Case 3b, ours: `n` signals from a child's task to its parent's `on_child_signal`.
pub fn child_to_parent(flavour: Flavour, n: usize) -> Duration {
    flavour.block_on(|rt| async move {
        let (done, finished) = async_channel::bounded::<()>(1);
        let (hand_out, context) = futures::channel::oneshot::channel();
        let counter = Counter {
            expected: n,
            seen: 0,
            done,
            hand_out: Some(hand_out),
        };
        let parent = start(&rt, counter).await.unwrap();
        let cx = context.await.unwrap();
        let start = Instant::now();
        cx.spawn_child(Chatter { n }).await.unwrap();
        finished.recv().await.unwrap();
        let elapsed = start.elapsed();
        drop(cx);
        parent.terminate();
        parent.join().await;
        elapsed
    })
}

/// Case 3, raw: `n` messages through a bounded(100) channel from one task to another.
pub fn raw_channel(flavour: Flavour, n: usize) -> Duration {
    raw::block_on(flavour, |rt| async move {
        let (sender, receiver) = async_channel::bounded::<u64>(100);
        let start = Instant::now();
        let consumer = rt.spawn(async move {
            for i in 0..n {
                receiver.recv().await.unwrap();
                placement::RAW.received(i);
            }
        });
        rt.spawn(async move {
            for i in 0..n {
                placement::RAW.sent(i);
                sender.send(i as u64).await.unwrap();
            }
        })
        .detach();
        consumer.join().await;
        start.elapsed()
    })
}

/// Case 5, ours: `n` slots with a sleeping task each, all deleted together.
pub fn delete_sleeping(flavour: Flavour, n: usize) -> Duration {
    flavour.block_on(|rt| async move {
        let tasks = TaskGroup::new(rt, "bench");
        for i in 0..n {
            tasks
                .slot(&i.to_string())
                .re_create_fn(|cx| async move { cx.sleep(Duration::from_secs(3600)).await })
                .await
                .unwrap();
        }
        let start = Instant::now();
        tasks.delete_all().await.unwrap();
        let elapsed = start.elapsed();
        assert_eq!(tasks.live_tasks(), 0);
        elapsed
    })
}

/// Case 5, raw: `n` sleeping tasks, all cancelled and awaited together.
pub fn raw_cancel_sleeping(flavour: Flavour, n: usize) -> Duration {
    raw::block_on(flavour, |rt| async move {
        let sleepers: Vec<_> = (0..n)
            .map(|_| {
                let sleeper = rt.clone();
                rt.spawn(async move { sleeper.sleep(Duration::from_secs(3600)).await })
            })
            .collect();
        let start = Instant::now();
        futures::future::join_all(sleepers.into_iter().map(raw::RawTask::cancel)).await;
        start.elapsed()
    })
}
