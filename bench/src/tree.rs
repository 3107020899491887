//! Case 4: a root with many children, each with one sleeping task: time to start them all,
//! and time from terminate to join; against the tree a user would write by hand to get
//! the same (see [`hand_made`]), and, for information, tokio-util's TaskTracker and the
//! actor frameworks on tokio, raw sleeping tasks elsewhere.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use task_thread::{
    start, Backend, BoxError, Flavour, LeafThread, Runtime, TaskThread, ThreadCx, ThreadHandle,
};

use crate::raw;

/// A root that hands out its context, for the case to start children as it.
pub struct Root(Option<oneshot::Sender<ThreadCx<Root>>>);

impl TaskThread for Root {
    type Signal = ();
    type Output = ();
    type ChildOutput = ();

    fn id(&self) -> String {
        "root".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        if let Some(hand_out) = self.0.take() {
            let _ = hand_out.send(cx.clone());
        }
        Ok(())
    }
}

/// A child with one task, sleeping: the idle thread of cases 4 and 6.
pub struct Leaf(pub usize);

impl LeafThread for Leaf {
    type Signal = ();
    type Output = ();

    fn id(&self) -> String {
        self.0.to_string()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        cx.slot("sleep")
            .re_create_fn(crate::memory::sleep_an_hour)
            .await?;
        Ok(())
    }
}

/// Starts a [`Root`]: its handle, and its context to start children as it.
pub async fn start_root(rt: &Runtime) -> (ThreadHandle<Root>, ThreadCx<Root>) {
    let (hand_out, context) = oneshot::channel();
    let root = start(rt, Root(Some(hand_out))).await.unwrap();
    (root, context.await.unwrap())
}

/// Ours: (start all `n` children, terminate the root until its join returns).
pub fn threads(flavour: Flavour, n: usize) -> (Duration, Duration) {
    flavour.block_on(|rt| async move {
        let (root, cx) = start_root(&rt).await;
        let begin = Instant::now();
        let children = futures::future::join_all((0..n).map(|i| cx.spawn_child(Leaf(i)))).await;
        let started = begin.elapsed();
        assert!(children.iter().all(Result::is_ok));
        drop((children, cx));
        let begin = Instant::now();
        root.terminate();
        root.join().await;
        (started, begin.elapsed())
    })
}

/// The fair baseline (issue 17): what a user would write by hand to get what a TaskThread
/// child gives. Per child: a spawned task waiting on its bounded queue from the parent and
/// on a cancellation token, holding a sender into the parent's one bounded queue, and an
/// entry in the parent's registry (a `Mutex<HashMap>` of id -> sender) that it leaves at
/// its end; its one sleeping task (as [`Leaf`] has), which it awaits at its end; on
/// terminate the parent cancels the token and awaits every child's end.
pub fn hand_made(flavour: Flavour, n: usize, start: HandMadeStart) -> (Duration, Duration) {
    let (started, stopped, _) = hand_made_measured(flavour, n, start);
    (started, stopped)
}

/// Where the hand-made tree's start ends.
#[derive(Clone, Copy)]
pub enum HandMadeStart {
    /// Once every task is spawned: none has run yet, so their first polls (the sleep's
    /// timer, the waits on queue and token) fall in the stop's measurement.
    Spawned,
    /// Once every child's task has run once and waits on its queue and token, as
    /// `spawn_child` returns once the child's `enter` has returned.
    Waiting,
}

/// [`hand_made`], and the resident bytes the started tree grew the process by.
pub fn hand_made_measured(
    flavour: Flavour,
    n: usize,
    start: HandMadeStart,
) -> (Duration, Duration, usize) {
    raw::block_on(flavour, |rt| async move {
        let before = crate::memory::resident_bytes();
        type Registry = Arc<Mutex<HashMap<String, async_channel::Sender<()>>>>;
        let registry = Registry::default();
        let token = tokio_util::sync::CancellationToken::new();
        let (to_parent, _from_children) = async_channel::bounded::<()>(100);
        // How many children's tasks have run, and the event the last one notifies.
        let ran = Arc::new((AtomicUsize::new(0), event_listener::Event::new()));
        let begin = Instant::now();
        let children: Vec<_> = (0..n)
            .map(|i| {
                let id = i.to_string();
                let (to_child, from_parent) = async_channel::bounded::<()>(100);
                registry.lock().unwrap().insert(id.clone(), to_child);
                let (registry, token, to_parent) =
                    (registry.clone(), token.clone(), to_parent.clone());
                let (sleeper_rt, sleeper_token) = (rt.clone(), token.clone());
                let sleeper = rt.spawn(async move {
                    let sleep = std::pin::pin!(sleeper_rt.sleep(Duration::from_secs(3600)));
                    let cancelled = std::pin::pin!(sleeper_token.cancelled());
                    futures::future::select(sleep, cancelled).await;
                });
                let ran = matches!(start, HandMadeStart::Waiting).then(|| ran.clone());
                rt.spawn(async move {
                    if let Some(ran) = ran {
                        if ran.0.fetch_add(1, Ordering::SeqCst) + 1 == n {
                            ran.1.notify(usize::MAX);
                        }
                    }
                    loop {
                        let signal = std::pin::pin!(from_parent.recv());
                        let cancelled = std::pin::pin!(token.cancelled());
                        match futures::future::select(signal, cancelled).await {
                            futures::future::Either::Left((Ok(()), _)) => {
                                let _ = to_parent.try_send(());
                            }
                            _ => break,
                        }
                    }
                    sleeper.join().await;
                    registry.lock().unwrap().remove(&id);
                })
            })
            .collect();
        if let HandMadeStart::Waiting = start {
            while ran.0.load(Ordering::SeqCst) < n {
                let listener = ran.1.listen();
                if ran.0.load(Ordering::SeqCst) >= n {
                    break;
                }
                listener.await;
            }
        }
        let started = begin.elapsed();
        let grown = crate::memory::resident_bytes().saturating_sub(before);
        let begin = Instant::now();
        token.cancel();
        futures::future::join_all(children.into_iter().map(raw::RawTask::join)).await;
        assert!(registry.lock().unwrap().is_empty());
        (started, begin.elapsed(), grown)
    })
}

/// For information: tokio-util's TaskTracker + CancellationToken on tokio, raw sleeping tasks
/// cancelled together elsewhere.
pub fn baseline(flavour: Flavour, n: usize) -> (Duration, Duration) {
    raw::block_on(flavour, |rt| async move {
        if let raw::RawRt::Tokio(_) = rt {
            return crate::peers::task_tracker_start_stop(n).await;
        }
        let begin = Instant::now();
        let sleepers: Vec<_> = (0..n)
            .map(|_| {
                let sleeper = rt.clone();
                rt.spawn(async move { sleeper.sleep(Duration::from_secs(3600)).await })
            })
            .collect();
        let started = begin.elapsed();
        let begin = Instant::now();
        futures::future::join_all(sleepers.into_iter().map(raw::RawTask::cancel)).await;
        (started, begin.elapsed())
    })
}

/// kameo and ractor actors started and stopped on the same tokio flavour.
pub fn actors(flavour: Flavour, n: usize) -> [(Duration, Duration); 2] {
    raw::block_on(flavour, |_| async move {
        [
            crate::peers::kameo_start_stop(n).await,
            crate::peers::ractor_start_stop(n).await,
        ]
    })
}
