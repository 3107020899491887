//! A model of event-listener's `Event` for loom, with the semantics core relies on:
//! - a listener is registered when it is made (`listen`), before it is polled, so a
//!   notification after `listen` reaches it even if it has not been polled yet;
//! - `notify(n)` marks up to `n` registered listeners notified, `notify_additional(n)`
//!   up to `n` more that were not (both in registration order), and wakes them;
//! - a notified listener completes; one dropped after it was notified, without having
//!   completed, passes its notification on to the next listener not notified (as
//!   event-listener 5 does), so no notification is lost with a listener given up;
//! - the list is made on the first `listen`, published with an atomic swap (an `AtomicPtr`
//!   in event-listener); `total_listeners` reads that without a lock (no list: none), then
//!   the count under the list's lock;
//! - `notify` and `notify_additional` begin with a `SeqCst` fence, as event-listener's do
//!   for a plain count (not `relaxed()`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use std::sync::atomic::Ordering::{AcqRel, Acquire, SeqCst};

use loom::sync::atomic::{fence, AtomicBool};
use loom::sync::{Arc, Mutex};

#[derive(Default)]
struct Entry {
    notified: bool,
    waker: Option<Waker>,
}

#[derive(Default)]
struct List {
    entries: Vec<(usize, Arc<Mutex<Entry>>)>,
    next_key: usize,
}

impl List {
    /// Marks up to `n` more listeners notified, first registered first; returns their
    /// wakers, to be woken outside the lock.
    fn notify_more(&mut self, mut n: usize) -> Vec<Waker> {
        let mut wakers = Vec::new();
        for (_, entry) in &self.entries {
            if n == 0 {
                break;
            }
            let mut entry = entry.lock().unwrap();
            if !entry.notified {
                entry.notified = true;
                n -= 1;
                wakers.extend(entry.waker.take());
            }
        }
        wakers
    }
}

/// See the module's docs.
pub(crate) struct Event {
    list: Arc<Mutex<List>>,
    /// Whether the list has been made (see the module's docs).
    made: AtomicBool,
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl Event {
    pub(crate) fn new() -> Self {
        Event {
            list: Arc::default(),
            made: AtomicBool::new(false),
        }
    }

    pub(crate) fn listen(&self) -> EventListener {
        let _ = self.made.compare_exchange(false, true, AcqRel, Acquire);
        let entry = Arc::new(Mutex::new(Entry::default()));
        let mut list = self.list.lock().unwrap();
        let key = list.next_key;
        list.next_key += 1;
        list.entries.push((key, entry.clone()));
        EventListener {
            list: self.list.clone(),
            key,
            entry,
            done: false,
        }
    }

    pub(crate) fn notify(&self, n: usize) -> usize {
        fence(SeqCst);
        if !self.made.load(Acquire) {
            return 0;
        }
        let wakers = {
            let mut list = self.list.lock().unwrap();
            let already = list
                .entries
                .iter()
                .filter(|(_, entry)| entry.lock().unwrap().notified)
                .count();
            list.notify_more(n.saturating_sub(already))
        };
        let woken = wakers.len();
        wakers.into_iter().for_each(Waker::wake);
        woken
    }

    pub(crate) fn notify_additional(&self, n: usize) -> usize {
        fence(SeqCst);
        if !self.made.load(Acquire) {
            return 0;
        }
        let wakers = self.list.lock().unwrap().notify_more(n);
        let woken = wakers.len();
        wakers.into_iter().for_each(Waker::wake);
        woken
    }

    pub(crate) fn total_listeners(&self) -> usize {
        if !self.made.load(Acquire) {
            return 0;
        }
        self.list.lock().unwrap().entries.len()
    }
}

/// See the module's docs.
pub(crate) struct EventListener {
    list: Arc<Mutex<List>>,
    key: usize,
    entry: Arc<Mutex<Entry>>,
    done: bool,
}

impl EventListener {
    /// Leaves the list; true if it had been notified.
    fn leave(&mut self) -> bool {
        let mut list = self.list.lock().unwrap();
        list.entries.retain(|(key, _)| *key != self.key);
        let notified = self.entry.lock().unwrap().notified;
        drop(list);
        notified
    }
}

impl Future for EventListener {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        {
            let mut entry = self.entry.lock().unwrap();
            if !entry.notified {
                entry.waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
        }
        self.done = true;
        self.leave();
        Poll::Ready(())
    }
}

impl Drop for EventListener {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if self.leave() {
            // Notified but given up: the notification goes to the next listener.
            let wakers = self.list.lock().unwrap().notify_more(1);
            wakers.into_iter().for_each(Waker::wake);
        }
    }
}
