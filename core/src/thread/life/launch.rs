//! Starting a thread: [`launch`] spawns its task, and [`Launched`] waits for its `enter`
//! (terminating the thread if that wait is dropped first).

use std::sync::Arc;
use std::time::Instant;

use futures::channel::oneshot;

use crate::spawner::before;
use crate::thread::context::ThreadCx;
use crate::thread::definition::{TaskThread, ThreadEnd};
use crate::thread::handle::ThreadHandle;
use crate::thread::life::signal_loop::life;
use crate::thread::life::thread_core::{ThreadCore, FORCE_GRACE};
use crate::thread::life::thread_task::ThreadTask;
use crate::thread::mailbox::receiver::Receiver;
use crate::thread::mailbox::Mailbox;
use crate::Spawner;

/// A thread whose task has been spawned, until its `enter` has returned: see
/// [`entered`](Self::entered), whose future, dropped before then (the caller's start was
/// cancelled, by a timeout say), terminates the thread: `enter` then gets the thread's
/// shutdown budget to return, after which it is dropped.
pub(crate) struct Launched<T: TaskThread> {
    handle: ThreadHandle<T>,
    /// Whether `enter` succeeded; dropped unsent if the task ended first.
    has_entered: oneshot::Receiver<bool>,
}

/// Terminates a thread whose start is dropped before its `enter` has returned.
struct UnlessEntered<'a> {
    core: Option<&'a ThreadCore>,
}

impl Drop for UnlessEntered<'_> {
    fn drop(&mut self) {
        if let Some(core) = self.core {
            tracing::info!(thread = %core.id(), "its start was cancelled before enter returned: terminating it");
            core.terminate(None);
        }
    }
}

/// Spawns `thread` on its own task. `adopt` runs first, before `enter`: a parent registers
/// the child there, so that what the child's `enter` and tasks send up already reaches it.
/// If `adopt` refuses, the thread never runs.
pub(crate) fn launch<T: TaskThread, E>(
    runtime: crate::Runtime,
    thread: T,
    adopt: impl FnOnce(&ThreadCx<T>) -> Result<(), E>,
) -> Result<Launched<T>, E> {
    let core = ThreadCore::new(thread.id(), thread.info(), runtime.clone(), thread.config());
    let cx = ThreadCx {
        handle: ThreadHandle {
            mailbox: Arc::new(Mailbox::new(core.clone())),
            core: core.clone(),
        },
    };
    adopt(&cx)?;
    let handle = cx.handle.clone();
    let (entered, has_entered) = oneshot::channel();
    let receiver = Receiver::new(cx.handle.mailbox.clone());
    let life = ThreadTask {
        core,
        life: Some(life(thread, cx, entered, receiver)),
    };
    // Detached: the thread's end is awaited through its core, and a force cancels the
    // task through its core too (see `ThreadTask`), so no handle is made.
    runtime.spawn_named_detached(format_args!("{}", handle.id()), Box::pin(life));
    Ok(Launched {
        handle,
        has_entered,
    })
}

impl<T: TaskThread> Launched<T> {
    /// The thread's id.
    pub(crate) fn id(&self) -> &str {
        self.handle.id()
    }

    /// The thread's core.
    pub(crate) fn core(&self) -> &Arc<ThreadCore> {
        &self.handle.core
    }

    /// Waits until `enter` has returned: the handle once the signal loop runs; if `enter`
    /// failed, the thread's end once it has shut down (its `exit` ran, its children
    /// ended) and left its parent's registry; if the runtime dropped the thread's task
    /// first, its end as forced (without its `exit`).
    /// Dropped before `enter` has returned, it terminates the thread (see the type).
    pub(crate) async fn entered(self) -> Result<ThreadHandle<T>, ThreadEnd> {
        let Launched {
            handle,
            has_entered,
        } = self;
        let mut unless_entered = UnlessEntered {
            core: Some(&handle.core),
        };
        let outcome = has_entered.await;
        unless_entered.core = None;
        drop(unless_entered);
        match outcome {
            Ok(true) => Ok(handle),
            // `enter` failed: the thread shuts down (its `exit` runs, its children end,
            // within its budget) before its end is returned, and it has left its parent's
            // registry by then, whichever worker is finishing its end: a caller may start
            // another under the same id at once.
            Ok(false) => {
                let end = handle.join().await;
                handle.core.leave_parent();
                Err(end)
            }
            // The task ended without `enter` finishing: forced, or dropped by its runtime.
            // Its end is recorded as soon as what dropped it has finished (on another
            // worker, maybe), or a forcing has waited for its tasks.
            Err(_) => {
                let deadline = Instant::now() + 2 * FORCE_GRACE;
                let ended = before(handle.runtime(), deadline, handle.join()).await;
                if ended.is_some() {
                    // Ended: out of the registry when the error is returned, whichever
                    // worker is still finishing its end.
                    handle.core.leave_parent();
                }
                Err(ended.unwrap_or_else(|| ThreadEnd::Forced {
                    what: "enter (its task ended, its end was not recorded in time)".into(),
                }))
            }
        }
    }
}
