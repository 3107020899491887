//! The mailbox as its children see it: a child's link to its parent's mailbox
//! ([`ParentLink`]), and the part of that mailbox the child uses whatever the parent's type
//! ([`ChildInbox`]): pushing its signals and its end, the room and overflow policy of the
//! children's lane.

use std::sync::Arc;

use super::{ended_children, from_children, Mailbox};
use crate::thread::definition::{TaskThread, ThreadEnd};
use crate::thread::family::children::ChildRef;
use crate::thread::life::thread_core::ThreadCore;
use crate::thread::mailbox::child_lane::Sender;
use crate::thread::mailbox::overflow::{Overflow, OverflowPolicy, QueueKind};
use crate::thread::mailbox::room::{LaneRoom, Refused};

/// A child's way to its parent's mailbox. Strong, so that a send is one lock and one
/// push, with no reference count to upgrade on the parent's busiest cache line (the
/// mailbox's header, next to its lanes' lock). The cycle it makes with the parent's
/// registry is broken from both sides when the child ends, however it ends: the child
/// leaves the registry (its end, a force, its task dropped by its runtime), and the link
/// is taken when the child tells its parent of its end or its
/// [`Receiver`](crate::thread::mailbox::receiver::Receiver) is dropped.
pub(crate) struct ParentLink<M> {
    pub(crate) inbox: Arc<dyn ChildInbox<M>>,
}

/// The part of a parent's mailbox its children use, whatever the parent's type.
pub(crate) trait ChildInbox<M>: Send + Sync + 'static {
    fn core(&self) -> &Arc<ThreadCore>;
    fn push_child_signal(&self, from: &dyn Sender, signal: M) -> Result<(), Refused<M>>;
    /// Queues a child's end (dropped if the parent's loop has ended: nobody would read it).
    fn push_child_end(&self, child: ChildRef, end: ThreadEnd);
    fn room_for_children(&self) -> &LaneRoom;
    /// The parent's overflow policy, after calling its hook (the queue is full).
    fn overflowed(&self, sender: &str) -> OverflowPolicy;
    /// Counts a child's signal the parent will not handle (handed back to the child).
    fn undelivered(&self);
}
/// A parent takes from its children whatever converts into its child output (`M` is the
/// child's output).
impl<P, M> ChildInbox<M> for Mailbox<P>
where
    P: TaskThread,
    M: Into<P::ChildOutput> + Send + 'static,
{
    fn core(&self) -> &Arc<ThreadCore> {
        &self.core
    }

    fn push_child_signal(&self, from: &dyn Sender, signal: M) -> Result<(), Refused<M>> {
        let capacity = self.core.settings.child_signal_capacity;
        let room = Some(&self.room_from_children);
        self.push(from_children, capacity, room, (from, signal))
            .map_err(|refused| refused.map(|(_, signal)| signal))
    }

    fn push_child_end(&self, child: ChildRef, end: ThreadEnd) {
        let _ = self.push(ended_children, usize::MAX, None, (child, end));
    }

    fn room_for_children(&self) -> &LaneRoom {
        &self.room_from_children
    }

    fn undelivered(&self) {
        self.count_undelivered(1);
    }

    fn overflowed(&self, sender: &str) -> OverflowPolicy {
        P::on_overflow(&Overflow {
            thread: self.core.id(),
            queue: QueueKind::FromChildren,
            capacity: self.core.settings.child_signal_capacity,
            sender: Some(sender),
            rate: self.overflow_log_rate(),
        });
        self.core.settings.overflow
    }
}
