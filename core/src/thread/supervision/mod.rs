//! Supervision: a parent restarts the children it started with a [`RestartPolicy`], and
//! fails ([`Escalation`]) when they fail too often: OTP's supervisors, on the thread tree;
//! and a slot's task that panics is run again under the same kind of policy.
//! The whole story is on [`ThreadCx::spawn_supervised`], where users look for it.

mod decision;
pub(crate) mod factory;
mod policy;
pub(crate) mod restart;
pub(crate) mod supervisor;
mod task;

pub use decision::{Escalation, RestartDecision};
pub use policy::{Backoff, Intensity, Restart, RestartPolicy, Strategy};

use std::future::Future;
use std::sync::Arc;

use self::factory::Factory;
use self::supervisor::Supervisor;
use crate::thread::context::ThreadCx;
use crate::thread::definition::TaskThread;
use crate::thread::errors::ThreadError;
use crate::thread::family::child_entered;
use crate::thread::handle::ThreadHandle;
use crate::thread::life::thread_core::Supervision;

impl<T: TaskThread> ThreadCx<T> {
    /// Starts `factory`'s thread as a supervised child: when it ends, `policy` decides
    /// whether the factory makes a new one to take its place (under the same id), and how
    /// soon, and `strategy` whether its siblings of a group go with it; restarts past the
    /// policy's intensity fail this thread with an [`Escalation`], so that its own
    /// parent's policy decides next.
    ///
    /// The factory is called again for each restart, so that the child's state is built
    /// afresh. The child keeps its id across restarts: this thread finds it and sends to it
    /// by id ([`find_child_of`](Self::find_child_of), [`send_to_child`](Self::send_to_child))
    /// as before; a [`ThreadHandle`] is one incarnation, and reads as ended once that one
    /// has ended. A signal sent by id while the child waits for its restart is handed back
    /// ([`SendError::Restarting`](crate::SendError::Restarting)): the sender knows the child
    /// is coming back, and chooses to wait, drop or send elsewhere (queuing it for the next
    /// incarnation would hand a fresh state the work its predecessor failed on).
    ///
    /// Each end reaches [`on_child_ended`](TaskThread::on_child_ended) as every end does,
    /// with the decision in [`ChildRef::restart`](crate::ChildRef::restart), taken before
    /// the handler runs. The restart is a task of this thread (in the slot
    /// `restart child <id>`, or `restart group <name>`): it waits the backoff, then starts
    /// the factory's child. This thread's shutdown cancels a restart that waits, so a
    /// terminate during a backoff ends the tree at once; a restart not begun when this
    /// thread is told to end does not begin. A factory that panics, or makes a thread of
    /// another id ([`ThreadError::FactoryChangedId`]), fails this thread at once: that is a
    /// bug to fix, not a failure to retry.
    ///
    /// Returns as [`spawn_child`](Self::spawn_child) does, with the first incarnation's
    /// handle. A first start that fails (its `enter` fails, the id is taken) is the
    /// caller's error and is not restarted; a restart whose `enter` fails counts as a
    /// failure of the child, and is restarted by the policy.
    ///
    /// ```
    /// use std::time::Duration;
    /// use task_thread_core::{BoxError, LeafThread, RestartPolicy, Strategy, TaskThread, ThreadCx};
    ///
    /// /// Reads a sensor; its driver is flaky, so the reader is restarted when it fails.
    /// struct Reader { port: u16 }
    /// impl LeafThread for Reader {
    ///     type Signal = ();
    ///     type Output = f64;
    ///     fn id(&self) -> String { format!("reader-{}", self.port) }
    /// }
    ///
    /// struct Station;
    /// impl TaskThread for Station {
    ///     type Signal = ();
    ///     type Output = ();
    ///     type ChildOutput = f64;
    ///
    ///     async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
    ///         for port in [1, 2] {
    ///             let reader = move || Reader { port };
    ///             cx.spawn_supervised(Strategy::OneForOne, RestartPolicy::default(), reader).await?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn spawn_supervised<C, F>(
        &self,
        strategy: Strategy,
        policy: RestartPolicy,
        factory: F,
    ) -> impl Future<Output = Result<ThreadHandle<C>, ThreadError>> + Send + '_
    where
        C: TaskThread,
        C::Output: Into<T::ChildOutput>,
        F: FnMut() -> C + Send + 'static,
    {
        // Made before the first poll (nothing else is), so that the future holds one
        // pointer where it would hold the policy and the strategy: a future keeps its
        // arguments apart from its later state, and a smaller one is cheaper to move.
        let start = Factory::new(strategy, policy, factory);
        async move {
            let child = start.make();
            let launched = self.launch_child(child, Some(start))?;
            // Unless it enters, the child is not supervised: the call returned an error,
            // or was dropped before the outcome.
            let mut first_start = FirstStart {
                cx: self,
                id: launched.core().id().clone(),
                entered: false,
            };
            let started = child_entered(launched).await;
            first_start.entered = started.is_ok();
            started
        }
    }

    /// Stops supervising the child `id`: its next end is final, whatever its policy, and
    /// a restart that waits does not happen. Its next end reaches
    /// [`on_child_ended`](TaskThread::on_child_ended) with no decision
    /// ([`ChildRef::restart`](crate::ChildRef::restart) is `None`), as an unsupervised
    /// child's. Returns whether it was supervised.
    pub fn stop_supervising(&self, id: &str) -> bool {
        let core = &self.handle.core;
        let removed = core.supervisor(
            Supervision::Existing,
            |supervisor: &mut Supervisor<T>, _| supervisor.forget(id),
        );
        // Dropped here, the core's lock let go: the factory is the user's.
        removed.flatten().is_some()
    }
}

/// Takes a child whose first start did not enter out of the supervisor, when
/// `spawn_supervised`'s call ends, completed or dropped (one pass under the parent's lock,
/// on failure only).
struct FirstStart<'a, T: TaskThread> {
    cx: &'a ThreadCx<T>,
    id: Arc<str>,
    entered: bool,
}

impl<T: TaskThread> Drop for FirstStart<'_, T> {
    fn drop(&mut self) {
        if self.entered {
            return;
        }
        let core = &self.cx.handle.core;
        let removed = core.supervisor(
            Supervision::Existing,
            |supervisor: &mut Supervisor<T>, _| supervisor.first_start_failed(&self.id),
        );
        // Dropped here, the core's lock let go: the factory is the user's.
        drop(removed);
    }
}
