//! A slot's task under a [`RestartPolicy`]: a run that panics is followed, after the
//! backoff, by a fresh run of the task function, until the restarts go past the intensity.

use std::any::Any;
use std::future::Future;
use std::panic::{resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::FutureExt;

use super::decision::{Escalation, RestartDecision, RestartHistory};
use super::policy::{Restart, RestartPolicy};
use crate::group::lock;
use crate::join::panic_message;
use crate::thread::definition::ThreadEnd;
use crate::thread::failure::Failure;
use crate::{SlotError, TaskCx, TaskSlot};

impl<T: 'static> TaskSlot<T> {
    /// Starts `task_fn` in this slot as [`re_create_fn`](Self::re_create_fn) does, under
    /// `policy`: a run that panics (or whose task function panics) is logged with the
    /// thread and task names, and followed, after the policy's backoff, by a fresh run of
    /// `task_fn`, so that a "read the socket, reschedule" loop survives a bad message
    /// without code of its own. Past the policy's intensity the restarts stop: the thread
    /// fails with an [`Escalation`] (during `"task <name>"`); in a bare
    /// [`TaskGroup`](crate::TaskGroup), the slot empties, as after any panic.
    ///
    /// Under [`Restart::Always`], a run that returns without asking for another is
    /// restarted too (a task that must always run); under [`Restart::Never`], the policy
    /// changes nothing. The backoff's wait is a [`TaskCx::sleep`]: the thread's shutdown
    /// notice ends it, and no restart follows once the notice has fired.
    ///
    /// Only the explicit form is restarted: a [`Task`](crate::Task) value that panicked
    /// mid-run may hold half-changed state, while a task function makes each run afresh
    /// (what must survive a restart lives in its captures).
    ///
    /// ```
    /// use task_thread_core::{BoxError, LeafThread, RestartPolicy, ThreadCx};
    ///
    /// struct Feed;
    ///
    /// impl LeafThread for Feed {
    ///     type Signal = ();
    ///     type Output = u8;
    ///     fn id(&self) -> String { "feed".into() }
    ///
    ///     async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
    ///         let policy = RestartPolicy::default();
    ///         cx.slot("read").re_create_supervised(policy, |task| async move {
    ///             let frame: Vec<u8> = vec![7]; // read from the socket
    ///             // A malformed frame panics here; the next run reads the next one.
    ///             let _ = task.thread().send_to_parent(frame[0]).await;
    ///             task.re_schedule();
    ///         }).await?;
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub async fn re_create_supervised<F, Fut>(
        &self,
        policy: RestartPolicy,
        mut task_fn: F,
    ) -> Result<(), SlotError>
    where
        F: FnMut(TaskCx<T>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let restarts = Arc::new(Mutex::new(Restarts {
            policy,
            history: RestartHistory::default(),
            since: Instant::now(),
        }));
        self.re_create_fn(move |cx: TaskCx<T>| {
            let made = std::panic::catch_unwind(AssertUnwindSafe(|| task_fn(cx.clone())));
            supervised_run(cx, made, restarts.clone())
        })
        .await
    }
}

/// A supervised task's policy and the restarts that count.
struct Restarts {
    policy: RestartPolicy,
    history: RestartHistory,
    /// When the last restart happened (or the task started).
    since: Instant,
}

type Panic = Box<dyn Any + Send>;

/// One run, caught; then what the policy says of its end.
async fn supervised_run<T, Fut>(
    cx: TaskCx<T>,
    made: Result<Fut, Panic>,
    restarts: Arc<Mutex<Restarts>>,
) where
    Fut: Future<Output = ()> + Send,
{
    let panic = match made {
        Ok(run) => AssertUnwindSafe(run).catch_unwind().await.err(),
        Err(panic) => Some(panic),
    };
    let during = format!("task {}", cx.task_name());
    let end = match &panic {
        Some(panic) => {
            ThreadEnd::Failed(Failure::panicked(during.clone(), panic_message(&**panic)))
        }
        None => ThreadEnd::Stopped,
    };
    let (decision, escalation) = {
        let mut restarts = lock(&restarts);
        let returned_for_good =
            panic.is_none() && (restarts.policy.restart != Restart::Always || cx.has_asked_again());
        if returned_for_good || cx.is_shutting_down() {
            (RestartDecision::LetEnd, None)
        } else {
            let Restarts {
                policy,
                history,
                since,
            } = &mut *restarts;
            let decision = history.decide(policy, &end, *since, Instant::now(), fastrand::f64());
            let escalation = Escalation {
                supervised: cx.task_name().to_owned(),
                is_task: true,
                restarts: policy.intensity.max_restarts,
                within: policy.intensity.within,
                last_end: end.clone(),
            };
            (decision, Some(escalation))
        }
    };
    match (decision, escalation) {
        (RestartDecision::Restart { attempt, after }, _) => {
            tracing::error!(
                thread = %cx.thread_id(),
                task = %cx.task_name(),
                "task ended ({end}): restart {attempt} in {after:?}"
            );
            if !after.is_zero() {
                cx.sleep(after).await;
            }
            lock(&restarts).since = Instant::now();
            cx.re_schedule();
        }
        (RestartDecision::Escalate, Some(escalation)) => {
            tracing::error!(thread = %cx.thread_id(), task = %cx.task_name(), "{escalation}");
            cx.tell_thread(Failure::new(during, Box::new(escalation)));
            // The panic goes on, so that no successor runs (the run may have asked for one
            // before it panicked) and a bare group's slot empties.
            if let Some(panic) = panic {
                resume_unwind(panic);
            }
        }
        // Not restarted: a panic goes on as any task's panic does.
        _ => {
            if let Some(panic) = panic {
                resume_unwind(panic);
            }
        }
    }
}
