//! The receiving ends of a thread's queues, as its signal loop takes from them.

use std::pin::Pin;
use std::task::Poll;

use futures::Stream;

use super::children::ChildRef;
use super::core::Control;
use super::definition::{TaskThread, ThreadEnd};
use super::handle::ChildNotice;

/// A receiving end, boxed: an `async_channel::Receiver` must be pinned to be polled.
pub(crate) type Inbox<M> = Pin<Box<async_channel::Receiver<M>>>;

/// What the loop waits for.
pub(crate) enum Event<T: TaskThread> {
    Control(Control),
    Signal(T::Signal),
    ChildSignal(ChildRef, T::ChildOutput),
    ChildEnded(ChildRef, ThreadEnd),
}

/// Signals still queued at a thread's end: from the parent, and from children (with the
/// sender's id).
pub(crate) type Undelivered<T> = (
    Vec<<T as TaskThread>::Signal>,
    Vec<(String, <T as TaskThread>::ChildOutput)>,
);

/// The loop's receiving ends.
pub(crate) struct Queues<T: TaskThread> {
    pub(crate) control: Inbox<Control>,
    pub(crate) signals: Inbox<T::Signal>,
    /// Made by the first `add_child` (announced on `child_notices`).
    pub(crate) child_signals: Option<Inbox<(ChildRef, T::ChildOutput)>>,
    pub(crate) child_notices: Inbox<ChildNotice<T::ChildOutput>>,
}

impl<T: TaskThread> Queues<T> {
    /// The next event, in this order when several are ready: control (so a terminate
    /// overtakes queued signals), the parent's signals, the children's signals, and only
    /// then the children's ends (so a child's last signals come before its end).
    pub(crate) async fn next(&mut self) -> Event<T> {
        if let Some(event) = self.try_next() {
            return event;
        }
        futures::future::poll_fn(|cx| loop {
            if let Poll::Ready(Some(control)) = self.control.as_mut().poll_next(cx) {
                return Poll::Ready(Event::Control(control));
            }
            if let Poll::Ready(Some(signal)) = self.signals.as_mut().poll_next(cx) {
                return Poll::Ready(Event::Signal(signal));
            }
            if let Some(child_signals) = self.child_signals.as_mut() {
                if let Poll::Ready(Some((child, signal))) = child_signals.as_mut().poll_next(cx) {
                    return Poll::Ready(Event::ChildSignal(child, signal));
                }
            }
            match self.child_notices.as_mut().poll_next(cx) {
                Poll::Ready(Some(ChildNotice::Ended(child, end))) => {
                    return Poll::Ready(Event::ChildEnded(child, end))
                }
                // The new queue is polled (and its waker registered) on the next turn.
                Poll::Ready(Some(ChildNotice::QueueOpened(queue))) => {
                    self.child_signals = Some(Box::pin(queue));
                }
                _ => return Poll::Pending,
            }
        })
        .await
    }

    /// The next event if one is queued already, in the same order as [`next`](Self::next).
    /// The busy path: taking a queued signal this way costs no waker registration.
    fn try_next(&mut self) -> Option<Event<T>> {
        if let Ok(control) = self.control.try_recv() {
            return Some(Event::Control(control));
        }
        if let Ok(signal) = self.signals.try_recv() {
            return Some(Event::Signal(signal));
        }
        if let Some(Ok((child, signal))) = self.child_signals.as_ref().map(|q| q.try_recv()) {
            return Some(Event::ChildSignal(child, signal));
        }
        match self.child_notices.try_recv() {
            Ok(ChildNotice::Ended(child, end)) => Some(Event::ChildEnded(child, end)),
            // Not taken here: `next` adopts the queue and polls it.
            Ok(ChildNotice::QueueOpened(queue)) => {
                self.child_signals = Some(Box::pin(queue));
                self.try_next()
            }
            Err(_) => None,
        }
    }

    /// Closes the queues from the parent and from the children (their senders get their
    /// signals back from now on) and returns what was still queued.
    pub(crate) fn close_and_drain(&mut self) -> Undelivered<T> {
        // A queue of child signals may have been made and not yet adopted.
        while let Ok(notice) = self.child_notices.try_recv() {
            if let ChildNotice::QueueOpened(queue) = notice {
                self.child_signals = Some(Box::pin(queue));
            }
        }
        self.signals.close();
        let signals = std::iter::from_fn(|| self.signals.try_recv().ok()).collect();
        let from_children = match &self.child_signals {
            Some(queue) => {
                queue.close();
                std::iter::from_fn(|| queue.try_recv().ok())
                    .map(|(child, signal)| (child.id().to_owned(), signal))
                    .collect()
            }
            None => Vec::new(),
        };
        (signals, from_children)
    }
}

impl<T: TaskThread> Drop for Queues<T> {
    /// Reached with signals still queued only when the loop was cancelled (its thread was
    /// forced): no hook can run then, so they are counted in the log. Draining also frees
    /// the children's signals, which hold their senders' handles.
    fn drop(&mut self) {
        let (signals, from_children) = self.close_and_drain();
        if !signals.is_empty() || !from_children.is_empty() {
            tracing::warn!(
                from_parent = signals.len(),
                from_children = from_children.len(),
                "signals undelivered: the thread was forced to end"
            );
        }
    }
}
