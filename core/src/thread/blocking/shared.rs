//! The state both sides of a [`Blocking`](super::Blocking) thread share, and their waits.
//!
//! One mutex holds the state; the blocking side waits on a condition variable, the async
//! side on an event, and every change wakes both. The thread's `on_signal` hands a signal
//! over and waits while [`HAND_OVER`] are waiting to be taken: the thread's own queue, with
//! its capacity and overflow policy, stays the queue that fills, and the blocking side
//! takes several signals per wake-up. An output goes one at a time:
//! `send` waits until the thread has put it into its parent's queue, or hands it back.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use event_listener::Event;

use super::link::release_contained;
use crate::thread::errors::SendError;

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
pub(super) struct State<S, O> {
    /// Signals handed over by the thread, not yet taken by `recv` (at most
    /// [`HAND_OVER`]).
    pub(super) signals: VecDeque<S>,
    /// The output on its way to the parent.
    pub(super) output: Handoff<O>,
    /// The thread is ending: `recv` returns `None`, `is_stopping` is true.
    pub(super) stopping: bool,
    /// The deadline of the thread's shutdown, once it has one (see
    /// [`BlockingLink::shutdown_deadline`](super::BlockingLink::shutdown_deadline)).
    pub(super) deadline: Option<Instant>,
    /// The thread's value has been dropped: nobody forwards outputs any more.
    pub(super) thread_gone: bool,
    /// The handler's `run` has returned (or unwound).
    pub(super) run_returned: bool,
    /// What the handler asked to run if the thread is abandoned while `run` runs
    /// ([`BlockingLink::on_abandon`]); emptied when `run` returns.
    pub(super) on_abandon: Vec<Box<dyn FnOnce() + Send>>,
}

/// An output between `send` and the parent's queue.
pub(super) enum Handoff<O> {
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
                deadline: None,
                thread_gone: false,
                run_returned: false,
                on_abandon: Vec::new(),
            }),
            blocking_side: Condvar::new(),
            async_side: Event::new(),
        })
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State<S, O>> {
        // The state stays consistent through a panic: every change is one assignment.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Wakes both sides after a change of the state.
    pub(super) fn changed(&self) {
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
    pub(super) fn wait_blocking<T>(
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

    /// Tells the blocking side that the thread is ending, by `deadline` if it has one (a
    /// sooner one than it was told, or the first).
    pub(super) fn stop(&self, deadline: Option<Instant>) {
        let mut state = self.lock();
        state.stopping = true;
        if let Some(deadline) = deadline {
            state.deadline = Some(state.deadline.map_or(deadline, |told| told.min(deadline)));
        }
        drop(state);
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
