//! The manual's example 2: a parent with its own hello task starts a child in `enter`; the
//! child sends a message to its parent every 5 seconds (`--every S` to change it); the
//! parent logs each one. Ctrl-C terminates both: the parent's exit, then the child's.
//!
//! ```text
//! cargo run --example parent_child -- --every 1 --seconds 4
//! ```
mod support;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use task_thread::{Backend, BoxError, ChildRef, Flow, LeafThread, TaskThread, ThreadCx};

struct MainThread {
    every: Duration,
    stop_after: Option<Duration>, // `--seconds N`
}

impl TaskThread for MainThread {
    type Signal = ();
    type Output = ();
    type ChildOutput = &'static str;

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        cx.slot("hello")
            .re_create_fn(|task| async move {
                task.sleep(Duration::from_secs(1)).await;
                tracing::info!("Hello from {}", task.thread_id());
                task.re_schedule();
            })
            .await?;
        cx.spawn_child(Subthread { every: self.every }).await?;
        if let Some(after) = self.stop_after {
            cx.stop_after(after).await?;
        }
        tracing::info!("{} entered", cx.id());
        Ok(())
    }

    async fn on_child_signal(&mut self, msg: &str, from: &ChildRef, _: &ThreadCx<Self>) -> Flow {
        tracing::info!("Got message {msg} from child with id {}", from.id());
        Flow::Continue
    }

    async fn exit(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        tracing::info!("{} exits", cx.id());
        Ok(())
    }
}

struct Subthread {
    every: Duration,
}

impl LeafThread for Subthread {
    type Signal = ();
    type Output = &'static str;

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let every = self.every;
        cx.slot("hello")
            .re_create_fn(move |task| async move {
                task.sleep(every).await;
                let _ = task.thread().send_to_parent("hello from child").await;
                task.re_schedule();
            })
            .await?;
        Ok(())
    }

    async fn exit(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        tracing::info!("{} exits", cx.id());
        Ok(())
    }
}

/// The manual's example 2: a child thread sends its parent a message every few seconds.
#[derive(Parser)]
struct Cli {
    /// Seconds between the child's messages
    #[arg(long, value_name = "S", default_value = "5", value_parser = support::seconds)]
    every: Duration,
    #[command(flatten)]
    common: support::Common,
}

fn main() -> ExitCode {
    let Cli { every, common } = Cli::parse();
    support::init_logging();
    common.backend.run(MainThread {
        every,
        stop_after: common.seconds,
    })
}
