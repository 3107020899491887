//! Errors of the thread API. Every error that concerns a signal hands the signal back.

use std::fmt;

/// A signal that could not be delivered, handed back to the sender.
///
/// ```
/// use task_thread_core::{LeafThread, SendError, ThreadHandle};
///
/// # struct Worker;
/// # impl LeafThread for Worker {
/// #     type Signal = String;
/// #     type Output = ();
/// #     fn id(&self) -> String { "worker".into() }
/// # }
/// /// Sends `job`; returns whether the worker is still worth sending to.
/// async fn submit(worker: &ThreadHandle<Worker>, job: String, later: &mut Vec<String>) -> bool {
///     match worker.send(job).await {
///         Ok(()) => true,
///         // Only under the Reject policy: the worker is busy, not gone.
///         Err(SendError::Full(job)) => {
///             later.push(job);
///             true
///         }
///         Err(error) => {
///             tracing::warn!("worker unavailable: {error}");
///             // The job is not lost with the worker: another can take it.
///             later.push(error.into_signal());
///             false
///         }
///     }
/// }
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError<S> {
    /// The receiving thread has ended (or was never started).
    Ended(S),
    /// This thread has no parent to send to: it is a root, it has not been added to one
    /// yet, or it has left its parent (its loop has ended: its end, a force, its task
    /// dropped by its runtime).
    NoParent(S),
    /// No child with that id accepts signals of this type.
    NoSuchChild(S),
    /// The receiving queue was full and its policy is [`OverflowPolicy::Reject`](super::OverflowPolicy::Reject).
    Full(S),
    /// The child with that id is supervised, has ended, and waits for its restart (see
    /// [`ThreadCx::spawn_supervised`](super::ThreadCx::spawn_supervised)).
    Restarting(S),
}

impl<S> SendError<S> {
    /// The signal that was not delivered.
    pub fn into_signal(self) -> S {
        match self {
            SendError::Ended(s)
            | SendError::NoParent(s)
            | SendError::NoSuchChild(s)
            | SendError::Full(s)
            | SendError::Restarting(s) => s,
        }
    }

    /// The same error around another value (the signal converted, or unboxed).
    pub fn map<R>(self, convert: impl FnOnce(S) -> R) -> SendError<R> {
        match self {
            SendError::Ended(s) => SendError::Ended(convert(s)),
            SendError::NoParent(s) => SendError::NoParent(convert(s)),
            SendError::NoSuchChild(s) => SendError::NoSuchChild(convert(s)),
            SendError::Full(s) => SendError::Full(convert(s)),
            SendError::Restarting(s) => SendError::Restarting(convert(s)),
        }
    }
}

impl<S> fmt::Display for SendError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendError::Ended(_) => "the receiving thread has ended; the signal is handed back",
            SendError::NoParent(_) => "this thread has no parent; the signal is handed back",
            SendError::NoSuchChild(_) => {
                "no child with that id accepts this signal type; the signal is handed back"
            }
            SendError::Full(_) => "the receiving queue is full; the signal is handed back",
            SendError::Restarting(_) => {
                "the child waits for its restart; the signal is handed back"
            }
        })
    }
}

impl<S> fmt::Debug for SendError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = match self {
            SendError::Ended(_) => "Ended",
            SendError::NoParent(_) => "NoParent",
            SendError::NoSuchChild(_) => "NoSuchChild",
            SendError::Full(_) => "Full",
            SendError::Restarting(_) => "Restarting",
        };
        write!(f, "SendError::{variant}(..)")
    }
}

impl<S> std::error::Error for SendError<S> {}

/// Why a thread could not be started or a child added.
///
/// ```
/// use task_thread_core::{Flow, LeafThread, TaskThread, ThreadCx, ThreadError};
///
/// struct Server;
///
/// impl TaskThread for Server {
///     type Signal = String; // the address of a new peer
///     type Output = ();
///     type ChildOutput = ();
///     fn id(&self) -> String { "server".into() }
///
///     async fn on_signal(&mut self, peer: String, cx: &ThreadCx<Self>) -> Flow {
///         match cx.spawn_child(Connection { peer }).await {
///             Ok(_) => {}
///             // A peer connecting twice keeps its first connection; not a fault.
///             Err(ThreadError::DuplicateId { child }) => tracing::info!("{child} already served"),
///             Err(error) => tracing::warn!("connection not started: {error}"),
///         }
///         Flow::Continue
///     }
/// }
///
/// # struct Connection { peer: String }
/// # impl LeafThread for Connection {
/// #     type Signal = ();
/// #     type Output = ();
/// #     fn id(&self) -> String { self.peer.clone() }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThreadError {
    /// The child already has a parent.
    AlreadyHasParent {
        /// The child's id.
        child: String,
    },
    /// The parent is shutting down or has ended; the child was terminated.
    ParentShuttingDown {
        /// The parent's id.
        parent: String,
    },
    /// The parent already has a child with this id; the new child was terminated.
    DuplicateId {
        /// The id in question.
        child: String,
    },
    /// The child has already ended.
    Ended {
        /// The child's id.
        child: String,
    },
    /// The child is the parent itself or one of its ancestors.
    WouldCycle {
        /// The child's id.
        child: String,
        /// The parent's id.
        parent: String,
    },
    /// The thread's `enter` failed, and the thread has been shut down; or it ended before
    /// its `enter` returned (forced, or its task dropped by a runtime that refused to run
    /// it). `end` says which, and keeps the error of a failure.
    EnterFailed {
        /// The thread's id.
        child: String,
        /// How the thread ended.
        end: super::ThreadEnd,
    },
    /// A supervised child's factory made a thread whose id is not the child's: a restart
    /// keeps the id, so the parent fails rather than start a stranger in its place.
    FactoryChangedId {
        /// The supervised child's id.
        expected: String,
        /// The id of the thread the factory made.
        made: String,
    },
}

impl fmt::Display for ThreadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThreadError::AlreadyHasParent { child } => {
                write!(f, "thread '{child}' already has a parent")
            }
            ThreadError::ParentShuttingDown { parent } => write!(
                f,
                "thread '{parent}' is shutting down and takes no new child; the child was terminated"
            ),
            ThreadError::DuplicateId { child } => write!(
                f,
                "a child with id '{child}' already exists; the new one was terminated (a thread's default id is its type's name: give siblings of one type ids of their own)"
            ),
            ThreadError::Ended { child } => write!(f, "thread '{child}' has already ended"),
            ThreadError::WouldCycle { child, parent } => write!(
                f,
                "thread '{child}' cannot be a child of '{parent}': it is '{parent}' or one of its ancestors"
            ),
            ThreadError::EnterFailed { child, end } => {
                write!(f, "thread '{child}' did not enter: {end}")
            }
            ThreadError::FactoryChangedId { expected, made } => write!(
                f,
                "the factory of supervised child '{expected}' made a thread with id '{made}'; a restart keeps the child's id"
            ),
        }
    }
}

impl std::error::Error for ThreadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ThreadError::EnterFailed {
                end: super::ThreadEnd::Failed(failure),
                ..
            } => Some(failure),
            _ => None,
        }
    }
}
