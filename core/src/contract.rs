//! # The contract of a backend
//!
//! What a runtime must do for core to be correct on it: the whole of what core relies on,
//! and nothing else. A backend implements [`Spawner`] (what a running runtime does),
//! [`RawTask`] (its handle to one task) and [`Backend`] (how a program starts it). The
//! conformance suite (`task-thread-conformance`) checks each part below before any other
//! case, and fails every case with the part's name when one is broken; the minimal backend
//! at the end of this page passes the whole suite.
//!
//! ## `Spawner`
//!
//! - [`spawn_raw`](crate::Spawner::spawn_raw) runs the future to its end, polling it whenever it
//!   is woken, on any thread of the runtime. It may run it on the spot, before returning
//!   (core does not hold a lock across the call).
//!   - **Refusing.** A runtime that will not run the future (it has shut down, or its
//!     `block_on` has returned) drops the future *before returning*, and returns the handle
//!     of an ended task: one whose `poll_end` gives `Ready(None)`. It does not panic. A
//!     slot's `re_create` then reports [`SlotError::Refused`](crate::SlotError::Refused).
//!   - **Panics.** The futures core hands over never unwind: a panic in a poll becomes the
//!     task's output (`Err(message)`), and one in a destructor (during a cancel, say) is
//!     caught and logged. A backend needs no `catch_unwind` of its own.
//! - [`spawn_named_raw`](crate::Spawner::spawn_named_raw) is optional: it defaults to
//!   `spawn_raw`; a backend whose runtime shows its tasks by name (tokio under
//!   `tokio_unstable`) passes the name on, and keeps the rest of `spawn_raw`'s contract.
//! - [`spawn_named_detached`](crate::Spawner::spawn_named_detached) is optional: it
//!   defaults to `spawn_named_raw` with the handle dropped at once (the task runs on, its
//!   output discarded). A backend that overrides it to spawn without making a handle
//!   keeps the rest: the future runs to its end and is dropped after; a refused one is
//!   dropped before the call returns; `block_on`'s end drops it like any other task.
//! - [`defer_wake`](crate::Spawner::defer_wake) is how core yields. It is called while the
//!   waker's task is being polled, just before the poll returns `Pending`, and must make
//!   the task be polled again, but only *after the other tasks ready on its worker* have had
//!   a turn. It runs on every reschedule of a slot's task, so it should not allocate.
//!   - tokio, async-executor (smol) and async-std put a task woken during its own poll at
//!     the back of their queue: there it is `waker.wake_by_ref()`.
//!   - An executor that polls such a task again at once (futures' `ThreadPool`) must wake
//!     it from its queue instead, as the minimal backend below does. With a plain self-wake
//!     there, a task that reschedules itself holds its worker, and whatever waits behind it
//!     (a `delete`, the thread's own signals) never runs.
//! - [`sleep`](crate::Spawner::sleep) completes no sooner than its duration.
//! - [`shutdown_signal`](crate::Spawner::shutdown_signal) makes an independent listener per call,
//!   registered before it returns; where the platform or the runtime cannot listen, its
//!   future gives an [`io::Error`](std::io::Error) (`Unsupported`), never a hang.
//! - [`spawn_blocking`](crate::Spawner::spawn_blocking) has a default (a `std::thread` of
//!   its own per call) that every backend on a platform with threads can keep. An override
//!   runs the work where it may block for good without holding anything the runtime waits
//!   for at its end (not in a pool that `block_on` joins), and returns once it started; a
//!   platform without threads returns the error at once, which fails the
//!   [`Blocking`](crate::Blocking) thread's `enter` with it.
//!
//! ## `RawTask`
//!
//! - [`cancel`](crate::RawTask::cancel) does not wait and may be called again. The future is
//!   dropped at its next suspension point, or without being polled if it has not started;
//!   a cancel after the task's end changes nothing (its output is kept).
//! - [`poll_end`](crate::RawTask::poll_end) gives `Ready(Some(output))` for a task that ran to its
//!   end, and `Ready(None)` for one cancelled, refused, or dropped by its runtime (at the
//!   end of `block_on`). Either comes **only after the future has been dropped**, so that
//!   whoever sees a task's end sees every destructor of it done (a `delete` relies on it).
//!   Core does not poll it again after it gave `Ready`.
//! - Dropping the handle **detaches** the task: it runs on, and its output is discarded.
//! - [`consuming_cancel`](crate::consuming_cancel) turns a runtime's own handle whose cancel
//!   is an `async fn` (smol's, async-std's) into a `RawTask`.
//!
//! ## `Backend`
//!
//! - [`block_on`](crate::Backend::block_on) starts a runtime of its own, runs `main` with a
//!   [`Runtime`] handle to it on the calling thread, and returns `main`'s output. **When
//!   `main` has ended**, every task spawned through that runtime and still alive is dropped
//!   (its destructors run) *before* `block_on` returns, and from then on a spawn through any
//!   clone of the handle is refused as above. No task outlives its `block_on` into the next.
//!   - tokio's and smol's runtimes do it when they are dropped. On an executor that
//!     outlives `block_on` (async-std's global executor, futures' `ThreadPool`),
//!     [`BlockOnTasks`](crate::block_on_tasks::BlockOnTasks) keeps the list to end them.
//!
//! ## What core does not ask
//!
//! Which thread runs a task, how many workers there are, the order in which tasks woken by
//! *others* run, a timer's precision, or anything from the runtime's own crate: core uses
//! the four traits above and nothing else.
//!
//! ## A minimal backend
//!
//! futures' `ThreadPool` with async-io's timers, in one file (`examples/minimal_backend.rs`
//! of this crate; `cargo run -p task-thread-core --example minimal_backend`). The
//! conformance suite runs on it whole in the repository's `tests/tests/minimal_backend.rs`.
//!
#![doc = concat!("```\n", include_str!("../examples/minimal_backend.rs"), "\n```")]
//!
//! [`Spawner`]: crate::Spawner
//! [`RawTask`]: crate::RawTask
//! [`Backend`]: crate::Backend
//! [`Runtime`]: crate::Runtime
