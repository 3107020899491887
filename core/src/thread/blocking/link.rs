//! [`BlockingLink`]: the blocking side's end of a [`Blocking`](super::Blocking) thread, and
//! the state both sides share.
//!
//! One mutex holds the state; the blocking side waits on a condition variable, the async
//! side on an event, and every change wakes both. The thread's `on_signal` hands a signal
//! over and waits while [`HAND_OVER`] are waiting to be taken: the thread's own queue, with
//! its capacity and overflow policy, stays the queue that fills, and the blocking side
//! takes several signals per wake-up. An output goes one at a time:
//! `send` waits until the thread has put it into its parent's queue, or hands it back.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use event_listener::Event;

use super::errors::{OutputLost, RecvTimeout};
use crate::thread::errors::SendError;

/// The blocking side's end of a [`Blocking`](super::Blocking) thread: the signals its parent
/// sends, the outputs it sends up, and whether the thread is ending. Its methods block the
/// calling OS thread; call them from [`BlockingThread::run`](super::BlockingThread::run),
/// never from async code.
///
/// Compared with a `std::sync::mpsc` pair: `recv` also ends when the thread is terminated
/// (the signals still queued then go to the thread's undelivered hook, as they do for an
/// async thread), and `send` returns only once the parent's queue has the output, with the
/// parent's overflow policy applied, so an output is never lost between the two.
///
/// ```
/// use task_thread_core::{BlockingLink, BoxError};
///
/// // Squares numbers until the thread is terminated.
/// fn serve(link: &BlockingLink<u64, u64>) -> Result<(), BoxError> {
///     while let Some(n) = link.recv() {
///         link.send(n * n)?;
///     }
///     Ok(())
/// }
/// ```
pub struct BlockingLink<S, O> {
    pub(super) shared: Arc<Shared<S, O>>,
}

/// How many signals may wait in the link, handed over and not yet taken, before the
/// thread's `on_signal` waits: enough for the blocking side to take several per wake-up.
pub(super) const HAND_OVER: usize = 16;

/// What both sides of a blocking thread see.
pub(super) struct Shared<S, O> {
    state: Mutex<State<S, O>>,
    /// The blocking side waits here.
    blocking_side: Condvar,
    /// The async side waits here.
    async_side: Event,
}

/// The state of the link; every change is followed by [`Shared::changed`].
struct State<S, O> {
    /// Signals handed over by the thread, not yet taken by `recv` (at most one, but for
    /// those left when the thread ends).
    signals: VecDeque<S>,
    /// The output on its way to the parent.
    output: Handoff<O>,
    /// The thread is ending: `recv` returns `None`, `is_stopping` is true.
    stopping: bool,
    /// The thread's value has been dropped: nobody forwards outputs any more.
    thread_gone: bool,
    /// The handler's `run` has returned (or unwound).
    run_returned: bool,
    /// What the handler asked to run if the thread is abandoned while `run` runs
    /// ([`BlockingLink::on_abandon`]); emptied when `run` returns.
    on_abandon: Vec<Box<dyn FnOnce() + Send>>,
}

/// An output between `send` and the parent's queue.
enum Handoff<O> {
    /// No output on its way.
    Idle,
    /// Waiting for the thread to take it.
    Offered(O),
    /// The thread is putting it into its parent's queue.
    Sending,
    /// The parent's queue has it.
    Delivered,
    /// The parent's queue refused it: back to `send`.
    Refused(SendError<O>),
    /// The thread's shutdown cancelled its sending.
    Dropped,
}

impl<S, O> Shared<S, O> {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Shared {
            state: Mutex::new(State {
                signals: VecDeque::new(),
                output: Handoff::Idle,
                stopping: false,
                thread_gone: false,
                run_returned: false,
                on_abandon: Vec::new(),
            }),
            blocking_side: Condvar::new(),
            async_side: Event::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<S, O>> {
        // The state stays consistent through a panic: every change is one assignment.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Wakes both sides after a change of the state.
    fn changed(&self) {
        self.blocking_side.notify_all();
        self.async_side.notify(usize::MAX);
    }

    /// Waits, on the async side, until `ready` gives a value.
    async fn wait_async<T>(&self, mut ready: impl FnMut(&mut State<S, O>) -> Option<T>) -> T {
        loop {
            if let Some(value) = ready(&mut self.lock()) {
                return value;
            }
            // Listening, then looking again: a change between the two is not missed.
            let listener = self.async_side.listen();
            if let Some(value) = ready(&mut self.lock()) {
                return value;
            }
            listener.await;
        }
    }

    /// Waits, on the blocking side, until `ready` gives a value or `deadline` passes.
    fn wait_blocking<T>(
        &self,
        deadline: Option<Instant>,
        mut ready: impl FnMut(&mut State<S, O>) -> Option<T>,
    ) -> Option<T> {
        let mut state = self.lock();
        loop {
            if let Some(value) = ready(&mut state) {
                return Some(value);
            }
            state = match deadline {
                None => self
                    .blocking_side
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.checked_duration_since(Instant::now())?;
                    self.blocking_side
                        .wait_timeout(state, left)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0
                }
            };
        }
    }

    /// Hands `signal` to the blocking side, to be taken by its `recv`.
    pub(super) fn offer(&self, signal: S) {
        self.lock().signals.push_back(signal);
        self.changed();
    }

    /// Waits until the signals offered are taken, or the thread is ending (those left are
    /// then for [`take_signals`](Self::take_signals)).
    pub(super) async fn taken(&self) {
        self.wait_async(|state| (state.signals.len() < HAND_OVER || state.stopping).then_some(()))
            .await;
    }

    /// The signals handed over and never taken.
    pub(super) fn take_signals(&self) -> Vec<S> {
        self.lock().signals.drain(..).collect()
    }

    /// Tells the blocking side that the thread is ending.
    pub(super) fn stop(&self) {
        self.lock().stopping = true;
        self.changed();
    }

    /// Whether the thread is ending.
    pub(super) fn is_stopping(&self) -> bool {
        self.lock().stopping
    }

    /// The handler's `run` has returned: it takes no more signals.
    pub(super) fn run_returned(&self) {
        let mut state = self.lock();
        state.run_returned = true;
        state.stopping = true;
        // What they would release is released by now (a process reaped, whose id may be
        // another's soon): never run.
        let releases = std::mem::take(&mut state.on_abandon);
        drop(state);
        self.changed();
        drop(releases);
    }

    /// Whether the handler's `run` has returned.
    pub(super) fn has_run_returned(&self) -> bool {
        self.lock().run_returned
    }

    /// Waits for the next output the blocking side sends, and marks it as being sent.
    pub(super) async fn next_output(&self) -> O {
        self.wait_async(
            |state| match std::mem::replace(&mut state.output, Handoff::Sending) {
                Handoff::Offered(output) => Some(output),
                other => {
                    state.output = other;
                    None
                }
            },
        )
        .await
    }

    /// Tells the blocking side what became of the output it sent.
    pub(super) fn output_sent(&self, result: Result<(), SendError<O>>) {
        self.lock().output = match result {
            Ok(()) => Handoff::Delivered,
            Err(refused) => Handoff::Refused(refused),
        };
        self.changed();
    }

    /// The sending of an output was cancelled: its output is gone with it.
    pub(super) fn output_dropped(&self) {
        let mut state = self.lock();
        if matches!(state.output, Handoff::Sending) {
            state.output = Handoff::Dropped;
        }
        drop(state);
        self.changed();
    }

    /// The thread's value is gone: outputs offered now are handed back at once, and what
    /// the handler registered with [`BlockingLink::on_abandon`] runs now, here, if `run`
    /// has not returned.
    pub(super) fn thread_gone(&self, thread: &str) {
        let mut state = self.lock();
        state.thread_gone = true;
        state.stopping = true;
        let releases = std::mem::take(&mut state.on_abandon);
        drop(state);
        self.changed();
        for release in releases {
            release_contained(thread, release);
        }
    }
}

impl<S, O> BlockingLink<S, O> {
    /// The next signal from the parent, waiting for it; `None` once the thread is ending
    /// (terminated, or its parent's tree is shutting down): the handler should return
    /// then. Signals still queued at that point are not given out: they go to
    /// [`BlockingThread::on_undelivered`](super::BlockingThread::on_undelivered).
    #[must_use]
    pub fn recv(&self) -> Option<S> {
        self.shared
            .wait_blocking(None, |state| take_signal(state))?
    }

    /// As [`recv`](Self::recv), waiting at most `timeout`: `Ok(None)` once the thread is
    /// ending, `Err(RecvTimeout)` if no signal came in time.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Option<S>, RecvTimeout> {
        let deadline = Instant::now() + timeout;
        self.shared
            .wait_blocking(Some(deadline), |state| take_signal(state))
            .ok_or(RecvTimeout(timeout))
    }

    /// Whether the thread is ending; a long computation looks at it between its steps.
    #[must_use]
    pub fn is_stopping(&self) -> bool {
        self.shared.is_stopping()
    }

    /// Waits until the thread is ending (or [`close`](Self::close) was called): for a
    /// handler whose work runs on other OS threads of its own, and that only has to know
    /// when to end it.
    pub fn wait_stopping(&self) {
        let _ = self
            .shared
            .wait_blocking(None, |state| state.stopping.then_some(()));
    }

    /// Whether the thread has ended without waiting for the handler any longer (it was
    /// forced: its budget, or its parent's, ran out): what the handler still holds should
    /// be released at once, since nobody waits for it.
    #[must_use]
    pub fn is_abandoned(&self) -> bool {
        self.shared.lock().thread_gone
    }

    /// Registers `release`, to run at once if the thread is abandoned (forced, or its task
    /// dropped by its runtime) while `run` is still running: what the handler holds that
    /// must not outlive the tree (a process to kill, a device to let go of), released
    /// before the thread's end is recorded, so that a `join` that returns finds it
    /// released. It runs synchronously on the runtime's thread that drops the thread, so
    /// it must be short and must not block (a kill, not a wait for an exit); a panic in it
    /// is caught and logged. Never run once `run` has returned; registered after the
    /// thread was abandoned, it runs at once, on the calling thread.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use task_thread_core::{BlockingLink, BoxError};
    ///
    /// fn serve(link: &BlockingLink<u32, u32>) -> Result<(), BoxError> {
    ///     let cancelled = Arc::new(AtomicBool::new(false));
    ///     let flag = cancelled.clone();
    ///     link.on_abandon(move || flag.store(true, Ordering::Release));
    ///     while let Some(n) = link.recv() {
    ///         // A long computation that looks at `cancelled` between its steps.
    ///         link.send(n + 1)?;
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn on_abandon(&self, release: impl FnOnce() + Send + 'static) {
        let mut state = self.shared.lock();
        if state.thread_gone {
            drop(state);
            release_contained("", Box::new(release));
            return;
        }
        state.on_abandon.push(Box::new(release));
    }

    /// Takes no more signals, from whichever OS thread of the handler: `recv` returns
    /// `None` from now on, on every thread waiting in it, as at a terminate. For a handler
    /// whose work ended another way (a process it drives has exited) and that must wake
    /// its own `recv`. The signals not taken go to the undelivered hook.
    pub fn close(&self) {
        self.shared.stop();
    }

    /// Sends `output` to the parent's
    /// [`on_child_signal`](crate::TaskThread::on_child_signal), waiting until the parent's
    /// queue has it (with the parent's overflow policy, as
    /// [`ThreadCx::send_to_parent`](crate::ThreadCx::send_to_parent)); a refused output
    /// comes back in the error. Outputs sent while the thread is ending are still
    /// delivered (the parent hears them before the thread's end), until the thread's value
    /// is dropped: [`SendError::Ended`] then.
    pub fn send(&self, output: O) -> Result<(), OutputLost<O>> {
        let mut output = Some(output);
        // One output on its way at a time: the link may be shared by several OS threads.
        let offered = self.shared.wait_blocking(None, |state| {
            if state.thread_gone {
                return Some(false);
            }
            matches!(state.output, Handoff::Idle).then(|| {
                state.output = Handoff::Offered(output.take().expect("offered once"));
                true
            })
        });
        if offered == Some(false) {
            let output = output.take().expect("not offered");
            return Err(OutputLost::Refused(SendError::Ended(output)));
        }
        self.shared.changed();
        let outcome = self.shared.wait_blocking(None, |state| {
            match std::mem::replace(&mut state.output, Handoff::Idle) {
                Handoff::Delivered => Some(Ok(())),
                Handoff::Refused(refused) => Some(Err(OutputLost::Refused(refused))),
                Handoff::Offered(output) if state.thread_gone => {
                    Some(Err(OutputLost::Refused(SendError::Ended(output))))
                }
                Handoff::Dropped => Some(Err(OutputLost::Dropped)),
                other => {
                    state.output = other;
                    None
                }
            }
        });
        self.shared.changed();
        outcome.expect("waited without a deadline")
    }
}

/// Runs a release registered with [`BlockingLink::on_abandon`], containing a panic in it.
fn release_contained(thread: &str, release: Box<dyn FnOnce() + Send>) {
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(release)) {
        tracing::error!(
            thread,
            "its blocking handler's release on abandon panicked: {}",
            crate::join::panic_message(panic.as_ref())
        );
    }
}

/// The next signal for `recv`: `Some(None)` once the thread is ending.
fn take_signal<S, O>(state: &mut State<S, O>) -> Option<Option<S>> {
    if state.stopping {
        return Some(None);
    }
    let signal = state.signals.pop_front()?;
    Some(Some(signal))
}

impl<S, O> std::fmt::Debug for BlockingLink<S, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingLink")
            .field("stopping", &self.is_stopping())
            .finish()
    }
}
