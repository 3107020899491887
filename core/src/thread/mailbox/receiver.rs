//! The loop's side of a thread's mailbox: [`Receiver`] takes the events, keeps the signals
//! it has taken from the lanes in a batch and not handled yet, and drains the mailbox at
//! the end.

use std::sync::Arc;
use std::task::Poll;

use crate::group::lock;
use crate::thread::definition::TaskThread;
use crate::thread::family::children::ChildRef;
use crate::thread::mailbox::{Event, InHand, Mailbox, Undelivered};

/// The loop's side of a thread's mailbox: it takes the events, holds what it has taken
/// and not handled, and drains the mailbox at the end. If the loop is dropped before its
/// shutdown drained the mailbox (its life panicked outside every user method: even a
/// forced loop drains it first), what is left is counted in the log and released, so the
/// children's signals do not keep their senders alive.
pub(crate) struct Receiver<T: TaskThread> {
    mailbox: Arc<Mailbox<T>>,
    /// Boxed on the first batch or the first child signal taken: an idle thread that has
    /// never had one holds nothing in hand.
    hand: Option<Box<InHand<T>>>,
}

impl<T: TaskThread> Receiver<T> {
    pub(crate) fn new(mailbox: Arc<Mailbox<T>>) -> Self {
        Receiver {
            mailbox,
            hand: None,
        }
    }

    /// Waits for the next event (see [`Mailbox::try_next`]). The busy path takes a queued
    /// event without registering a waker.
    pub(crate) async fn next(&mut self) -> Event<T> {
        let Receiver { mailbox, hand } = self;
        futures::future::poll_fn(|cx| {
            if let Some(event) = mailbox.try_next(hand) {
                return Poll::Ready(event);
            }
            mailbox.core.register_loop(cx.waker());
            match mailbox.try_next(hand) {
                Some(event) => Poll::Ready(event),
                None => Poll::Pending,
            }
        })
        .await
    }

    /// The sender of the child signal taken last.
    pub(crate) fn sender(&self) -> &ChildRef {
        let held = self.hand.as_ref();
        held.expect("a child signal is taken into the hand")
            .sender
            .get()
    }

    /// Closes the mailbox and returns what was not handled (see
    /// [`Mailbox::close_and_drain`]). Idempotent.
    pub(crate) fn close_and_drain(&mut self) -> Undelivered<T> {
        self.mailbox.close_and_drain(&mut self.hand)
    }
}

impl<T: TaskThread> Drop for Receiver<T> {
    fn drop(&mut self) {
        // The loop is gone, however it ended: the child lets go of its parent's mailbox
        // (already taken if the child told its parent of its end; see `ParentLink`).
        let link = lock(&self.mailbox.parent).take();
        drop(link);
        let (signals, from_children) = self.close_and_drain();
        if !signals.is_empty() || !from_children.is_empty() {
            tracing::warn!(
                thread = %self.mailbox.core.id(),
                from_parent = signals.len(),
                from_children = from_children.len(),
                "signals undelivered: the thread's life ended before it could hand them to its hooks"
            );
        }
    }
}
