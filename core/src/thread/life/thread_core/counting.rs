//! What a thread counts of its traffic beyond its lanes (whose counts live under their
//! lock, see `mailbox`): what it sends, its children's comings and goings. (Its slots' runs
//! are in the slots, and those of forgotten slots in the core's state.)

use std::sync::atomic::{AtomicU64, Ordering};

use super::ThreadCore;

/// Allocated by the first count, so that an idle thread carries one pointer (a
/// [`OnceBox`](once_cell::race::OnceBox): 8 bytes, where a `OnceLock<Box<_>>` takes 16).
/// Each count is a relaxed add: no order with anything else is promised, a snapshot reads
/// each count as it is at that moment.
#[derive(Default)]
pub(crate) struct ThreadCounts {
    /// Counted under the thread's link to its parent (see `bump_in_turn`).
    pub(crate) sent_to_parent: AtomicU64,
    pub(crate) sent_to_children: AtomicU64,
    pub(crate) children_started: AtomicU64,
    pub(crate) children_ended: AtomicU64,
}

/// The counts as a snapshot reads them.
#[derive(Clone, Copy, Default)]
pub(crate) struct CountsSeen {
    pub(crate) sent_to_parent: u64,
    pub(crate) sent_to_children: u64,
    pub(crate) children_started: u64,
    pub(crate) children_ended: u64,
}

/// Adds one to `count`.
pub(crate) fn bump(count: &AtomicU64) {
    count.fetch_add(1, Ordering::Relaxed);
}

/// Adds one to `count`, whose writers take turns (they all hold one lock as they count): a
/// load and a store, no locked add. Readers read it without that lock, as every count.
#[inline]
pub(crate) fn bump_in_turn(count: &AtomicU64) {
    count.store(count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

impl ThreadCore {
    /// The thread's counts, allocated by the first call.
    #[inline]
    pub(crate) fn counts(&self) -> &ThreadCounts {
        self.counts.get_or_init(Box::default)
    }

    /// The counts as they are now (all zero if nothing was ever counted).
    pub(crate) fn counts_seen(&self) -> CountsSeen {
        let Some(counts) = self.counts.get() else {
            return CountsSeen::default();
        };
        let read = |count: &AtomicU64| count.load(Ordering::Relaxed);
        CountsSeen {
            sent_to_parent: read(&counts.sent_to_parent),
            sent_to_children: read(&counts.sent_to_children),
            children_started: read(&counts.children_started),
            children_ended: read(&counts.children_ended),
        }
    }
}
