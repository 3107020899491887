//! One slot, one task that logs "Hello" every second by rescheduling itself (the manual's
//! "Anatomy of a Task"). Ends on Ctrl-C / SIGTERM, or after `--seconds N`.
//!
//! ```text
//! cargo run --example hello_task -- --seconds 3
//! cargo run --example hello_task --features smol -- --backend smol
//! ```
mod support;

use std::time::Duration;

use clap::Parser;
use futures::future::{select, Either};
use task_thread::{Backend, Spawner, TaskCx, TaskGroup};

/// Sleeps a second, says hello, then reschedules itself into the slot it came from.
async fn hello_task(cx: TaskCx) {
    cx.sleep(Duration::from_secs(1)).await;
    tracing::info!("Hello from {} at {}", cx.task_name(), cx.thread_id());
    cx.re_schedule();
}

/// One slot, one task that logs "Hello" every second by rescheduling itself.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: support::Common,
}

fn main() {
    let options = Cli::parse().common;
    support::init_logging();
    options.backend.block_on(|rt| async move {
        let signal = rt.shutdown_signal();
        tracing::info!("running on {}; Ctrl-C stops", rt.name());
        let tasks = TaskGroup::new(rt.clone(), "main_thread");
        tasks
            .slot("hello_task")
            .re_create_fn(hello_task)
            .await
            .expect("an empty slot starts its task");

        let deadline = match options.seconds {
            Some(seconds) => rt.sleep(seconds),
            None => Box::pin(futures::future::pending()),
        };
        match select(signal, deadline).await {
            Either::Left((Ok(signal), _)) => tracing::info!("got {signal:?}, stopping"),
            Either::Left((Err(error), _)) => tracing::error!("cannot wait for signals: {error}"),
            Either::Right(_) => tracing::info!("time is up, stopping"),
        }
        match tasks.delete_all().await {
            Ok(()) => tracing::info!("all tasks ended, bye"),
            Err(error) => {
                tracing::error!("{error}");
                std::process::exit(1);
            }
        }
    });
}
