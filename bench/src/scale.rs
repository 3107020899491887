//! Case 8: scale (issue 17). Idle threads by the ten thousand, hundred thousand and
//! million, as a flat tree (a root and its children) and as a tree of depth 3 (a root, its
//! children, theirs and theirs, the same number under each): start, terminate -> join and
//! resident bytes, per thread, each against the same at the smallest count, so that the
//! ratio says whether the cost per thread stays flat; the flat tree a user would write by
//! hand (case 4's baseline) likewise, to tell the runtime's and the allocator's growth from
//! ours. And a parent broadcasting to its children, per delivery, against raw channels.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use task_thread::{start, Backend, BoxError, Flavour, Flow, LeafThread, TaskThread, ThreadCx};

use crate::memory::{resident_bytes, sleep_an_hour};
use crate::{raw, rerun};

/// The shape of a scaled tree.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// A root and all the others its children.
    Flat,
    /// A root, and three levels under it with the same number of children under each.
    Deep,
    /// Not ours: case 4's hand-made flat tree (a task per child on two bounded channels,
    /// a token, a registry), the same sizes.
    HandMade,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Flat => "flat",
            Shape::Deep => "deep",
            Shape::HandMade => "hand-made",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Shape::Flat, Shape::Deep, Shape::HandMade]
            .into_iter()
            .find(|shape| shape.name() == name)
    }

    /// The root of a tree of this shape with about `n` threads under it (the hand-made
    /// tree has no root of ours: as flat).
    fn root(self, n: usize) -> Node {
        match self {
            Shape::Flat | Shape::HandMade => Node {
                index: 0,
                fanout: n,
                levels_below: 1,
            },
            Shape::Deep => Node {
                index: 0,
                fanout: (n as f64).cbrt().round() as usize,
                levels_below: 3,
            },
        }
    }
}

/// A thread of a scaled tree: one sleeping task (the idle thread of cases 4 and 6), and
/// `fanout` children started by its `enter`, down to `levels_below` levels.
struct Node {
    index: usize,
    fanout: usize,
    levels_below: u32,
}

impl Node {
    /// How many threads the tree under (and with) this one has.
    fn size(&self) -> usize {
        (0..=self.levels_below)
            .map(|level| self.fanout.pow(level))
            .sum()
    }
}

impl TaskThread for Node {
    type Signal = ();
    type Output = ();
    type ChildOutput = ();

    fn id(&self) -> String {
        self.index.to_string()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        cx.slot("sleep").re_create_fn(sleep_an_hour).await?;
        if self.levels_below > 0 {
            let (fanout, levels_below) = (self.fanout, self.levels_below - 1);
            let children = (0..fanout).map(|index| {
                cx.spawn_child(Node {
                    index,
                    fanout,
                    levels_below,
                })
            });
            for started in futures::future::join_all(children).await {
                started?;
            }
        }
        Ok(())
    }
}

/// What one scaled tree cost, per thread.
pub struct PerThread {
    pub start_ns: f64,
    pub stop_ns: f64,
    pub bytes: f64,
}

/// Starts a tree of `shape` with about `n` threads, measures it, and ends it (run in a
/// process of its own, so that the resident memory is this tree's alone).
pub fn tree(flavour: Flavour, shape: Shape, n: usize) -> PerThread {
    if let Shape::HandMade = shape {
        let (started, stopped, grown) =
            crate::tree::hand_made_measured(flavour, n, crate::tree::HandMadeStart::Spawned);
        return PerThread {
            start_ns: started.as_nanos() as f64 / n as f64,
            stop_ns: stopped.as_nanos() as f64 / n as f64,
            bytes: grown as f64 / n as f64,
        };
    }
    flavour.block_on(|rt| async move {
        let root = shape.root(n);
        let threads = root.size();
        let before = resident_bytes();
        let begin = Instant::now();
        let root = start(&rt, root).await.expect("the tree starts");
        let started = begin.elapsed();
        let grown = resident_bytes().saturating_sub(before);
        let begin = Instant::now();
        root.terminate();
        root.join().await;
        let stopped = begin.elapsed();
        let per_thread = |duration: Duration| duration.as_nanos() as f64 / threads as f64;
        PerThread {
            start_ns: per_thread(started),
            stop_ns: per_thread(stopped),
            bytes: grown as f64 / threads as f64,
        }
    })
}

/// Counts the signals the listeners handled; the one that handles the last tells.
struct Deliveries {
    handled: AtomicUsize,
    target: usize,
    done: Mutex<Option<oneshot::Sender<()>>>,
}

impl Deliveries {
    fn new(target: usize) -> (Arc<Self>, oneshot::Receiver<()>) {
        let (done, all_handled) = oneshot::channel();
        let deliveries = Deliveries {
            handled: AtomicUsize::new(0),
            target,
            done: Mutex::new(Some(done)),
        };
        (Arc::new(deliveries), all_handled)
    }

    fn handled(&self) {
        if self.handled.fetch_add(1, Ordering::AcqRel) + 1 == self.target {
            if let Some(done) = self.done.lock().unwrap().take() {
                let _ = done.send(());
            }
        }
    }
}

/// A child that counts the signals it handles.
struct Listener {
    index: usize,
    deliveries: Arc<Deliveries>,
}

impl LeafThread for Listener {
    type Signal = ();
    type Output = ();

    fn id(&self) -> String {
        self.index.to_string()
    }

    async fn on_signal(&mut self, _: (), _: &ThreadCx<Self>) -> Flow {
        self.deliveries.handled();
        Flow::Continue
    }
}

/// How many broadcasts each measurement sends.
const ROUNDS: usize = 10;

/// Ours: a parent broadcasts [`ROUNDS`] signals to its `n` children
/// (`send_to_children`); the time until every child has handled each, per delivery.
pub fn broadcast(flavour: Flavour, n: usize) -> Duration {
    flavour.block_on(|rt| async move {
        let (root, cx) = crate::tree::start_root(&rt).await;
        let (deliveries, all_handled) = Deliveries::new(n * ROUNDS);
        let listeners = (0..n).map(|index| {
            let deliveries = deliveries.clone();
            cx.spawn_child(Listener { index, deliveries })
        });
        let listeners = futures::future::join_all(listeners).await;
        assert!(listeners.iter().all(Result::is_ok));
        let begin = Instant::now();
        for _ in 0..ROUNDS {
            let refused = cx.send_to_children::<Listener>(()).await;
            assert!(refused.is_empty());
        }
        all_handled.await.unwrap();
        let elapsed = begin.elapsed();
        drop((listeners, cx));
        root.terminate();
        root.join().await;
        elapsed / ROUNDS as u32
    })
}

/// The baseline: `n` tasks, each on its own bounded(100) channel, as many sends by the
/// parent's task.
pub fn raw_broadcast(flavour: Flavour, n: usize) -> Duration {
    raw::block_on(flavour, |rt| async move {
        let (deliveries, all_handled) = Deliveries::new(n * ROUNDS);
        let (senders, listeners): (Vec<_>, Vec<_>) = (0..n)
            .map(|_| {
                let (to_child, signals) = async_channel::bounded::<()>(100);
                let deliveries = deliveries.clone();
                let listener = rt.spawn(async move {
                    while signals.recv().await.is_ok() {
                        deliveries.handled();
                    }
                });
                (to_child, listener)
            })
            .unzip();
        let begin = Instant::now();
        for _ in 0..ROUNDS {
            for to_child in &senders {
                to_child.send(()).await.unwrap();
            }
        }
        all_handled.await.unwrap();
        let elapsed = begin.elapsed();
        drop(senders);
        futures::future::join_all(listeners.into_iter().map(raw::RawTask::join)).await;
        elapsed / ROUNDS as u32
    })
}

/// Case 8's rows: each size against the smallest, per thread, for both shapes; then the
/// broadcast against raw channels.
pub fn rows(
    flavour: Flavour,
    c: &crate::Counts,
    push: &mut impl FnMut(String, (f64, f64), &'static str, &'static str),
) {
    let [base, sizes @ ..] = c.scale;
    for shape in [Shape::Flat, Shape::Deep, Shape::HandMade] {
        let measure = |n| {
            // The median by start of a few runs; one at the largest size (it takes seconds).
            let repetitions = if n == base { c.repetitions } else { 1 };
            let mut runs: Vec<[f64; 3]> = (0..repetitions)
                .map(|_| rerun::scale_in_child(flavour, shape, n))
                .collect();
            runs.sort_by(|a, b| a[0].total_cmp(&b[0]));
            runs[runs.len() / 2]
        };
        let smallest = measure(base);
        for n in sizes {
            let figures = measure(n);
            for (i, (what, unit)) in [
                ("start", "ns/thread"),
                ("terminate -> join", "ns/thread"),
                ("resident memory", "bytes/thread"),
            ]
            .into_iter()
            .enumerate()
            {
                push(
                    format!(
                        "8{}. {} tree {what}, {n} threads",
                        letter(shape),
                        shape.name()
                    ),
                    (figures[i], smallest[i]),
                    unit,
                    "the same tree at the smallest size",
                );
            }
        }
    }
    let figures = crate::measure::paired(
        c,
        1,
        |_| broadcast(flavour, c.broadcast),
        |_| raw_broadcast(flavour, c.broadcast),
    );
    push(
        format!("8c. broadcast to {} children", c.broadcast),
        (
            figures.0 / c.broadcast as f64,
            figures.1 / c.broadcast as f64,
        ),
        "ns/delivery",
        "raw bounded(100) channel per child",
    );
}

fn letter(shape: Shape) -> char {
    match shape {
        Shape::Flat => 'a',
        Shape::Deep => 'b',
        Shape::HandMade => 'd',
    }
}
