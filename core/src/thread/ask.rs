//! Ask and reply: a typed request to a thread, answered at most once, awaited with a
//! deadline ([`ThreadHandle::ask`], [`Reply`], [`AskError`]).
//!
//! A request is an ordinary signal of the thread asked, carrying a [`Reply`]: it queues,
//! overflows and is handed back like any other signal, and the thread answers from
//! `on_signal` or from any of its tasks. What the asker learns when no answer comes is
//! decided where the reply is dropped, not where the asker wakes up: the reply looks at
//! the thread asked at that moment, so a thread that drops a request and then stops reads
//! as "refused", and one that drops it because it is ending reads as "ended", whatever the
//! scheduling of the asker.

use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::{select, Either};

use super::definition::TaskThread;
use super::errors::SendError;
use super::handle::ThreadHandle;
use super::life::thread_core::ThreadCore;
use super::mailbox::room::NotDelivered;
use crate::Spawner;

/// What reaches the asker: the answer, or why none will come.
enum Verdict<R> {
    Answer(R),
    /// Dropped unanswered while the thread asked runs on.
    Refused,
    /// Dropped unanswered because the thread asked is ending or has ended.
    Ended,
}

/// The slot for the answer to one request: the thread asked answers through it with
/// [`send`](Self::send), once.
///
/// Contract:
/// - [`send`](Self::send) delivers the answer to the asker waiting in
///   [`ThreadHandle::ask`], or hands it back if the asker has given up (its deadline ran
///   out, its future was dropped): answering late is harmless;
/// - dropped unanswered, it tells the asker why, as seen at the moment of the drop: if the
///   thread asked is ending or has ended (terminated, stopped, failing, shutting down: a
///   request still queued at the end goes to
///   [`on_undelivered`](super::TaskThread::on_undelivered), which drops it), the asker gets
///   [`AskError::Ended`]; if it runs on, [`AskError::Refused`]. A reply dropped by a panic
///   counts as ended (a panic in a thread's methods or tasks ends the thread);
/// - it may travel: into a task of the thread, or to another thread that answers for it;
///   "ended" and "refused" still speak of the thread that was asked.
///
/// Compared with the `futures` or tokio `oneshot::Sender` it is built on: dropping it
/// unanswered is not just "cancelled" but says whether the thread refused or ended, and
/// only [`ThreadHandle::ask`] makes one.
///
/// ```
/// use task_thread_core::{Flow, LeafThread, Reply, ThreadCx};
///
/// /// What a counter thread is asked (and told: a signal without a reply is fine too).
/// enum Request {
///     Add(u64),
///     Total(Reply<u64>),
///     Describe(Reply<String>),
/// }
///
/// struct Counter {
///     total: u64,
/// }
///
/// impl LeafThread for Counter {
///     type Signal = Request;
///     type Output = ();
///     fn id(&self) -> String { "counter".into() }
///
///     async fn on_signal(&mut self, request: Request, _cx: &ThreadCx<Self>) -> Flow {
///         match request {
///             Request::Add(n) => self.total += n,
///             // An asker that gave up gets nothing; the counter does not mind.
///             Request::Total(reply) => { let _ = reply.send(self.total); }
///             Request::Describe(reply) => {
///                 let _ = reply.send(format!("a counter at {}", self.total));
///             }
///         }
///         Flow::Continue
///     }
/// }
/// ```
pub struct Reply<R> {
    /// Taken by `send`; still here when the reply is dropped unanswered.
    slot: Option<oneshot::Sender<Verdict<R>>>,
    /// The thread asked. Weak: a reply kept somewhere does not keep the thread's core;
    /// gone, the thread has ended.
    thread: Weak<ThreadCore>,
}

impl<R> Reply<R> {
    /// A reply to a request to the thread `thread`, and where its verdict arrives.
    fn to(thread: &Arc<ThreadCore>) -> (Self, oneshot::Receiver<Verdict<R>>) {
        let (slot, verdict) = oneshot::channel();
        let reply = Reply {
            slot: Some(slot),
            thread: Arc::downgrade(thread),
        };
        (reply, verdict)
    }

    /// Answers the request. `Err` hands the answer back when the asker no longer waits
    /// for it (its deadline ran out, or it was dropped).
    ///
    /// ```
    /// use task_thread_core::Reply;
    ///
    /// fn answer(reply: Reply<Vec<u8>>, report: Vec<u8>, archive: &mut Vec<Vec<u8>>) {
    ///     // Nobody waits for it any more: keep it for whoever asks next.
    ///     if let Err(report) = reply.send(report) {
    ///         archive.push(report);
    ///     }
    /// }
    /// ```
    pub fn send(mut self, answer: R) -> Result<(), R> {
        // `send` takes the reply: it is answered once, and the slot is still here.
        let Some(slot) = self.slot.take() else {
            return Err(answer);
        };
        match slot.send(Verdict::Answer(answer)) {
            Ok(()) => Ok(()),
            Err(Verdict::Answer(answer)) => Err(answer),
            // What comes back is what was sent: an answer.
            Err(Verdict::Refused | Verdict::Ended) => Ok(()),
        }
    }

    /// Whether the asker still waits for the answer: false once it has given up. A thread
    /// with a slow answer to work out can skip the work.
    ///
    /// ```
    /// use task_thread_core::Reply;
    ///
    /// fn search(reply: Reply<Option<usize>>, haystack: &[u64], needle: u64) {
    ///     if !reply.is_waiting() {
    ///         return; // the asker gave up: the search would be wasted
    ///     }
    ///     let _ = reply.send(haystack.iter().position(|&x| x == needle));
    /// }
    /// ```
    #[must_use]
    pub fn is_waiting(&self) -> bool {
        self.slot.as_ref().is_some_and(|slot| !slot.is_canceled())
    }

    /// Whether the thread asked is ending or has ended, or the reply is dropped by a panic.
    fn thread_is_ending(&self) -> bool {
        std::thread::panicking() || self.thread.upgrade().is_none_or(|core| core.is_ending())
    }
}

impl<R> Drop for Reply<R> {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else {
            return;
        };
        if slot.is_canceled() {
            return; // nobody to tell
        }
        let verdict = if self.thread_is_ending() {
            Verdict::Ended
        } else {
            Verdict::Refused
        };
        let _ = slot.send(verdict);
    }
}

impl<R> fmt::Debug for Reply<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("waiting", &self.is_waiting())
            .finish()
    }
}

/// Why [`ThreadHandle::ask`] has no answer. A request that never reached the thread is
/// handed back ([`into_request`](Self::into_request)).
///
/// ```
/// use std::time::Duration;
/// use task_thread_core::{AskError, LeafThread, Reply, ThreadHandle};
///
/// # struct Cache;
/// # impl LeafThread for Cache {
/// #     type Signal = Lookup;
/// #     type Output = ();
/// #     fn id(&self) -> String { "cache".into() }
/// # }
/// struct Lookup {
///     key: String,
///     reply: Reply<Option<String>>,
/// }
///
/// /// The cached value, `None` if there is none; the key back if asking again may help.
/// async fn cached(cache: &ThreadHandle<Cache>, key: String) -> Result<Option<String>, String> {
///     let asked = cache.ask(|reply| Lookup { key, reply }, Duration::from_millis(200)).await;
///     match asked {
///         Ok(value) => Ok(value),
///         // Busy: not delivered (a full queue), or slow. Worth another try.
///         Err(AskError::NotDelivered(error)) => Err(error.into_signal().key),
///         Err(AskError::TimedOut { undelivered: Some(lookup), .. }) => Err(lookup.key),
///         // The cache is gone or will not say: no value.
///         Err(error) => {
///             tracing::debug!("cache: {error}");
///             Ok(None)
///         }
///     }
/// }
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AskError<S> {
    /// The request never reached the thread: it had ended, or its queue was full under
    /// [`OverflowPolicy::Reject`](super::OverflowPolicy::Reject). The request is in the
    /// [`SendError`].
    NotDelivered(SendError<S>),
    /// The thread ended before answering: the request was still queued when it ended, or
    /// being handled, or held by one of its tasks, or the thread failed while holding it.
    Ended,
    /// The thread dropped the request without answering, and runs on.
    Refused,
    /// The deadline ran out. If it ran out while the request waited for room in the
    /// thread's queue (under [`OverflowPolicy::Wait`](super::OverflowPolicy::Wait)), the
    /// request never reached the thread and is in `undelivered`; otherwise the thread
    /// has it, and may still answer (the answer is then handed back to it).
    TimedOut {
        /// The deadline given.
        after: Duration,
        /// The request, if it never reached the thread.
        undelivered: Option<S>,
    },
}

impl<S> AskError<S> {
    /// The request, if it never reached the thread.
    ///
    /// ```
    /// use std::time::Duration;
    /// use task_thread_core::{AskError, LeafThread, Reply, ThreadHandle};
    ///
    /// # struct Worker;
    /// # impl LeafThread for Worker {
    /// #     type Signal = Job;
    /// #     type Output = ();
    /// #     fn id(&self) -> String { "worker".into() }
    /// # }
    /// struct Job {
    ///     input: Vec<u8>,
    ///     done: Reply<usize>,
    /// }
    ///
    /// /// Runs `input` on the first worker that takes it.
    /// async fn run(workers: &[ThreadHandle<Worker>], mut input: Vec<u8>) -> Option<usize> {
    ///     for worker in workers {
    ///         let asked = worker.ask(|done| Job { input, done }, Duration::from_secs(1)).await;
    ///         match asked {
    ///             Ok(size) => return Some(size),
    ///             // Not taken: the input is back, for the next worker.
    ///             Err(error) => input = error.into_request()?.input,
    ///         }
    ///     }
    ///     None
    /// }
    /// ```
    pub fn into_request(self) -> Option<S> {
        match self {
            AskError::NotDelivered(error) => Some(error.into_signal()),
            AskError::TimedOut { undelivered, .. } => undelivered,
            AskError::Ended | AskError::Refused => None,
        }
    }
}

impl<S> fmt::Display for AskError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AskError::NotDelivered(error) => write!(f, "the request was not delivered: {error}"),
            AskError::Ended => f.write_str("the thread ended before answering the request"),
            AskError::Refused => f.write_str("the thread dropped the request without answering"),
            AskError::TimedOut {
                after,
                undelivered: Some(_),
            } => write!(
                f,
                "no room in the thread's queue within {after:?}; the request is handed back"
            ),
            AskError::TimedOut {
                after,
                undelivered: None,
            } => write!(f, "no answer within {after:?}"),
        }
    }
}

impl<S> fmt::Debug for AskError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AskError::NotDelivered(error) => write!(f, "AskError::NotDelivered({error:?})"),
            AskError::Ended => f.write_str("AskError::Ended"),
            AskError::Refused => f.write_str("AskError::Refused"),
            AskError::TimedOut { after, undelivered } => {
                let undelivered = if undelivered.is_some() {
                    "Some(..)"
                } else {
                    "None"
                };
                write!(
                    f,
                    "AskError::TimedOut {{ after: {after:?}, undelivered: {undelivered} }}"
                )
            }
        }
    }
}

impl<S> std::error::Error for AskError<S> {}

impl<T: TaskThread> ThreadHandle<T> {
    /// Asks the thread and waits for its typed answer, at most `within` (the peers'
    /// `ask` in kameo, `call` in ractor). `request` makes the signal that carries the
    /// [`Reply`]; it is sent like any signal (the thread's overflow hook and policy apply),
    /// and the thread answers through the reply, from its handler or a task.
    ///
    /// The deadline covers both the wait for room in a full queue (under the wait policy)
    /// and the wait for the answer. No answer is an [`AskError`]: not delivered (the
    /// request handed back), the thread ended, it refused (dropped the reply and runs on),
    /// or timed out (the request handed back if it never reached the thread).
    ///
    /// Anyone holding the handle may ask, as anyone may [`send`](Self::send). A thread asks
    /// its child through the child's handle, from
    /// [`find_child_of`](super::ThreadCx::find_child_of) or
    /// [`children_of`](super::ThreadCx::children_of). While a handler awaits an answer its
    /// signal loop takes nothing else: a child that must send up (under the wait policy)
    /// before it answers would wait for its parent, and the parent for it, until the
    /// deadline; ask from a task of the parent when that can happen.
    ///
    /// ```
    /// use std::time::Duration;
    /// use task_thread_core::{Flow, LeafThread, Reply, ThreadCx};
    ///
    /// struct Sensor;
    ///
    /// impl LeafThread for Sensor {
    ///     type Signal = Reply<f64>; // its only request: the reading
    ///     type Output = ();
    ///     fn id(&self) -> String { "sensor".into() }
    ///
    ///     async fn on_signal(&mut self, reply: Reply<f64>, _cx: &ThreadCx<Self>) -> Flow {
    ///         let _ = reply.send(21.5);
    ///         Flow::Continue
    ///     }
    /// }
    ///
    /// struct Station;
    ///
    /// impl LeafThread for Station {
    ///     type Signal = (); // "take a reading"
    ///     type Output = ();
    ///     fn id(&self) -> String { "station".into() }
    ///
    ///     async fn on_signal(&mut self, _: (), cx: &ThreadCx<Self>) -> Flow {
    ///         let Some(sensor) = cx.find_child_of::<Sensor>("sensor") else {
    ///             return Flow::Continue;
    ///         };
    ///         match sensor.ask(|reply| reply, Duration::from_secs(1)).await {
    ///             Ok(degrees) => tracing::info!("{degrees} degrees"),
    ///             Err(error) => tracing::warn!("no reading: {error}"),
    ///         }
    ///         Flow::Continue
    ///     }
    /// }
    /// ```
    pub async fn ask<R: Send + 'static>(
        &self,
        request: impl FnOnce(Reply<R>) -> T::Signal,
        within: Duration,
    ) -> Result<R, AskError<T::Signal>> {
        let (reply, verdict) = Reply::to(&self.core);
        let mut deadline = self.runtime().sleep(within);
        let sent = self
            .mailbox
            .send_unless(request(reply), &mut deadline)
            .await;
        match sent {
            Ok(()) => {}
            Err(NotDelivered::Refused(error)) => return Err(AskError::NotDelivered(error)),
            Err(NotDelivered::GaveUp(request, ())) => {
                return Err(AskError::TimedOut {
                    after: within,
                    undelivered: Some(request),
                })
            }
        }
        match select(verdict, deadline).await {
            Either::Left((Ok(Verdict::Answer(answer)), _)) => Ok(answer),
            Either::Left((Ok(Verdict::Refused), _)) => Err(AskError::Refused),
            // A reply sends its verdict when it is dropped, so `Canceled` does not come; if
            // it did, the reply would be gone without a word, as with a thread torn down.
            Either::Left((Ok(Verdict::Ended) | Err(oneshot::Canceled), _)) => Err(AskError::Ended),
            Either::Right(((), _)) => Err(AskError::TimedOut {
                after: within,
                undelivered: None,
            }),
        }
    }
}
