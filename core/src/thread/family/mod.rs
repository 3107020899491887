//! A thread's operations on the tree, its parent and its children: on [`ThreadCx`] alone,
//! as only the thread itself may send as it or adopt children into it.

pub(crate) mod children;
pub(crate) mod registry;

use std::convert::Infallible;
use std::sync::Arc;

use crate::group::lock;
use crate::thread::context::ThreadCx;
use crate::thread::definition::TaskThread;
use crate::thread::errors::{SendError, ThreadError};
use crate::thread::family::children::{handle_of, mailbox_of, ChildRef};
use crate::thread::family::registry::{AnyChild, Registry};
use crate::thread::handle::ThreadHandle;
use crate::thread::life::launch::{self, Launched};
use crate::thread::life::thread_core::counting::{bump, bump_in_turn};
use crate::thread::life::thread_core::InsertRefused;
use crate::thread::mailbox::room::{wait_for_room, Refused};
use crate::thread::mailbox::{ChildInbox, ParentLink};
use crate::thread::supervision::factory::StartChild;
use crate::thread::supervision::supervisor::{is_restarting, supervise};

impl<T: TaskThread> ThreadCx<T> {
    /// Sends `output` to the parent's [`on_child_signal`](TaskThread::on_child_signal); a
    /// full queue follows the parent's overflow hook and policy. A thread without a parent
    /// gets its output back in [`SendError::NoParent`].
    #[doc(alias = "sigFromChildToParent__")]
    pub async fn send_to_parent(&self, output: T::Output) -> Result<(), SendError<T::Output>> {
        // Pushed under the link's lock: once the child's end has taken the link (and
        // queued the end), nothing of the child can follow it into the parent's mailbox.
        // The busy path is this one lock and one push.
        let mailbox = &self.handle.mailbox;
        // Counted once it is pushed, never before (a count that is taken back when the push
        // is refused would fall; counts only grow), under the link's lock: every send holds
        // it as it counts, so the count is a load and a store, no locked add. The parent
        // may see a signal arrive a moment before it is counted here.
        let sent_count = &self.handle.core.counts().sent_to_parent;
        let (inbox, first) = {
            let link = lock(&mailbox.parent);
            let Some(link) = link.as_ref() else {
                return Err(SendError::NoParent(output));
            };
            match link.inbox.push_child_signal(mailbox, output) {
                Ok(()) => {
                    bump_in_turn(sent_count);
                    return Ok(());
                }
                Err(first) => (link.inbox.clone(), first),
            }
        };
        let push = |output| {
            let link = lock(&mailbox.parent);
            let pushed = match link.as_ref() {
                Some(link) => link.inbox.push_child_signal(mailbox, output),
                None => Err(Refused::Closed(output)),
            };
            if pushed.is_ok() {
                bump_in_turn(sent_count);
            }
            pushed
        };
        let on_full = || inbox.overflowed(self.id());
        let never = std::future::pending::<Infallible>();
        let sent = wait_for_room(push, inbox.room_for_children(), on_full, first, never).await;
        match sent {
            Ok(()) => Ok(()),
            Err(refused) => {
                inbox.undelivered();
                Err(refused.refused())
            }
        }
    }

    fn count_sent_to_child(&self) {
        bump(&self.handle.core.counts().sent_to_children);
    }

    /// Starts `child` as a child of this thread: it is registered before its `enter` runs
    /// (so what it sends up from `enter` or its tasks reaches this thread), and the call
    /// returns once it has entered and its signal loop runs. A child that cannot be added
    /// never runs; one whose `enter` fails is shut down, and this thread sees it end in
    /// [`on_child_ended`](TaskThread::on_child_ended) besides getting the error. One whose
    /// task the runtime refuses to run (it is shutting down) is reported by the error
    /// only, and has left the registry by then. Cancelling the call (dropping its future,
    /// as a [`timeout`](crate::SpawnerExt::timeout) around it does) before the child's
    /// `enter` returns terminates the child, as [`start`](crate::thread::start) does.
    ///
    /// The child's output needs only to convert into this thread's child output: a child
    /// written without knowing its parent (a library's) sends its own type, and a parent
    /// with children of several kinds takes an enum with a `From` for each. What a full
    /// queue refuses comes back to the child as it sent it.
    ///
    /// ```
    /// use task_thread_core::{BoxError, ChildRef, Flow, LeafThread, TaskThread, ThreadCx};
    ///
    /// // A library's thread: it knows nothing of its parent.
    /// pub struct Disk;
    /// pub enum DiskEvent { Full, Freed(u64) }
    /// impl LeafThread for Disk {
    ///     type Signal = ();
    ///     type Output = DiskEvent;
    /// }
    ///
    /// // The program's parent: one enum for what its children of every kind send.
    /// enum Report { Disk(DiskEvent), Log(String) }
    /// impl From<DiskEvent> for Report {
    ///     fn from(event: DiskEvent) -> Self { Report::Disk(event) }
    /// }
    ///
    /// struct Monitor;
    /// impl TaskThread for Monitor {
    ///     type Signal = ();
    ///     type Output = ();
    ///     type ChildOutput = Report;
    ///
    ///     async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
    ///         cx.spawn_child(Disk).await?; // sends DiskEvent, arrives as Report::Disk
    ///         Ok(())
    ///     }
    ///
    ///     async fn on_child_signal(&mut self, report: Report, _: &ChildRef, _: &ThreadCx<Self>) -> Flow {
    ///         if let Report::Disk(DiskEvent::Full) = report {
    ///             tracing::warn!("disk full");
    ///         }
    ///         Flow::Continue
    ///     }
    /// }
    /// ```
    ///
    /// While this thread awaits `spawn_child` inside one of its own methods, its signal loop
    /// is not taking signals: a child whose `enter` sends more than this thread's
    /// `child_signal_capacity` under the wait policy would wait for it, and it for the child.
    /// The same holds for a child whose `enter` fails: the call returns once the child has
    /// shut down, so its tasks' grace and its `exit` run while this thread waits, and what
    /// they send up beyond the capacity waits until the child's budget forces it (every
    /// stage has a deadline: nothing waits forever). Send from the child's tasks instead,
    /// or spawn children from a task.
    pub async fn spawn_child<C>(&self, child: C) -> Result<ThreadHandle<C>, ThreadError>
    where
        C: TaskThread,
        C::Output: Into<T::ChildOutput>,
    {
        let launched = self.launch_child(child, None)?;
        child_entered(launched).await
    }

    /// Launches `child` as a child of this thread (registered before its `enter` runs),
    /// with its supervisor's entry if it is supervised, added under the same lock.
    pub(crate) fn launch_child<C>(
        &self,
        child: C,
        supervised: Option<Arc<dyn StartChild<T>>>,
    ) -> Result<Launched<C>, ThreadError>
    where
        C: TaskThread,
        C::Output: Into<T::ChildOutput>,
    {
        if !self.handle.core.is_running() {
            return Err(ThreadError::ParentShuttingDown {
                parent: self.id().to_owned(),
            });
        }
        let runtime = self.runtime().clone();
        launch::launch(runtime, child, |child| {
            self.adopt(child.handle(), supervised)
        })
    }

    /// Adds a running thread as a child of this one (the two-step form of
    /// [`spawn_child`](Self::spawn_child)). A child that already has a parent is refused and
    /// left alone; a child refused for another reason is terminated, so none is orphaned.
    #[doc(alias = "addChild")]
    pub fn add_child<C>(&self, child: &ThreadHandle<C>) -> Result<(), ThreadError>
    where
        C: TaskThread,
        C::Output: Into<T::ChildOutput>,
    {
        self.adopt(child, None)
    }

    /// [`add_child`](Self::add_child), with a supervised child's entry for this thread's
    /// supervisor, added with the child under one lock: refused, the entry is dropped.
    fn adopt<C>(
        &self,
        child: &ThreadHandle<C>,
        supervised: Option<Arc<dyn StartChild<T>>>,
    ) -> Result<(), ThreadError>
    where
        C: TaskThread,
        C::Output: Into<T::ChildOutput>,
    {
        let me = &self.handle;
        if me.core.is_or_descends_from(&child.core) {
            return Err(ThreadError::WouldCycle {
                child: child.id().to_owned(),
                parent: self.id().to_owned(),
            });
        }
        if !child.core.claim_parent(&me.core) {
            return Err(ThreadError::AlreadyHasParent {
                child: child.id().to_owned(),
            });
        }
        let inbox: Arc<dyn ChildInbox<C::Output>> = me.mailbox.clone();
        *lock(&child.mailbox.parent) = Some(ParentLink { inbox });
        let entry: Arc<dyn AnyChild> = child.mailbox.clone();
        let supervise = |registry: &mut Registry, id: &Arc<str>| match supervised {
            None => Ok(()),
            Some(supervised) => supervise(registry, id, supervised),
        };
        let refused = match me.core.insert_child(entry, supervise) {
            // Ended before it could be told where to report: take it back out.
            Ok(()) if child.end().is_some() => {
                me.core.remove_child(&child.core);
                *lock(&child.mailbox.parent) = None;
                return Err(ThreadError::Ended {
                    child: child.id().to_owned(),
                });
            }
            Ok(()) => return Ok(()),
            Err(refused) => refused,
        };
        *lock(&child.mailbox.parent) = None;
        child.core.release_parent();
        child.terminate();
        Err(match refused {
            InsertRefused::ShuttingDown => ThreadError::ParentShuttingDown {
                parent: self.id().to_owned(),
            },
            // Supervised already (waiting for its restart): the entry goes here, the
            // parent's lock let go, as it holds the user's factory.
            InsertRefused::Duplicate | InsertRefused::Along(_) => ThreadError::DuplicateId {
                child: child.id().to_owned(),
            },
        })
    }

    /// The ids of the children (in no particular order).
    #[doc(alias = "getChildIds")]
    #[must_use]
    pub fn child_ids(&self) -> Vec<String> {
        let children = self.handle.core.children();
        children.iter().map(|c| c.core().id().to_string()).collect()
    }

    /// The number of children.
    #[must_use]
    pub fn child_count(&self) -> usize {
        self.handle.core.child_count()
    }

    /// The ids of the children of type `C`.
    #[must_use]
    pub fn child_ids_of<C: TaskThread>(&self) -> Vec<String> {
        let children = self.children_of::<C>();
        children.iter().map(|c| c.id().to_owned()).collect()
    }

    /// The child with this id, whatever its type.
    #[doc(alias = "findChild")]
    #[must_use]
    pub fn find_child(&self, id: &str) -> Option<ChildRef> {
        self.handle
            .core
            .find_child(id)
            .map(|child| ChildRef { child })
    }

    /// The child with this id if it is a `C`.
    #[must_use]
    pub fn find_child_of<C: TaskThread>(&self, id: &str) -> Option<ThreadHandle<C>> {
        self.find_child(id)?.handle::<C>()
    }

    /// Every child of type `C`.
    pub fn children_of<C: TaskThread>(&self) -> Vec<ThreadHandle<C>> {
        self.handle.core.children_filter_map(handle_of::<C>)
    }

    /// Sends `signal` to the child `id`, a `C`; the child's overflow hook and policy apply.
    /// The signal's type is checked when compiling: it is `C`'s; that the child `id` is a
    /// `C` is checked when sending (else [`SendError::NoSuchChild`], the signal handed back).
    ///
    /// ```
    /// # use task_thread_core::{LeafThread, SendError, ThreadCx};
    /// # struct Worker;
    /// # impl LeafThread for Worker {
    /// #     type Signal = u32;
    /// #     type Output = ();
    /// #     fn id(&self) -> String { "w".into() }
    /// # }
    /// # struct Pool;
    /// # impl LeafThread for Pool {
    /// #     type Signal = ();
    /// #     type Output = ();
    /// #     fn id(&self) -> String { "pool".into() }
    /// # }
    /// async fn give_job(pool: &ThreadCx<Pool>) -> Result<(), SendError<u32>> {
    ///     // `send_to_child::<Worker>("w", "job")` would not compile: a worker takes a u32.
    ///     pool.send_to_child::<Worker>("w", 7).await
    /// }
    /// ```
    ///
    /// A signal of another type does not compile:
    ///
    /// ```compile_fail,E0308
    /// # use task_thread_core::{LeafThread, ThreadCx};
    /// # struct Worker;
    /// # impl LeafThread for Worker {
    /// #     type Signal = u32;
    /// #     type Output = ();
    /// #     fn id(&self) -> String { "w".into() }
    /// # }
    /// # struct Pool;
    /// # impl LeafThread for Pool {
    /// #     type Signal = ();
    /// #     type Output = ();
    /// #     fn id(&self) -> String { "pool".into() }
    /// # }
    /// async fn give_job(pool: &ThreadCx<Pool>) {
    ///     // error[E0308]: mismatched types: expected `u32`, found `&str`
    ///     let _ = pool.send_to_child::<Worker>("w", "a job").await;
    /// }
    /// ```
    #[doc(alias = "sigFromParentToChild__")]
    pub async fn send_to_child<C: TaskThread>(
        &self,
        id: &str,
        signal: C::Signal,
    ) -> Result<(), SendError<C::Signal>> {
        match self.find_child_of::<C>(id) {
            Some(child) => {
                child.send(signal).await?;
                self.count_sent_to_child();
                Ok(())
            }
            None if is_restarting::<T>(&self.handle.core, id) => Err(SendError::Restarting(signal)),
            None => Err(SendError::NoSuchChild(signal)),
        }
    }

    /// Sends a clone of `signal` to every child that is a `C`. Returns the refusals (a
    /// child that ended meanwhile, a full queue under the reject policy), each with the
    /// child's id and the signal handed back.
    pub async fn send_to_children<C: TaskThread>(
        &self,
        signal: C::Signal,
    ) -> Vec<(String, SendError<C::Signal>)>
    where
        C::Signal: Clone,
    {
        let mut refused = Vec::new();
        // Their mailboxes only: a handle would add a second reference count per child.
        for child in self.handle.core.children_filter_map(mailbox_of::<C>) {
            match child.send(signal.clone()).await {
                Ok(()) => self.count_sent_to_child(),
                Err(error) => refused.push((child.core.id().to_string(), error)),
            }
        }
        refused
    }
}

/// Waits for a launched child's `enter` to return: its handle, or why it did not enter.
pub(crate) async fn child_entered<C: TaskThread>(
    launched: Launched<C>,
) -> Result<ThreadHandle<C>, ThreadError> {
    let id = launched.core().id().clone();
    let entered = launched.entered().await;
    entered.map_err(|end| ThreadError::EnterFailed {
        child: id.to_string(),
        end,
    })
}
