//! The shutdown cascade of one thread, within its budget.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures::FutureExt;

use super::contained::failed_as_end;
use super::context::ThreadCx;
use super::core::{ThreadCore, FORCE_GRACE};
use super::definition::{BoxError, TaskThread, ThreadEnd};
use super::mailbox::ParentLink;
use super::receiver::Receiver;
use crate::group::lock;
use crate::join::panic_message;
use crate::spawner::before;

/// The cascade: queued signals to their hooks, `exit`, delete the tasks, then terminate
/// every child at once and wait for all of them, everything by `deadline`: what is still
/// running then is forced.
///
/// Every stopping thread allocates this future, so it is kept small: a plain `fn`
/// returning an `async move` block (an `async fn` would keep each argument twice), and the
/// undelivered signals handed to their hooks before the first await.
pub(crate) fn shut_down<'a, T: TaskThread>(
    thread: &'a mut T,
    cx: &'a ThreadCx<T>,
    receiver: &mut Receiver<T>,
    mut end: ThreadEnd,
    deadline: Instant,
) -> impl Future<Output = ThreadEnd> + Send + 'a {
    let children = cx.handle.core.close_children();
    hand_over_undelivered(thread, cx, receiver);
    async move {
        let core = &cx.handle.core;
        let mut forced = Vec::new();

        let exiting = guarded(core.id(), "exit", thread.exit(cx));
        match before(core.runtime(), deadline, exiting).await {
            Some(Ok(())) => {}
            Some(Err(failed)) => {
                if end == ThreadEnd::Stopped {
                    end = failed;
                }
            }
            None => forced.push("exit".to_owned()),
        }
        core.tasks.close();
        if before(core.runtime(), deadline, core.tasks.delete_all()).await != Some(Ok(())) {
            // Out of budget: cancel without waiting for each in turn, then give the runtime a
            // moment to drop them all.
            core.tasks.cancel_all();
            if !core.tasks_idle_within(FORCE_GRACE).await {
                forced.push("tasks".to_owned());
            }
        }
        for child in &children {
            child.core().terminate(Some(deadline));
        }
        if before(core.runtime(), deadline, core.children_gone())
            .await
            .is_none()
        {
            let late: Vec<_> = children
                .iter()
                .filter(|child| child.core().end().is_none())
                .collect();
            forced.extend(
                late.iter()
                    .map(|child| format!("child {}", child.core().id())),
            );
            let forcing = late.iter().map(|child| {
                child
                    .core()
                    .force("its parent's shutdown budget ran out".into())
            });
            futures::future::join_all(forcing).await;
        }
        if !forced.is_empty() {
            tracing::error!(
                thread = %core.id(),
                "shutdown forced after {:?}: {}",
                core.settings.shutdown_budget,
                forced.join(", ")
            );
            if end == ThreadEnd::Stopped {
                end = ThreadEnd::Forced {
                    what: forced.join(", "),
                };
            }
        }
        end
    }
}

/// What was still queued (or taken and not handled) goes to the thread's hooks.
fn hand_over_undelivered<T: TaskThread>(
    thread: &mut T,
    cx: &ThreadCx<T>,
    receiver: &mut Receiver<T>,
) {
    let core = &cx.handle.core;
    let (signals, from_children) = receiver.close_and_drain();
    if !signals.is_empty() {
        hook(core, "on_undelivered", || thread.on_undelivered(signals));
    }
    if !from_children.is_empty() {
        hook(core, "on_undelivered_from_children", || {
            thread.on_undelivered_from_children(from_children)
        });
    }
}

/// Runs a synchronous hook, containing a panic in it (logged; the shutdown goes on).
fn hook(core: &ThreadCore, name: &str, call: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(call)) {
        tracing::error!(
            thread = %core.id(),
            method = name,
            "panicked: {}",
            panic_message(panic.as_ref())
        );
    }
}

/// Removes the ended thread from its parent's registry and tells the parent.
pub(crate) fn tell_parent<T: TaskThread>(cx: &ThreadCx<T>, end: ThreadEnd) {
    let link = lock(&cx.handle.mailbox.parent).take();
    let Some(ParentLink { inbox: parent }) = link else {
        return;
    };
    parent.core().remove_child(&cx.handle.core);
    parent.push_child_end(cx.handle.as_child(), end);
}

/// Runs a user method of the shutdown (`exit`), contained as the loop's methods are (see
/// [`failed_as_end`]). A combinator, not an `async fn`: it holds the method's future once.
fn guarded<'a, R>(
    thread_id: &'a str,
    method: &'static str,
    call: impl Future<Output = Result<R, BoxError>> + 'a,
) -> impl Future<Output = Result<R, ThreadEnd>> + 'a {
    AssertUnwindSafe(call)
        .catch_unwind()
        .map(move |outcome| failed_as_end(thread_id, method, outcome))
}
