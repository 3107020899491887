//! [`BlockingLink`]: the blocking side's end of a [`Blocking`](super::Blocking) thread
//! (the state it shares with the thread is in [`shared`](super::shared)).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::errors::{OutputLost, RecvTimeout};
use super::shared::{Handoff, Shared, State};
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

    /// The deadline of the thread's shutdown, once it is ending by a terminate or by its
    /// parent's cascade: the instant at which the thread stops waiting for `run` (it is
    /// [forced](Self::is_abandoned), and what [`on_abandon`](Self::on_abandon) registered
    /// runs). It is the thread's
    /// [`shutdown_budget`](crate::ThreadConfig::shutdown_budget) from the terminate,
    /// or its parent's deadline if that is sooner, and it may come sooner while the thread
    /// ends (its parent's cascade reaching it): read it again while waiting. `None` while
    /// the thread runs, and after [`close`](Self::close) until a shutdown begins.
    ///
    /// A handler that must end something before the thread's end (a process to stop in
    /// steps, a device to close) places its steps before it, leaving a margin for the
    /// last: what is still running at the deadline is abandoned.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use task_thread_core::BlockingLink;
    ///
    /// /// How long a handler that is ending may still wait for its work to finish: four
    /// /// fifths of the time left, the last fifth kept to end it by force.
    /// fn patience(link: &BlockingLink<(), ()>) -> Option<Duration> {
    ///     let left = link.shutdown_deadline()?.saturating_duration_since(Instant::now());
    ///     Some(left * 4 / 5)
    /// }
    /// ```
    #[must_use]
    pub fn shutdown_deadline(&self) -> Option<Instant> {
        self.shared.lock().deadline
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
    /// its own `recv`. The signals not taken go to the undelivered hook; those sent from
    /// now on wait in the thread's queue, with its capacity and overflow policy, until the
    /// thread ends (`run` returned, or a terminate), and go to the hook then.
    pub fn close(&self) {
        self.shared.stop(None);
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
pub(super) fn release_contained(thread: &str, release: Box<dyn FnOnce() + Send>) {
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
