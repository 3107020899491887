//! How threads end at their edges: a task's failure racing a handler's stop, a signal
//! racing a terminate, a task started after the end, a panic in a thread's destructor.

use std::time::Duration;

use futures::channel::oneshot;
use task_thread::{
    start, BoxError, Flow, LeafThread, Next, Runtime, SlotError, Task, TaskCx, TaskGroup, ThreadCx,
    ThreadEnd,
};

use crate::fixtures::EventLog;
use crate::tree::{Cmd, Node};

/// A thread whose handler waits for a gate, then stops, while its task fails on a trigger.
/// The handler hands out the thread's task group when it starts waiting.
struct Gated {
    waiting: Option<oneshot::Sender<TaskGroup>>,
    gate: Option<oneshot::Receiver<()>>,
    trigger: Option<oneshot::Receiver<()>>,
}

/// Fails once triggered.
struct Doomed(Option<oneshot::Receiver<()>>);

impl<T> Task<T> for Doomed {
    async fn run(&mut self, _cx: &TaskCx<T>) -> Next {
        if let Some(trigger) = self.0.take() {
            let _ = trigger.await;
        }
        panic!("doomed fails");
    }
}

impl LeafThread for Gated {
    type Signal = ();
    type Output = ();

    fn id(&self) -> String {
        "gated".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        cx.slot("doomed")
            .re_create(Doomed(self.trigger.take()))
            .await?;
        Ok(())
    }

    async fn on_signal(&mut self, _signal: (), cx: &ThreadCx<Self>) -> Flow {
        if let Some(waiting) = self.waiting.take() {
            let _ = waiting.send(cx.tasks().clone());
        }
        if let Some(gate) = self.gate.take() {
            let _ = gate.await;
        }
        Flow::Stop
    }
}

/// A task that fails while a handler runs fails the thread, even when the handler then
/// returns `Flow::Stop`: the failure is not lost behind the stop.
pub async fn a_task_failure_during_a_handler_outranks_its_stop(rt: Runtime) {
    crate::logs::capture();
    let (open, gate) = oneshot::channel();
    let (fire, trigger) = oneshot::channel();
    let (waiting, handler_waits) = oneshot::channel();
    let thread = start(
        &rt,
        Gated {
            waiting: Some(waiting),
            gate: Some(gate),
            trigger: Some(trigger),
        },
    )
    .await
    .unwrap();
    thread.send(()).await.unwrap();
    let tasks = handler_waits.await.unwrap();
    fire.send(()).unwrap();
    // The failure has been reported to the thread once the task has been dropped.
    tasks.idle().await;
    open.send(()).unwrap();
    match thread.join().await {
        ThreadEnd::Failed(failure) => {
            assert_eq!(failure.during(), "task doomed");
            assert!(failure.is_panic());
            assert!(failure.to_string().contains("doomed fails"), "{failure}");
        }
        other => panic!("the task's failure was lost: {other:?}"),
    }
}

/// A signal sent after `terminate` by the same caller is never handled: it goes to the
/// undelivered hook (or comes back), whatever the loop was doing.
pub async fn a_signal_sent_after_terminate_is_never_handled(rt: Runtime) {
    for round in 0..200 {
        let log = EventLog::default();
        let thread = start(&rt, Node::new("t", &log)).await.unwrap();
        thread.send(Cmd::Note(round)).await.unwrap();
        thread.terminate();
        let late = thread.send(Cmd::Note(u32::MAX)).await;
        thread.join().await;
        assert!(
            !log.events().contains(&format!("t got {}", u32::MAX)),
            "round {round}: a signal sent after terminate was handled ({late:?})"
        );
    }
}

/// A thread whose `enter` hands its context out, as a task or a callback might keep it.
struct Leaky {
    context: Option<oneshot::Sender<ThreadCx<Leaky>>>,
}

impl LeafThread for Leaky {
    type Signal = ();
    type Output = ();

    fn id(&self) -> String {
        "leaky".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        if let Some(context) = self.context.take() {
            let _ = context.send(cx.clone());
        }
        Ok(())
    }
}

/// No task outlives its thread: once the thread is shutting down or has ended, starting a
/// task in one of its slots is refused with `SlotError::Closed`, and nothing runs.
pub async fn no_task_starts_in_an_ended_thread(rt: Runtime) {
    let (context, kept) = oneshot::channel();
    let thread = start(
        &rt,
        Leaky {
            context: Some(context),
        },
    )
    .await
    .unwrap();
    let cx = kept.await.unwrap();
    thread.terminate();
    assert_eq!(thread.join().await, ThreadEnd::Stopped);
    let late = cx
        .slot("late")
        .re_create_fn(|task| async move { task.sleep(Duration::from_secs(3600)).await })
        .await;
    match late {
        Err(SlotError::Closed { thread, task }) => {
            assert_eq!((thread.as_str(), task.as_str()), ("leaky", "late"));
        }
        other => panic!("a task was started in an ended thread: {other:?}"),
    }
    assert_eq!(cx.tasks().live_tasks(), 0);
}

/// A thread whose value panics when it is dropped.
struct Fragile;

impl Drop for Fragile {
    fn drop(&mut self) {
        panic!("fragile fails while dropped");
    }
}

impl LeafThread for Fragile {
    type Signal = ();
    type Output = ();

    fn id(&self) -> String {
        "fragile".into()
    }
}

/// A panic in the thread's own destructor, dropped after its end, is contained: logged
/// with the thread's id, the end stays what it was, no runtime aborts.
pub async fn a_panic_while_a_thread_is_dropped_is_contained(rt: Runtime) {
    crate::logs::capture();
    let thread = start(&rt, Fragile).await.unwrap();
    thread.terminate();
    assert_eq!(thread.join().await, ThreadEnd::Stopped);
    crate::logs::wait_for_line(&["ERROR", "fragile", "fragile fails while dropped"]).await;
    assert_eq!(thread.end(), Some(ThreadEnd::Stopped));
}
