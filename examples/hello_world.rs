//! The manual's example 1: one root thread with one task that logs "Hello" every second.
//! Ctrl-C (or `--seconds N`) terminates it: its task takes its last step, then its exit
//! runs.
//!
//! ```text
//! cargo run --example hello_world
//! cargo run --example hello_world --all-features -- --backend smol --seconds 3
//! ```
mod support;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use task_thread::{Backend, BoxError, LeafThread, Next, Task, TaskCx, ThreadCx};

/// Sleeps a second and says hello, again and again.
struct Hello;

impl<T> Task<T> for Hello {
    async fn run(&mut self, cx: &TaskCx<T>) -> Next {
        cx.sleep(Duration::from_secs(1)).await;
        tracing::info!("Hello from {}", cx.thread_id());
        Next::Reschedule
    }
}

struct MainThread {
    stop_after: Option<Duration>, // `--seconds N`
}

impl LeafThread for MainThread {
    type Signal = ();
    type Output = ();

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        cx.slot("hello").re_create(Hello).await?;
        if let Some(after) = self.stop_after {
            cx.stop_after(after).await?;
        }
        tracing::info!("{} entered", cx.id());
        Ok(())
    }

    async fn exit(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        tracing::info!("{} exits", cx.id());
        Ok(())
    }
}

/// The manual's example 1: a root thread whose task says hello every second.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: support::Common,
}

fn main() -> ExitCode {
    let options = Cli::parse().common;
    support::init_logging();
    options.backend.run(MainThread {
        stop_after: options.seconds,
    })
}
