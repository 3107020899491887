//! What a full queue logs: one place (the default overflow hook), at most one line a second
//! per thread with the count of what it left out, and nothing at all when a thread's hook
//! replaces the default.
//!
//! Issue 16: 200 KB of empty frames made 16.9 MB of log, two WARN lines per full-queue
//! event (one in the mailbox, one in the default hook), and a hook could not silence the
//! first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use task_thread::{
    start, Flow, LeafThread, Overflow, OverflowPolicy, Runtime, SendError, ThreadConfig, ThreadCx,
};

use crate::fixtures::EventLog;
use crate::logs;
use crate::tree::{hold, start_inside, Cmd, Node};

/// Full-queue events sent to each thread.
const FLOOD: usize = 50;

/// A thread whose overflow hook counts, and logs nothing.
struct Quiet;

static QUIET_OVERFLOWS: AtomicUsize = AtomicUsize::new(0);

impl LeafThread for Quiet {
    type Signal = Cmd;
    type Output = ();

    fn id(&self) -> String {
        "quiet_sink".into()
    }

    fn config(&self) -> ThreadConfig {
        ThreadConfig {
            signal_capacity: 1,
            overflow: OverflowPolicy::Reject,
            ..ThreadConfig::default()
        }
    }

    fn on_overflow(_overflow: &Overflow<'_>) {
        QUIET_OVERFLOWS.fetch_add(1, Ordering::SeqCst);
    }

    async fn on_signal(&mut self, signal: Cmd, _cx: &ThreadCx<Self>) -> Flow {
        if let Cmd::Wait(gate) = signal {
            let _ = gate.await;
        }
        Flow::Continue
    }
}

/// Floods a held thread's full queues both ways: its default hook logs one line a second
/// at most (here, however slow the machine, no more lines than seconds elapsed, plus one),
/// each naming the queue and, for the children's queue, the sender; nothing else logs a
/// full queue. A thread whose hook replaces the default logs nothing, and its hook sees
/// every event.
pub async fn a_flood_of_full_queues_logs_a_line_a_second_and_a_hook_replaces_it(rt: Runtime) {
    logs::capture();
    let log = EventLog::default();
    let began = Instant::now();
    let mut flooded = Node::new("flooded", &log).with_children(vec![Node::new("flooder", &log)]);
    flooded.capacity = 1;
    flooded.child_capacity = 1;
    flooded.overflow = OverflowPolicy::Reject;
    let flooded = start_inside(&rt, flooded).await;
    let open = hold(flooded.handle(), &log).await;
    flooded.handle().send(Cmd::Note(0)).await.unwrap();
    for n in 1..=FLOOD {
        let refused = flooded.handle().send(Cmd::Note(n as u32)).await;
        assert!(matches!(refused, Err(SendError::Full(_))));
    }
    let flooder = flooded.find_child_of::<Node>("flooder").unwrap();
    flooder.send(Cmd::Up("fits".into())).await.unwrap();
    log.wait_for("flooder sent up fits").await;
    for _ in 0..FLOOD {
        flooder.send(Cmd::Up("refused".into())).await.unwrap();
    }
    log.wait_for_times("flooder up refused: SendError::Full(..)", FLOOD)
        .await;
    let seconds = began.elapsed().as_secs() as usize;
    let lines = logs::count_lines(&["WARN", "thread=flooded", "queue full"]);
    assert!(
        (1..=seconds + 1).contains(&lines),
        "{lines} lines for {} full-queue events in {seconds} s",
        2 * FLOOD
    );
    assert!(logs::contains_line(&[
        "WARN",
        "thread=flooded",
        "FromParent",
        "left_out=0"
    ]));
    // The mailbox's own line, logged beside the hook's before issue 16, is gone.
    assert!(!logs::contains_line(&["queue of child signals is full"]));
    open.send(()).unwrap();
    flooded.handle().terminate();
    flooded.handle().join().await;

    let quiet = start(&rt, Quiet).await.unwrap();
    let (open, gate) = futures::channel::oneshot::channel::<()>();
    quiet.send(Cmd::Wait(gate)).await.unwrap();
    // The queue holds one: the gate, if the loop has not taken it yet (nothing here
    // yields to it), else one note; every other send overflows.
    let mut accepted = 0;
    for n in 0..FLOOD {
        if quiet.send(Cmd::Note(n as u32)).await.is_ok() {
            accepted += 1;
        }
    }
    assert!(accepted <= 1, "{accepted}");
    assert_eq!(QUIET_OVERFLOWS.load(Ordering::SeqCst), FLOOD - accepted);
    assert_eq!(logs::count_lines(&["thread=quiet_sink", "queue full"]), 0);
    drop(open);
    quiet.terminate();
    quiet.join().await;
}
