//! Blocking code as a child thread ([`Blocking`]): its handler runs on an OS thread of its
//! own, exchanges the thread's typed signals with the parent, is told when the thread
//! ends, and can neither hang the tree nor lose a signal.

use std::sync::mpsc;
use std::time::Duration;

use futures::channel::oneshot;
use task_thread::{
    Blocking, BlockingLink, BlockingThread, BoxError, ChildRef, Flow, OutputLost, OverflowPolicy,
    Runtime, SendError, SpawnerExt, TaskThread, ThreadConfig, ThreadCx, ThreadEnd, ThreadHandle,
};

use crate::fixtures::EventLog;
use crate::logs;

/// What a [`Worker`] does in its `run`.
enum Mode {
    /// Sends each number doubled, until the thread ends.
    Double,
    /// Returns this error at once.
    Fail(std::io::ErrorKind),
    /// Panics at once.
    Panic,
    /// Blocks on this channel, not looking at its link: a call that never returns.
    Hang(mpsc::Receiver<()>),
    /// Takes one signal, then does not take any other until the thread ends.
    TakeOne,
}

/// A blocking handler logging `took <n>`, `run returned` and `undelivered <signals>`.
struct Worker {
    id: &'static str,
    log: EventLog,
    mode: Mode,
}

impl BlockingThread for Worker {
    type Signal = u32;
    type Output = u32;

    fn id(&self) -> String {
        self.id.into()
    }

    fn config(&self) -> ThreadConfig {
        ThreadConfig {
            shutdown_budget: Duration::from_millis(300),
            ..ThreadConfig::default()
        }
    }

    fn run(&mut self, link: &BlockingLink<u32, u32>) -> Result<(), BoxError> {
        let result = match &self.mode {
            Mode::Double => double(link, &self.log),
            Mode::Fail(kind) => Err(std::io::Error::from(*kind).into()),
            Mode::Panic => panic!("the worker broke"),
            Mode::Hang(gate) => {
                let _ = gate.recv();
                Ok(())
            }
            Mode::TakeOne => {
                if let Some(n) = link.recv() {
                    self.log.push(&format!("took {n}"));
                }
                // Busy elsewhere (a long computation), looking at the link between steps.
                while !link.is_stopping() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(())
            }
        };
        self.log.push("run returned");
        result
    }

    fn on_undelivered(&mut self, signals: Vec<u32>) {
        self.log.push(&format!("undelivered {signals:?}"));
    }
}

fn double(link: &BlockingLink<u32, u32>, log: &EventLog) -> Result<(), BoxError> {
    while let Some(n) = link.recv() {
        log.push(&format!("took {n}"));
        match link.send(2 * n) {
            Ok(()) => {}
            Err(OutputLost::Refused(refused)) => {
                log.push(&format!("got back {}", refused.into_signal()));
            }
            Err(lost) => return Err(lost.into()),
        }
    }
    Ok(())
}

/// A parent that logs `heard <output> from <id>` and `<id> ended: <end>`, and hands out
/// its context.
pub struct Parent<C: std::fmt::Display + Send + 'static> {
    log: EventLog,
    hand_out: Option<oneshot::Sender<ThreadCx<Parent<C>>>>,
    config: ThreadConfig,
}

impl<C: std::fmt::Display + Send + 'static> TaskThread for Parent<C> {
    type Signal = ();
    type Output = ();
    type ChildOutput = C;

    fn config(&self) -> ThreadConfig {
        self.config
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        if let Some(hand_out) = self.hand_out.take() {
            let _ = hand_out.send(cx.clone());
        }
        Ok(())
    }

    async fn on_child_signal(&mut self, output: C, child: &ChildRef, _: &ThreadCx<Self>) -> Flow {
        self.log
            .push(&format!("heard {output} from {}", child.id()));
        Flow::Continue
    }

    async fn on_child_ended(
        &mut self,
        child: &ChildRef,
        end: ThreadEnd,
        _: &ThreadCx<Self>,
    ) -> Flow {
        self.log.push(&format!("{} ended: {end}", child.id()));
        Flow::Continue
    }
}

/// Starts a [`Parent`] and returns it with its context.
pub(crate) async fn parent<C: std::fmt::Display + Send + 'static>(
    rt: &Runtime,
    log: &EventLog,
) -> (ThreadHandle<Parent<C>>, ThreadCx<Parent<C>>) {
    parent_with(rt, log, ThreadConfig::default()).await
}

/// Starts a [`Parent`] with `config` and returns it with its context.
pub async fn parent_with<C: std::fmt::Display + Send + 'static>(
    rt: &Runtime,
    log: &EventLog,
    config: ThreadConfig,
) -> (ThreadHandle<Parent<C>>, ThreadCx<Parent<C>>) {
    let (hand_out, context) = oneshot::channel();
    let parent = Parent {
        log: log.clone(),
        hand_out: Some(hand_out),
        config,
    };
    let parent = task_thread::start(rt, parent).await.unwrap();
    (parent, context.await.unwrap())
}

/// The parent's signals reach the blocking handler in order, its outputs reach the parent,
/// and a terminate tells the handler, whose return ends its thread `Stopped`.
pub async fn a_blocking_thread_talks_with_its_parent_and_stops_with_the_tree(rt: Runtime) {
    let log = EventLog::default();
    let (parent, cx) = parent::<u32>(&rt, &log).await;
    let worker = Worker {
        id: "doubler",
        log: log.clone(),
        mode: Mode::Double,
    };
    let doubler = cx.spawn_child(Blocking::new(worker)).await.unwrap();
    for n in 1..=3 {
        doubler.send(n).await.unwrap();
    }
    log.wait_for("heard 6 from doubler").await;
    doubler.terminate();
    log.wait_for("doubler ended: stopped").await;
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
    assert_eq!(log.starting_with("took"), ["took 1", "took 2", "took 3"]);
    assert_eq!(
        log.starting_with("heard"),
        [
            "heard 2 from doubler",
            "heard 4 from doubler",
            "heard 6 from doubler"
        ]
    );
    assert!(log.position("run returned") < log.position("doubler ended: stopped"));
    assert_eq!(doubler.end(), Some(ThreadEnd::Stopped));
}

/// A handler that returns an error ends its thread `Failed` with that error, its type
/// kept; one that panics, `Failed` with the panic; neither disturbs the parent.
pub async fn a_blocking_handler_that_fails_or_panics_fails_its_thread(rt: Runtime) {
    let log = EventLog::default();
    let (parent, cx) = parent::<u32>(&rt, &log).await;
    let failing = Worker {
        id: "failing",
        log: log.clone(),
        mode: Mode::Fail(std::io::ErrorKind::NotFound),
    };
    let panicking = Worker {
        id: "panicking",
        log: log.clone(),
        mode: Mode::Panic,
    };
    let failing = cx.spawn_child(Blocking::new(failing)).await.unwrap();
    let panicking = cx.spawn_child(Blocking::new(panicking)).await.unwrap();
    let ThreadEnd::Failed(failure) = failing.join().await else {
        panic!("the failing handler's thread did not fail");
    };
    let error = failure
        .downcast_ref::<std::io::Error>()
        .map(std::io::Error::kind);
    assert_eq!(error, Some(std::io::ErrorKind::NotFound));
    let ThreadEnd::Failed(failure) = panicking.join().await else {
        panic!("the panicking handler's thread did not fail");
    };
    let panicked = failure.downcast_ref::<task_thread::Panicked>();
    assert_eq!(panicked.map(|p| p.message()), Some("the worker broke"));
    log.wait_for_prefix("panicking ended").await;
    log.wait_for_prefix("failing ended").await;
    parent.terminate();
    assert_eq!(parent.join().await, ThreadEnd::Stopped);
    assert_eq!(
        log.starting_with("run returned").len(),
        1,
        "the panic skips it"
    );
}

/// A handler blocked in a call that never returns does not hang its thread's end: the
/// thread ends `Forced` at its budget's end, its OS thread left behind and logged.
pub async fn a_blocking_call_that_never_returns_leaves_its_thread_forced(rt: Runtime) {
    let log = EventLog::default();
    let (release, gate) = mpsc::channel();
    let worker = Worker {
        id: "stuck_worker",
        log: log.clone(),
        mode: Mode::Hang(gate),
    };
    let stuck = task_thread::start(&rt, Blocking::new(worker))
        .await
        .unwrap();
    stuck.terminate();
    assert!(matches!(stuck.join().await, ThreadEnd::Forced { .. }));
    logs::wait_for_line(&["stuck_worker", "its OS thread is left behind"]).await;
    assert!(log.events().is_empty(), "the handler is still in its call");
    // Released, the call returns on its OS thread, which then ends by itself.
    release.send(()).unwrap();
    log.wait_for("run returned").await;
}

/// Signals the handler never took, the one handed to it and those still queued, go to its
/// undelivered hook once it has returned, in the order they were sent.
pub async fn signals_the_blocking_handler_never_took_are_handed_back(rt: Runtime) {
    let log = EventLog::default();
    let worker = Worker {
        id: "busy_worker",
        log: log.clone(),
        mode: Mode::TakeOne,
    };
    let busy = task_thread::start(&rt, Blocking::new(worker))
        .await
        .unwrap();
    busy.send(1).await.unwrap();
    log.wait_for("took 1").await;
    busy.send(2).await.unwrap();
    busy.send(3).await.unwrap();
    busy.terminate();
    assert_eq!(busy.join().await, ThreadEnd::Stopped);
    assert_eq!(
        log.events(),
        ["took 1", "run returned", "undelivered [2, 3]"]
    );
}

/// An output the parent cannot take comes back to the handler's `send`: here, from a
/// thread with no parent.
pub async fn an_output_nobody_takes_comes_back_to_the_blocking_handler(rt: Runtime) {
    let log = EventLog::default();
    let worker = Worker {
        id: "orphan",
        log: log.clone(),
        mode: Mode::Double,
    };
    let orphan = task_thread::start(&rt, Blocking::new(worker))
        .await
        .unwrap();
    orphan.send(21).await.unwrap();
    log.wait_for("got back 42").await;
    orphan.terminate();
    assert_eq!(orphan.join().await, ThreadEnd::Stopped);
    assert_eq!(log.events(), ["took 21", "got back 42", "run returned"]);
}

/// A handler whose work ended another way: it closes its link at once, then waits for a
/// gate before it returns. Its thread's queue holds 4 signals and rejects more.
struct Closer {
    log: EventLog,
    gate: mpsc::Receiver<()>,
}

impl BlockingThread for Closer {
    type Signal = u32;
    type Output = u32;

    fn id(&self) -> String {
        "closer".into()
    }

    fn config(&self) -> ThreadConfig {
        ThreadConfig {
            signal_capacity: 4,
            overflow: OverflowPolicy::Reject,
            ..ThreadConfig::default()
        }
    }

    fn run(&mut self, link: &BlockingLink<u32, u32>) -> Result<(), BoxError> {
        link.close();
        self.log.push("closed");
        let _ = self.gate.recv();
        self.log.push("run returned");
        Ok(())
    }

    fn on_undelivered(&mut self, signals: Vec<u32>) {
        self.log.push(&format!("undelivered {signals:?}"));
    }
}

/// Once the handler takes no more signals (it closed its link) and before its thread ends,
/// signals wait in the thread's bounded queue, under its overflow policy: of 100 sent, the
/// queue's 4 are taken, and one more, held by the thread's loop, the others rejected; those
/// taken go to the undelivered hook, in order, once the handler has returned.
pub async fn signals_to_a_closed_blocking_handler_wait_in_the_bounded_queue(rt: Runtime) {
    let log = EventLog::default();
    let (release, gate) = mpsc::channel();
    let closer = Closer {
        log: log.clone(),
        gate,
    };
    let closer = task_thread::start(&rt, Blocking::new(closer))
        .await
        .unwrap();
    log.wait_for("closed").await;
    let (mut taken, mut rejected) = (Vec::new(), Vec::new());
    for n in 0..100 {
        match closer.send(n).await {
            Ok(()) => taken.push(n),
            Err(SendError::Full(n)) => rejected.push(n),
            Err(other) => panic!("neither taken nor rejected as full: {other}"),
        }
        // Turns for the thread's loop, which would take each signal as it comes if its
        // handler let it (only a help to show it would: whether the loop takes a signal
        // in them or not, the bound holds).
        for _ in 0..100 {
            if closer.snapshot().from_parent.queued == 0 {
                break;
            }
            rt.yield_now().await;
        }
    }
    // The loop may take its one before the queue is full, or after.
    assert!((4..=5).contains(&taken.len()), "taken: {taken:?}");
    let mut all = [taken.clone(), rejected].concat();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..100).collect::<Vec<_>>(),
        "each taken or rejected, once"
    );
    release.send(()).unwrap();
    assert_eq!(closer.join().await, ThreadEnd::Stopped);
    assert_eq!(
        log.events(),
        [
            "closed".to_owned(),
            "run returned".to_owned(),
            format!("undelivered {taken:?}")
        ]
    );
}
