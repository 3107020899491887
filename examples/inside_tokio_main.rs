//! A tree inside a program that already runs tokio (`#[tokio::main]`): take the runtime
//! you are in with `task_thread::tokio::current()`, run the root with `task_thread::run`,
//! and turn its end into the exit status. Ctrl-C (or `--seconds N`) ends it.
//!
//! ```text
//! cargo run --example inside_tokio_main -- --seconds 3
//! ```
mod support;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use task_thread::{BoxError, LeafThread, ThreadCx};

struct Heartbeat {
    stop_after: Option<Duration>,
}

impl LeafThread for Heartbeat {
    type Signal = ();
    type Output = ();

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        cx.slot("beat")
            .re_create_fn(|task| async move {
                task.sleep(Duration::from_secs(1)).await;
                tracing::info!("{} beats", task.thread_id());
                task.re_schedule();
            })
            .await?;
        if let Some(after) = self.stop_after {
            cx.stop_after(after).await?;
        }
        tracing::info!("{} entered", cx.id());
        Ok(())
    }
}

/// A tree inside a program that already runs tokio (`#[tokio::main]`). Its runtime is
/// tokio's: it takes no --backend.
#[derive(Parser)]
struct Cli {
    /// Stop after N seconds (fractions allowed) [default: run until Ctrl-C]
    #[arg(long, value_name = "N", value_parser = support::seconds)]
    seconds: Option<Duration>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let stop_after = Cli::parse().seconds;
    support::init_logging();
    // The runtime `#[tokio::main]` started, as a task-thread `Runtime`.
    let rt = task_thread::tokio::current();
    // Logs the tree's report at the end, and returns it.
    let report = task_thread::run(&rt, Heartbeat { stop_after }).await;
    report.end().exit_code()
}
