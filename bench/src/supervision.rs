//! Case 7: supervision. 7a/7b: a tree whose children are started supervised (none fails)
//! against the same tree started plainly; 7d/7e: the same supervised tree against the
//! plain tree that also keeps, per child, what supervision cannot do without (the factory
//! with its strategy and policy, in an allocation of its own, until the tree has ended);
//! 7c: a restart by the supervisor against the same end followed by a fresh child started
//! from `on_child_ended`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use task_thread::{
    start, Backend, Backoff, BoxError, ChildRef, Flavour, Flow, Intensity, LeafThread, Restart,
    RestartPolicy, Strategy, TaskThread, ThreadCx, ThreadEnd,
};

use crate::tree::Leaf;

/// Never gives up within a run of the bench, never waits.
fn policy(restart: Restart) -> RestartPolicy {
    RestartPolicy {
        restart,
        intensity: Intensity {
            max_restarts: u32::MAX,
            within: Duration::from_secs(3600),
        },
        backoff: Backoff::NONE,
    }
}

/// A root that hands out its context, for the case to start children as it; in the
/// plain restart mode, it starts a new child each time one ends, until `target`.
struct Root {
    hand_out: Option<oneshot::Sender<ThreadCx<Root>>>,
    plain_restarts: Option<Arc<Quits>>,
}

impl TaskThread for Root {
    type Signal = ();
    type Output = ();
    type ChildOutput = ();

    fn id(&self) -> String {
        "root".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        if let Some(hand_out) = self.hand_out.take() {
            let _ = hand_out.send(cx.clone());
        }
        Ok(())
    }

    async fn on_child_ended(&mut self, _: &ChildRef, _: ThreadEnd, cx: &ThreadCx<Self>) -> Flow {
        if let Some(quits) = &self.plain_restarts {
            if quits.entered.load(Ordering::Acquire) < quits.target {
                let _ = cx.spawn_child(Quitter(quits.clone())).await;
            }
        }
        Flow::Continue
    }
}

/// Counts the incarnations of a [`Quitter`]; the last one tells the case.
struct Quits {
    entered: AtomicUsize,
    target: usize,
    done: Mutex<Option<oneshot::Sender<()>>>,
}

/// Stops itself as soon as it has entered, until the count is reached.
struct Quitter(Arc<Quits>);

impl LeafThread for Quitter {
    type Signal = ();
    type Output = ();

    fn id(&self) -> String {
        "quitter".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let entered = self.0.entered.fetch_add(1, Ordering::AcqRel) + 1;
        if entered == self.0.target {
            if let Some(done) = self.0.done.lock().unwrap().take() {
                let _ = done.send(());
            }
        } else {
            cx.handle().terminate();
        }
        Ok(())
    }
}

/// How case 7's tree starts its children.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// With `spawn_supervised`.
    Supervised,
    /// With `spawn_child`.
    Plain,
    /// With `spawn_child`, keeping per child what `spawn_supervised` must keep for a
    /// restart (the factory, its strategy and policy: one allocation) until the tree has
    /// ended: the floor of any supervision that takes a factory per child.
    PlainKeepingFactories,
}

/// (start `n` children, terminate the root until its join returns, and drop what was
/// kept of the children).
pub fn tree(flavour: Flavour, n: usize, how: Start) -> (Duration, Duration) {
    flavour.block_on(|rt| async move {
        let (hand_out, context) = oneshot::channel();
        let root = Root {
            hand_out: Some(hand_out),
            plain_restarts: None,
        };
        let root = start(&rt, root).await.unwrap();
        let cx = context.await.unwrap();
        let kept = Mutex::new(Vec::new());
        let kept = &kept;
        let begin = Instant::now();
        let started = futures::future::join_all((0..n).map(|i| {
            let cx = cx.clone();
            async move {
                let leaf = move || Leaf(i);
                let policy = policy(Restart::OnFailure);
                match how {
                    Start::Supervised => cx
                        .spawn_supervised(Strategy::OneForOne, policy, leaf)
                        .await
                        .map(drop),
                    Start::Plain => cx.spawn_child(leaf()).await.map(drop),
                    Start::PlainKeepingFactories => {
                        let factory = Arc::new((Strategy::OneForOne, policy, Mutex::new(leaf)));
                        let started = cx.spawn_child(leaf()).await.map(drop);
                        kept.lock().unwrap().push(factory);
                        started
                    }
                }
            }
        }))
        .await;
        let start_time = begin.elapsed();
        assert!(started.iter().all(Result::is_ok));
        drop(cx);
        let begin = Instant::now();
        root.terminate();
        root.join().await;
        drop(std::mem::take(&mut *kept.lock().unwrap()));
        (start_time, begin.elapsed())
    })
}

/// The time for `n` incarnations of a child that stops itself at once: restarted by a
/// supervisor (`supervised`), or started afresh by its parent's `on_child_ended`.
pub fn restarts(flavour: Flavour, n: usize, supervised: bool) -> Duration {
    flavour.block_on(|rt| async move {
        let (done, finished) = oneshot::channel();
        let quits = Arc::new(Quits {
            entered: AtomicUsize::new(0),
            target: n,
            done: Mutex::new(Some(done)),
        });
        let (hand_out, context) = oneshot::channel();
        let root = Root {
            hand_out: Some(hand_out),
            plain_restarts: (!supervised).then(|| quits.clone()),
        };
        let root = start(&rt, root).await.unwrap();
        let cx = context.await.unwrap();
        let begin = Instant::now();
        if supervised {
            let quitter = move || Quitter(quits.clone());
            let policy = policy(Restart::Always);
            cx.spawn_supervised(Strategy::OneForOne, policy, quitter)
                .await
                .unwrap();
        } else {
            cx.spawn_child(Quitter(quits)).await.unwrap();
        }
        finished.await.unwrap();
        let elapsed = begin.elapsed();
        drop(cx);
        root.terminate();
        root.join().await;
        elapsed
    })
}
