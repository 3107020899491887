//! Case 9: a worker process as a child thread ([`ProcessWorker`]) against the same worker
//! driven over a raw pipe by two OS threads, in the same run: a round trip (one frame out,
//! its echo back, one at a time), then streams of small and of 1 MiB frames (up to
//! [`WINDOW`] unanswered at a time). The worker is this bench run with `--echo-worker`:
//! a blocking loop on `Duplex` that echoes every frame.

use std::io::{BufReader, BufWriter};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use task_thread::{
    start, Backend, Blocking, BoxError, ChildRef, Flavour, Flow, TaskThread, ThreadCx,
};
use task_thread_process::{read_frame, write_frame, Duplex, ProcessWorker};

/// How many frames of a stream may be unanswered at a time.
pub const WINDOW: usize = 32;

/// The size of a small frame's payload (a short string).
pub const SMALL: usize = 16;

/// The size of a large frame's payload: 1 MiB.
pub const LARGE: usize = 1 << 20;

/// The worker's side: echoes every frame until stdin ends.
pub fn echo_worker() {
    let mut duplex = Duplex::<String, String>::stdio();
    while let Ok(Some(text)) = duplex.recv() {
        if duplex.send(&text).is_err() {
            break;
        }
    }
}

fn worker_command() -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the bench's path"));
    command.arg("--echo-worker");
    command
}

/// A root that hands out its context, and passes each reply to the case.
struct Root {
    hand_out: Option<oneshot::Sender<ThreadCx<Root>>>,
    replies: async_channel::Sender<String>,
}

impl TaskThread for Root {
    type Signal = ();
    type Output = ();
    type ChildOutput = String;

    fn id(&self) -> String {
        "root".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        if let Some(hand_out) = self.hand_out.take() {
            let _ = hand_out.send(cx.clone());
        }
        Ok(())
    }

    async fn on_child_signal(&mut self, reply: String, _: &ChildRef, _: &ThreadCx<Self>) -> Flow {
        let _ = self.replies.send(reply).await;
        Flow::Continue
    }
}

/// Ours: `n` frames of `size` bytes through a worker thread, at most `window` unanswered.
pub fn through_tree(flavour: Flavour, n: usize, size: usize, window: usize) -> Duration {
    let payload = "x".repeat(size);
    flavour.block_on(|rt| async move {
        let (hand_out, context) = oneshot::channel();
        let (replies, replied) = async_channel::unbounded();
        let root = Root {
            hand_out: Some(hand_out),
            replies,
        };
        let root = start(&rt, root).await.unwrap();
        let cx = context.await.unwrap();
        let worker = ProcessWorker::<String, String>::new("echo", worker_command());
        let worker = cx.spawn_child(Blocking::new(worker)).await.unwrap();
        // Started and answering before the clock starts.
        worker.send(String::new()).await.unwrap();
        replied.recv().await.unwrap();
        let begin = Instant::now();
        for sent in 0..n {
            if sent >= window {
                replied.recv().await.unwrap();
            }
            worker.send(payload.clone()).await.unwrap();
        }
        for _ in 0..n.min(window) {
            replied.recv().await.unwrap();
        }
        let elapsed = begin.elapsed();
        root.terminate();
        root.join().await;
        elapsed
    })
}

/// Raw: the same over the worker's pipes, a writer and a reader thread of its own, the
/// window kept with a bounded channel of tokens.
pub fn raw_pipe(_flavour: Flavour, n: usize, size: usize, window: usize) -> Duration {
    let payload = "x".repeat(size);
    let mut child = worker_command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the echo worker starts");
    let mut stdin = BufWriter::new(child.stdin.take().expect("piped"));
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    write_frame(&mut stdin, "").unwrap();
    read_frame::<String>(&mut stdout, usize::MAX).unwrap();
    let (token, tokens) = mpsc::sync_channel::<()>(window);
    for _ in 0..window {
        token.send(()).unwrap();
    }
    let begin = Instant::now();
    let writer = std::thread::spawn(move || {
        for _ in 0..n {
            tokens.recv().unwrap();
            write_frame(&mut stdin, &payload.clone()).unwrap();
        }
        stdin
    });
    for _ in 0..n {
        let reply = read_frame::<String>(&mut stdout, usize::MAX).unwrap();
        assert!(reply.is_some());
        let _ = token.try_send(());
    }
    let elapsed = begin.elapsed();
    drop(writer.join().unwrap());
    child.wait().unwrap();
    elapsed
}
