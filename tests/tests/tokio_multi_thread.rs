//! The whole conformance suite on tokio's multi-thread runtime.
//!
//! Checks, as every backend file does: spawn / join outcomes (value, cancelled, panicked),
//! dropping a handle detaches, cancellation drops the task before the join returns, sleep
//! and yield, SIGINT / SIGTERM to every listener, task slots (re_create, re_schedule,
//! delete, timeouts, panics, live count) and the README's portable library.
task_thread_conformance::conformance_suite!(task_thread_tokio::Tokio::multi_thread());
