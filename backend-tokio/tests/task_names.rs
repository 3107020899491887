//! With the `tokio-console` feature, in a build with `--cfg tokio_unstable`, every task of the
//! tree carries its name in tokio's instrumentation (what tokio-console shows): a thread's
//! its id, a slot's `thread-id/slot-name`. Run with:
//!
//! ```text
//! RUSTFLAGS="--cfg tokio_unstable" cargo test -p task-thread-tokio --features tokio-console --test task_names
//! ```
#![cfg(all(tokio_unstable, feature = "tokio-console"))]

use std::sync::{Arc, Mutex};

use task_thread_core::{Backend, BoxError, LeafThread, ThreadCx};
use task_thread_tokio::Tokio;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// Keeps the `task.name` of every span tokio opens for a spawned task.
#[derive(Clone, Default)]
struct Names(Arc<Mutex<Vec<String>>>);

impl Visit for Names {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "task.name" {
            self.0.lock().unwrap().push(value.to_owned());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "task.name" {
            self.0
                .lock()
                .unwrap()
                .push(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Names {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: Context<'_, S>,
    ) {
        attrs.record(&mut self.clone());
    }
}

struct Sensor;

impl LeafThread for Sensor {
    type Signal = ();
    type Output = ();

    fn id(&self) -> String {
        "sensor".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        cx.slot("read").re_create_fn(|_| async {}).await?;
        Ok(())
    }
}

#[test]
fn threads_and_slots_are_named_for_tokio_console() {
    let names = Names::default();
    let subscriber = tracing_subscriber::registry().with(names.clone());
    tracing::subscriber::with_default(subscriber, || {
        Tokio::current_thread().block_on(|rt| async move {
            let sensor = task_thread_core::start(&rt, Sensor).await.unwrap();
            sensor.terminate();
            sensor.join().await;
        });
    });
    let names = names.0.lock().unwrap().clone();
    assert!(names.iter().any(|n| n == "sensor"), "{names:?}");
    assert!(names.iter().any(|n| n == "sensor/read"), "{names:?}");
}
