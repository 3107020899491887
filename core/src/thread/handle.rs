//! [`ThreadHandle`]: what the rest of the program holds of a running thread: its identity,
//! its queue, its lifecycle. What only the thread itself may do is on its
//! [`ThreadCx`](super::ThreadCx).

use std::sync::Arc;

use super::definition::{TaskThread, ThreadEnd};
use super::errors::SendError;
use super::life::thread_core::ThreadCore;
use super::mailbox::Mailbox;

/// A cloneable handle to a running thread of type `T`: the outside view of the thread.
///
/// It does what anyone may do to a thread: send it a signal, ask it and await the answer
/// ([`ask`](Self::ask)), terminate it, join it, read its end, id, info and parent's id. What only the thread may do (send to its parent,
/// start, find and message its children, use its slots) is on its
/// [`ThreadCx`](super::ThreadCx), which the library hands to the thread's own methods and
/// tasks alone. So a parent holding its child's handle cannot speak as the child:
///
/// ```compile_fail,E0599
/// # use task_thread_core::{LeafThread, ThreadHandle};
/// # struct Child;
/// # impl LeafThread for Child {
/// #     type Signal = ();
/// #     type Output = String;
/// #     fn id(&self) -> String { "child".into() }
/// # }
/// async fn impersonate(child: &ThreadHandle<Child>) {
///     // error[E0599]: no method named `send_to_parent` found for `&ThreadHandle<Child>`
///     let _ = child.send_to_parent("sent by someone else".into()).await;
/// }
/// ```
///
/// Contract:
/// - [`send`](Self::send) queues a signal for the thread's
///   [`on_signal`](TaskThread::on_signal); when the queue is full, `T::on_overflow` is called
///   and then the thread's [`OverflowPolicy`](super::OverflowPolicy) applies (wait for room,
///   or hand the signal back in [`SendError::Full`]). A thread that has ended hands the signal
///   back in [`SendError::Ended`], also to a sender that was waiting for room when it ended;
/// - [`ask`](Self::ask) sends a request the same way and waits, within a deadline, for its
///   answer or for why none will come (see [`AskError`](super::AskError));
/// - [`terminate`](Self::terminate) ends the signal loop ahead of queued signals, even if the
///   loop has not started yet; the thread then runs `exit`, deletes its tasks and terminates
///   its children (all together), and [`join`](Self::join) returns;
/// - [`join`](Self::join) can be awaited by any number of waiters, before or after the end,
///   and returns the same [`ThreadEnd`] to each.
///
/// Compared with a tokio `JoinHandle`: dropping it does nothing to the thread, and the
/// thread's end includes the end of its whole subtree (but for a thread whose task its
/// runtime dropped: its children are then terminated, not awaited).
///
/// ```
/// use task_thread_core::{Flow, LeafThread, Runtime, ThreadCx, ThreadEnd, start};
///
/// struct Echo;
///
/// impl LeafThread for Echo {
///     type Signal = String;
///     type Output = ();
///     fn id(&self) -> String { "echo".into() }
///     async fn on_signal(&mut self, text: String, _cx: &ThreadCx<Self>) -> Flow {
///         tracing::info!("{text}");
///         Flow::Continue
///     }
/// }
///
/// async fn talk(rt: &Runtime) {
///     let echo = start(rt, Echo).await.unwrap();
///     echo.send("hello".to_owned()).await.unwrap();
///     echo.terminate();
///     assert_eq!(echo.join().await, ThreadEnd::Stopped);
///     // Ended: what is sent now comes back.
///     assert_eq!(echo.send("late".to_owned()).await.unwrap_err().into_signal(), "late");
/// }
/// ```
pub struct ThreadHandle<T: TaskThread> {
    pub(crate) core: Arc<ThreadCore>,
    pub(crate) mailbox: Arc<Mailbox<T>>,
}

impl<T: TaskThread> Clone for ThreadHandle<T> {
    fn clone(&self) -> Self {
        ThreadHandle {
            core: self.core.clone(),
            mailbox: self.mailbox.clone(),
        }
    }
}

impl<T: TaskThread> ThreadHandle<T> {
    /// The thread's id.
    #[must_use]
    pub fn id(&self) -> &str {
        self.core.id()
    }

    /// The thread's info.
    #[must_use]
    pub fn info(&self) -> &str {
        self.core.info()
    }

    /// The runtime the thread runs on.
    #[must_use]
    pub fn runtime(&self) -> &crate::Runtime {
        self.core.runtime()
    }

    /// Sends `signal` to the thread (the original's `insertSignal`): see the type's contract.
    #[doc(alias = "insertSignal")]
    pub async fn send(&self, signal: T::Signal) -> Result<(), SendError<T::Signal>> {
        self.mailbox.send(signal).await
    }

    /// Ends the thread (the original's `terminate`, and its `stop` when the thread ends
    /// itself, through `cx.handle().terminate()`; a handler can also return
    /// [`Flow::Stop`](super::Flow::Stop)): see the type's contract. Idempotent. A child
    /// ends, leaves its parent's registry, and its parent is told through
    /// [`on_child_ended`](TaskThread::on_child_ended).
    #[doc(alias = "stop")]
    pub fn terminate(&self) {
        self.core.terminate(None);
    }

    /// Waits for the thread's end, shutdown included.
    pub async fn join(&self) -> ThreadEnd {
        self.core.join().await
    }

    /// How the thread ended, or `None` while it runs.
    #[must_use]
    pub fn end(&self) -> Option<ThreadEnd> {
        self.core.end()
    }

    /// The thread's report, once it has ended (`None` before): how it and its subtree
    /// lived and ended (see [`ThreadReport`](crate::ThreadReport)).
    #[must_use]
    pub fn report(&self) -> Option<crate::ThreadReport> {
        self.core.report()
    }

    /// A snapshot of the thread and its live subtree, as it runs: each thread's state,
    /// age, queues, counters, slots and children (see
    /// [`ThreadSnapshot`](crate::ThreadSnapshot) for what it holds and how consistent it
    /// is). It never waits for a thread, so a busy handler does not delay it.
    ///
    /// ```
    /// # use task_thread_core::{LeafThread, ThreadHandle};
    /// # struct Server;
    /// # impl LeafThread for Server { type Signal = (); type Output = (); }
    /// fn print_tree(server: &ThreadHandle<Server>) {
    ///     // One line per thread, indented like `tree`.
    ///     tracing::info!("the live tree:\n{}", server.snapshot());
    /// }
    /// ```
    #[must_use]
    pub fn snapshot(&self) -> crate::ThreadSnapshot {
        super::snapshot::taking::snapshot(&self.core, &*self.mailbox)
    }

    /// The id of the thread's parent: `None` for a root, for a thread not added to a
    /// parent yet, and for one whose parent has been dropped.
    #[must_use]
    pub fn parent_id(&self) -> Option<String> {
        self.core.parent_id()
    }

    /// How this thread's parent sees it.
    pub(crate) fn as_child(&self) -> super::family::children::ChildRef {
        super::mailbox::child_lane::Sender::child_ref(&self.mailbox)
    }

    /// The number of live tasks in the thread's slots.
    #[must_use]
    pub fn live_tasks(&self) -> usize {
        self.core.tasks.live_tasks()
    }
}

impl<T: TaskThread> std::fmt::Debug for ThreadHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadHandle")
            .field("id", &self.id())
            .finish()
    }
}
