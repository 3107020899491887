//! What a thread's lanes count (taken, refused, full) and how a snapshot reads them: under
//! the lock every push takes anyway, in the lanes' own storage, so that the busy path pays
//! no atomic and an idle thread nothing.

use super::{Mailbox, TaskThread};
use crate::group::lock;

/// What a thread's lanes have taken and refused since it started (see
/// [`Counters`](crate::Counters)).
#[derive(Clone, Copy, Default)]
pub(crate) struct LaneCounts {
    pub(crate) received: u64,
    pub(crate) received_from_children: u64,
    pub(crate) overflows: u64,
    pub(crate) undelivered: u64,
}

/// A thread's lanes as a snapshot sees them: how full each bounded one is, and its counts.
pub(crate) struct LanesSeen {
    pub(crate) from_parent: usize,
    pub(crate) from_children: usize,
    pub(crate) counts: LaneCounts,
}

impl<T: TaskThread> Mailbox<T> {
    /// Counts `n` signals for this thread that it will not handle (handed back to their
    /// senders, or to its undelivered hooks). A rare path: it takes the lock again.
    pub(crate) fn count_undelivered(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut lanes = lock(&self.lanes);
        let queued = lanes.queued.get_or_insert_with(Box::default);
        queued.counts.undelivered += n as u64;
    }

    /// The lanes as a snapshot sees them, read under their lock.
    pub(crate) fn seen(&self) -> LanesSeen {
        let lanes = lock(&self.lanes);
        let (from_parent, from_children, counts) = match &lanes.queued {
            Some(queued) => (
                queued.from_parent.len(),
                queued.from_children.signals.len(),
                queued.counts,
            ),
            None => (0, 0, LaneCounts::default()),
        };
        // Read under the lock: what the loop takes into its hand moves under it.
        LanesSeen {
            from_parent: from_parent + self.room_from_parent.in_hand(),
            from_children: from_children + self.room_from_children.in_hand(),
            counts,
        }
    }
}
