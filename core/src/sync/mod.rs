//! The synchronisation core builds its own protocols on: event-listener's [`Event`] and
//! std's atomics, or, when built with `--cfg task_thread_loom`, loom's atomics and a model
//! of `Event` (see `event_model`), so that loom can check those protocols
//! (`crate::loom_models`): the operation lock and its notify, a lane's room counter, a
//! slot's generation mirror and in-flight states.
//!
//! ```text
//! RUSTFLAGS="--cfg task_thread_loom" cargo test -p task-thread-core --lib --release loom_
//! ```

#[cfg(task_thread_loom)]
mod event_model;

#[cfg(not(task_thread_loom))]
pub(crate) use event_listener::{Event, EventListener};
#[cfg(task_thread_loom)]
pub(crate) use event_model::{Event, EventListener};

#[cfg(task_thread_loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU64};
#[cfg(not(task_thread_loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU64};
