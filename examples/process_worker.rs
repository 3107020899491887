//! A master running `--workers N` worker processes: it sends them jobs (`--every S`
//! seconds, round robin), logs their results, and on Ctrl-C (or after `--seconds N`) ends
//! them all: each worker's stdin is closed, and one that does not exit is sent SIGTERM,
//! then SIGKILL, within its `--budget`. The workers are this program run with `--worker`
//! (a blocking loop on `Duplex`), or, with `--python`, the Python worker of the README
//! (`python3` on the PATH).
//!
//! ```text
//! cargo run --example process_worker -- --workers 3 --every 0.2 --seconds 2
//! cargo run --example process_worker -- --python --seconds 2
//! ```
mod support;

use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::Parser;
use serde::{Deserialize, Serialize};
use task_thread::{
    Backend, Blocking, BoxError, ChildRef, Flow, TaskThread, ThreadConfig, ThreadCx, ThreadEnd,
};
use task_thread_process::{Duplex, FrameError, ProcessWorker};

/// A job: square `n`.
#[derive(Debug, Serialize, Deserialize)]
struct Job {
    id: u64,
    n: u64,
}

/// A job done.
#[derive(Debug, Serialize, Deserialize)]
struct Done {
    id: u64,
    square: u64,
}

/// A worker thread of the master: a process, behind a blocking thread.
type Worker = Blocking<ProcessWorker<Job, Done>>;

/// The README's Python worker, answering a `Job` with a `Done`.
const PYTHON_WORKER: &str = r#"
import json, struct, sys

def recv():
    prefix = sys.stdin.buffer.read(4)
    if len(prefix) < 4:
        return None  # stdin closed: the parent wants us to exit
    (length,) = struct.unpack(">I", prefix)
    return json.loads(sys.stdin.buffer.read(length))

def send(message):
    payload = json.dumps(message).encode()
    sys.stdout.buffer.write(struct.pack(">I", len(payload)) + payload)
    sys.stdout.buffer.flush()

while (job := recv()) is not None:
    send({"id": job["id"], "square": job["n"] ** 2})
"#;

struct Master {
    workers: usize,
    every: Duration,
    budget: Duration,
    python: bool,
    stop_after: Option<Duration>,
}

impl Master {
    /// The command that starts worker `i`.
    fn command(&self) -> std::io::Result<Command> {
        if self.python {
            let mut python = Command::new("python3");
            python.args(["-c", PYTHON_WORKER]);
            return Ok(python);
        }
        let mut itself = Command::new(std::env::current_exe()?);
        itself.arg("--worker");
        Ok(itself)
    }
}

impl TaskThread for Master {
    type Signal = ();
    type Output = ();
    type ChildOutput = Done;

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let config = ThreadConfig {
            shutdown_budget: self.budget,
            ..ThreadConfig::default()
        };
        for i in 0..self.workers {
            let worker = ProcessWorker::<Job, Done>::new(format!("worker-{i}"), self.command()?)
                .with_config(config)
                .on_undelivered(|jobs: Vec<Job>| tracing::warn!("jobs not done: {jobs:?}"));
            cx.spawn_child(Blocking::new(worker)).await?;
        }
        let every = self.every;
        let mut next = 0_u64;
        cx.slot("jobs")
            .re_create_fn(move |task| {
                next += 1;
                let job = Job { id: next, n: next };
                async move {
                    task.sleep(every).await;
                    let workers = task.thread().children_of::<Worker>();
                    if let Some(worker) = workers.get((job.id as usize) % workers.len().max(1)) {
                        if let Err(refused) = worker.send(job).await {
                            tracing::warn!("job not sent: {refused}");
                        }
                    }
                    task.re_schedule();
                }
            })
            .await?;
        if let Some(after) = self.stop_after {
            cx.stop_after(after).await?;
        }
        tracing::info!("{} entered with {} workers", cx.id(), self.workers);
        Ok(())
    }

    async fn on_child_signal(&mut self, done: Done, from: &ChildRef, _: &ThreadCx<Self>) -> Flow {
        tracing::info!("job {}: {} (from {})", done.id, done.square, from.id());
        Flow::Continue
    }

    async fn on_child_ended(
        &mut self,
        child: &ChildRef,
        end: ThreadEnd,
        _: &ThreadCx<Self>,
    ) -> Flow {
        tracing::warn!("{} ended: {end}", child.id());
        Flow::Continue
    }

    async fn exit(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        tracing::info!("{} exits: its workers end next", cx.id());
        Ok(())
    }
}

/// The worker's side: squares numbers until its stdin ends.
fn work() -> Result<(), FrameError> {
    let mut duplex = Duplex::<Job, Done>::stdio();
    while let Some(job) = duplex.recv()? {
        duplex.send(&Done {
            id: job.id,
            square: job.n * job.n,
        })?;
    }
    Ok(())
}

/// Worker processes as child threads: jobs out, results back, all ended on Ctrl-C.
#[derive(Parser)]
struct Cli {
    /// How many worker processes
    #[arg(long, value_name = "N", default_value_t = 4)]
    workers: usize,
    /// Seconds between two jobs
    #[arg(long, value_name = "S", default_value = "0.5", value_parser = support::seconds)]
    every: Duration,
    /// Seconds each worker gets to end at the shutdown
    #[arg(long, value_name = "S", default_value = "5", value_parser = support::seconds)]
    budget: Duration,
    /// Run the README's Python worker (python3) instead of this program
    #[arg(long)]
    python: bool,
    /// Be a worker: read jobs on stdin, write results on stdout (the master runs this)
    #[arg(long, hide = true)]
    worker: bool,
    #[command(flatten)]
    common: support::Common,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    support::init_logging();
    if cli.worker {
        return match work() {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!("worker: {error}");
                ExitCode::FAILURE
            }
        };
    }
    cli.common.backend.run(Master {
        workers: cli.workers,
        every: cli.every,
        budget: cli.budget,
        python: cli.python,
        stop_after: cli.common.seconds,
    })
}
