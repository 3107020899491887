//! The manual's example 2: a parent with its own hello task starts a child in `enter`; the
//! child sends a message to its parent every 5 seconds (`--every S` to change it); the
//! parent logs each one. Ctrl-C terminates both: the parent's exit, then the child's.
//!
//! ```text
//! cargo run --example parent_child -- --every 1 --seconds 4
//! ```
mod support;

use std::time::Duration;

use task_thread::{
    Backend, BoxError, ChildRef, Flow, LeafThread, Next, Task, TaskCx, TaskThread, ThreadCx,
};

/// What the child tells its parent.
struct Message(String);

struct Hello;

impl<T> Task<T> for Hello {
    async fn run(&mut self, cx: &TaskCx<T>) -> Next {
        cx.sleep(Duration::from_secs(1)).await;
        tracing::info!("Hello from {}", cx.thread_id());
        Next::Reschedule
    }
}

struct ParentThread {
    every: Duration,
    stop_after: Option<Duration>,
}

impl TaskThread for ParentThread {
    type Signal = ();
    type Output = ();
    type ChildOutput = Message;

    fn id(&self) -> String {
        "main_thread".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        cx.slot("hello").re_create(Hello).await?;
        cx.spawn_child(ChildThread { every: self.every }).await?;
        if let Some(after) = self.stop_after {
            cx.stop_after(after).await?;
        }
        tracing::info!("{} entered", cx.id());
        Ok(())
    }

    async fn on_child_signal(
        &mut self,
        message: Message,
        child: &ChildRef,
        _cx: &ThreadCx<Self>,
    ) -> Flow {
        tracing::info!(
            "Got message {} from child with id {}",
            message.0,
            child.id()
        );
        Flow::Continue
    }

    async fn exit(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        tracing::info!("{} exits", cx.id());
        Ok(())
    }
}

struct ChildThread {
    every: Duration,
}

impl LeafThread for ChildThread {
    type Signal = ();
    type Output = Message;

    fn id(&self) -> String {
        "subthread".into()
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let (thread, every) = (cx.clone(), self.every);
        cx.slot("messenger")
            .re_create_fn(move |task| {
                let thread = thread.clone();
                async move {
                    task.sleep(every).await;
                    let message = Message("hello from child".into());
                    if thread.send_to_parent(message).await.is_ok() {
                        task.re_schedule();
                    }
                }
            })
            .await?;
        Ok(())
    }

    async fn exit(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        tracing::info!("{} exits", cx.id());
        Ok(())
    }
}

fn main() {
    support::init_logging();
    let options = support::Options::from_args();
    let every = Duration::from_secs_f64(options.get("--every", 5.0));
    let end = options.backend.block_on(|rt| async move {
        tracing::info!(
            "running on {}; Ctrl-C stops",
            task_thread::Spawner::name(&rt)
        );
        let parent = ParentThread {
            every,
            stop_after: options.seconds,
        };
        task_thread::run(&rt, parent).await
    });
    tracing::info!("ended: {end:?}");
}
