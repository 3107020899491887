//! A thread's tasks reach their thread through their own context, typed, in both forms.

use task_thread::{BoxError, Flow, LeafThread, Next, Runtime, Task, TaskCx, ThreadCx};

use crate::fixtures::EventLog;
use crate::tree::{start_inside, Node};

/// A child whose two tasks talk to the parent through `task.thread()`: one of the explicit
/// form (a closure keeping a count across runs, as an `FnMut` may; nothing cloned before
/// the `move`), one of the `Task` form for this thread type only. The last stops the
/// thread through its context.
struct Reporter {
    log: EventLog,
}

/// Sends "tick <n>" three times, then stops its thread.
struct Ticks(u32);

impl Task<Reporter> for Ticks {
    async fn run(&mut self, cx: &TaskCx<Reporter>) -> Next {
        self.0 += 1;
        let _ = cx.thread().send_to_parent(format!("tick {}", self.0)).await;
        if self.0 < 3 {
            return Next::Reschedule;
        }
        cx.thread().handle().terminate();
        Next::Stop
    }
}

impl LeafThread for Reporter {
    type Signal = ();
    type Output = String;

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let mut runs = 0;
        cx.slot("greeter")
            .re_create_fn(move |task| {
                runs += 1;
                async move {
                    let greeting = format!("hello {runs} from {}", task.thread().id());
                    let _ = task.thread().send_to_parent(greeting).await;
                    if runs < 2 {
                        task.re_schedule();
                    }
                }
            })
            .await?;
        Ok(())
    }

    async fn exit(&mut self, _cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        self.log.push("exit reporter");
        Ok(())
    }

    /// Starts the ticks once told to: after the greetings have all arrived.
    async fn on_signal(&mut self, (): (), cx: &ThreadCx<Self>) -> Flow {
        cx.slot("ticks").re_create(Ticks(0)).await.unwrap();
        Flow::Continue
    }
}

/// Both forms reach their thread: what they send arrives in order, and the `Task` form's
/// stop ends the thread, whose parent sees it end. (`Reporter` names no id: its id is its
/// type's name, `reporter`.)
pub async fn a_task_reaches_its_thread_in_both_forms(rt: Runtime) {
    let log = EventLog::default();
    let parent = start_inside(&rt, Node::new("p", &log)).await;
    let reporter = parent
        .spawn_child(Reporter { log: log.clone() })
        .await
        .unwrap();
    log.wait_for("p from reporter: hello 2 from reporter").await;
    reporter.send(()).await.unwrap();
    log.wait_for("p saw reporter end: Stopped").await;
    parent.handle().terminate();
    parent.handle().join().await;
    // The parent's view, in order (the child's exit is logged on the child's own task,
    // so only its place before its end is fixed).
    assert_eq!(
        log.starting_with("p "),
        [
            "p from reporter: hello 1 from reporter",
            "p from reporter: hello 2 from reporter",
            "p from reporter: tick 1",
            "p from reporter: tick 2",
            "p from reporter: tick 3",
            "p saw reporter end: Stopped",
        ]
    );
    assert!(log.position("exit reporter") < log.position("p saw reporter end: Stopped"));
    assert_eq!(log.events().last().map(String::as_str), Some("exit p"));
}
