//! A signal's way into a thread's mailbox from its parent (or any holder of its handle):
//! one push into the parent's lane, and when the lane is full, the thread's overflow hook
//! and policy and the wait for room.

use std::convert::Infallible;
use std::future::Future;

use super::{from_parent, Mailbox};
use crate::thread::definition::TaskThread;
use crate::thread::errors::SendError;
use crate::thread::mailbox::overflow::{Overflow, QueueKind};
use crate::thread::mailbox::room::{wait_for_room, NotDelivered, Refused};

impl<T: TaskThread> Mailbox<T> {
    /// Sends a signal from the parent (or any holder of a handle): the thread's overflow
    /// hook and policy apply when the lane is full.
    pub(crate) async fn send(&self, signal: T::Signal) -> Result<(), SendError<T::Signal>> {
        match self.push_from_parent(signal) {
            Ok(()) => Ok(()),
            Err(first) => {
                let never = std::future::pending::<Infallible>();
                let sent = self.wait_for_room(first, never).await;
                sent.map_err(|refused| {
                    self.count_undelivered(1);
                    refused.refused()
                })
            }
        }
    }

    /// [`send`](Self::send), giving up if `give_up` completes while waiting for room (see
    /// [`wait_for_room`]).
    pub(crate) async fn send_unless<G: Future>(
        &self,
        signal: T::Signal,
        give_up: G,
    ) -> Result<(), NotDelivered<T::Signal, G::Output>> {
        match self.push_from_parent(signal) {
            Ok(()) => Ok(()),
            Err(first) => {
                let sent = self.wait_for_room(first, give_up).await;
                sent.inspect_err(|_| self.count_undelivered(1))
            }
        }
    }

    /// One push into the parent's lane.
    fn push_from_parent(&self, signal: T::Signal) -> Result<(), Refused<T::Signal>> {
        let capacity = self.core.settings.signal_capacity;
        self.push(from_parent, capacity, Some(&self.room_from_parent), signal)
    }

    /// The parent's lane refused `first`: its hook and policy, and the wait for room.
    async fn wait_for_room<G: Future>(
        &self,
        first: Refused<T::Signal>,
        give_up: G,
    ) -> Result<(), NotDelivered<T::Signal, G::Output>> {
        let capacity = self.core.settings.signal_capacity;
        let on_full = || {
            T::on_overflow(&Overflow {
                thread: self.core.id(),
                queue: QueueKind::FromParent,
                capacity,
                sender: None,
                rate: self.overflow_log_rate(),
            });
            self.core.settings.overflow
        };
        let push = |signal| self.push_from_parent(signal);
        wait_for_room(push, &self.room_from_parent, on_full, first, give_up).await
    }
}
