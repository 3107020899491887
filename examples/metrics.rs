//! The tree's counters as metrics (the `metrics` feature), exported the Prometheus way: a
//! producer child sends its parent a reading every `--every S` seconds (default 0.5), and
//! the parent records its tree's snapshot through the `metrics` facade and logs what a
//! Prometheus scrape would read, every `--scrape-every S` seconds (default 2). A server
//! would serve `handle.render()` on its `/metrics` instead of logging it.
//!
//! ```text
//! cargo run --example metrics --features metrics -- --seconds 5
//! ```
mod support;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use task_thread::{Backend, BoxError, ChildRef, Flow, LeafThread, TaskThread, ThreadCx};

struct Collector {
    every: Duration,
    scrape_every: Duration,
    exporter: PrometheusHandle,
    stop_after: Option<Duration>, // `--seconds N`
}

impl TaskThread for Collector {
    type Signal = ();
    type Output = ();
    type ChildOutput = f64;

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        cx.spawn_child(Producer { every: self.every }).await?;
        let (every, exporter) = (self.scrape_every, self.exporter.clone());
        cx.slot("scrape")
            .re_create_fn(move |task| {
                let exporter = exporter.clone();
                async move {
                    task.sleep(every).await;
                    if task.is_shutting_down() {
                        return;
                    }
                    // The counts are kept by the threads anyway: recorded when read.
                    task.thread().snapshot().record_metrics();
                    tracing::info!("what a scrape reads:\n{}", exporter.render());
                    task.re_schedule();
                }
            })
            .await?;
        if let Some(after) = self.stop_after {
            cx.stop_after(after).await?;
        }
        tracing::info!("{} entered", cx.id());
        Ok(())
    }

    async fn on_child_signal(&mut self, reading: f64, _: &ChildRef, _: &ThreadCx<Self>) -> Flow {
        tracing::debug!("reading {reading}");
        Flow::Continue
    }
}

struct Producer {
    every: Duration,
}

impl LeafThread for Producer {
    type Signal = ();
    type Output = f64;

    fn id(&self) -> String {
        "producer".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let every = self.every;
        cx.slot("read")
            .re_create_fn(move |task| async move {
                task.sleep(every).await;
                let _ = task.thread().send_to_parent(21.5).await;
                task.re_schedule();
            })
            .await?;
        Ok(())
    }
}

/// The tree's counters as Prometheus metrics.
#[derive(Parser)]
struct Cli {
    /// Seconds between the producer's readings (more than 0)
    #[arg(long, value_name = "S", default_value = "0.5", value_parser = support::positive_seconds)]
    every: Duration,
    /// Seconds between two scrapes (more than 0)
    #[arg(long, value_name = "S", default_value = "2", value_parser = support::positive_seconds)]
    scrape_every: Duration,
    #[command(flatten)]
    common: support::Common,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    support::init_logging();
    // The exporter a user would pick; without its HTTP listener here (the example logs
    // what a scrape would read).
    let exporter = match PrometheusBuilder::new().install_recorder() {
        Ok(exporter) => exporter,
        Err(error) => {
            tracing::error!("cannot install the Prometheus recorder: {error}");
            return ExitCode::FAILURE;
        }
    };
    cli.common.backend.run(Collector {
        every: cli.every,
        scrape_every: cli.scrape_every,
        exporter,
        stop_after: cli.common.seconds,
    })
}
