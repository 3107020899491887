//! The lane of a parent's mailbox that holds its children's signals, each sender named
//! once per run of its signals.
//!
//! Every signal from a child comes with the child (the parent's handler gets a
//! [`ChildRef`] to it). Cloning that reference for each signal, on the child's core, and
//! dropping it after the handler, on the parent's, moves the child's reference count
//! between the two cores twice per signal. Instead a signal names its sender only when the
//! one queued before it came from another child (or none is queued); the loop keeps the
//! last sender it met and resolves the rest. A busy child then touches no reference count
//! while the parent lags behind it, which is when its signals queue up.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::thread::definition::TaskThread;
use crate::thread::family::children::ChildRef;
use crate::thread::mailbox::Mailbox;

/// A child's signal as queued: its sender, or `None` for the same sender as the signal
/// queued just before it.
pub(crate) type FromChild<M> = (Option<ChildRef>, M);

/// A lane of a mailbox, as the generic push sees it: its length, and a push of an item of
/// type `S` (which a lane may store in its own form).
pub(crate) trait Lane<S> {
    fn len(&self) -> usize;
    fn push_back(&mut self, item: S);
}

impl<S> Lane<S> for VecDeque<S> {
    fn len(&self) -> usize {
        VecDeque::len(self)
    }

    fn push_back(&mut self, item: S) {
        VecDeque::push_back(self, item);
    }
}

/// A child queueing a signal, as its parent's lane sees it: who it is, and a reference to
/// it when the signal must name it (made then, not for every signal).
pub(crate) trait Sender {
    /// Compared, never followed.
    fn address(&self) -> usize;
    fn child_ref(&self) -> ChildRef;
}

impl<C: TaskThread> Sender for Arc<Mailbox<C>> {
    fn address(&self) -> usize {
        Arc::as_ptr(self) as *const () as usize
    }

    fn child_ref(&self) -> ChildRef {
        ChildRef {
            child: self.clone(),
        }
    }
}

/// The children's signals of a mailbox, with the sender of the last one queued.
pub(crate) struct ChildLane<M> {
    pub(crate) signals: VecDeque<FromChild<M>>,
    /// The address of the last sender's mailbox: compared, never followed.
    last_sender: usize,
}

impl<M> Default for ChildLane<M> {
    fn default() -> Self {
        ChildLane {
            signals: VecDeque::new(),
            last_sender: 0,
        }
    }
}

/// A child's output is queued as its parent's child output: converted (by its `From`) as it
/// is pushed, once its room is known, so that a refused signal goes back to the child as
/// the child sent it.
impl<'a, M, N: Into<M>> Lane<(&'a dyn Sender, N)> for ChildLane<M> {
    fn len(&self) -> usize {
        self.signals.len()
    }

    #[inline]
    fn push_back(&mut self, (sender, signal): (&'a dyn Sender, N)) {
        // First: a conversion that panics leaves the lane as it was.
        let signal = signal.into();
        let address = sender.address();
        // Named if the lane is empty: what was queued before has been taken, and the
        // loop's last sender may be another child's by the time it takes this one.
        // The address is compared only while the lane holds the run of signals it names:
        // that sender is alive then (its first signal, or the loop's `LastSender`, holds
        // it), so no other child can have been given its address.
        let named = (self.signals.is_empty() || self.last_sender != address).then(|| {
            self.last_sender = address;
            sender.child_ref()
        });
        self.signals.push_back((named, signal));
    }
}

/// The loop's side: the sender of the child signal it took last, which the next ones
/// refer to until one names another.
#[derive(Default)]
pub(crate) struct LastSender(Option<ChildRef>);

impl LastSender {
    /// Takes `entry` in queue order; its signal's sender is then [`get`](Self::get).
    #[inline]
    pub(crate) fn take<M>(&mut self, (sender, signal): FromChild<M>) -> M {
        if let Some(sender) = sender {
            self.0 = Some(sender);
        }
        signal
    }

    /// The sender of the signal taken last.
    #[inline]
    pub(crate) fn get(&self) -> &ChildRef {
        self.0
            .as_ref()
            .expect("a lane names the sender of the first signal queued in it")
    }

    /// The id of the sender of the signal taken last, for the undelivered hook. Never
    /// panics (it also runs when a dropped loop drains its mailbox): a signal with no
    /// known sender, which the lanes' rules exclude, is logged and named `?`.
    pub(crate) fn id(&self) -> String {
        match &self.0 {
            Some(sender) => sender.id().to_owned(),
            None => {
                tracing::error!("a child signal with no known sender (a bug of task-thread)");
                "?".to_owned()
            }
        }
    }

    /// Lets go of the sender: the loop has taken a child's end, so every signal queued
    /// has been handled and the next one taken names its sender.
    pub(crate) fn forget(&mut self) {
        self.0 = None;
    }
}
