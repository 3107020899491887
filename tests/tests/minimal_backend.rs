//! The whole conformance suite on the minimal backend of core's contract page
//! (`core/examples/minimal_backend.rs`): futures' `ThreadPool`, which polls a task that
//! wakes itself again at once, and async-io's timers. A backend written by the contract
//! alone, the way a stranger would write one.
//!
//! Checks, as every backend file does: the `Spawner` contract first, then every case of
//! the suite.

// The example names core by its own name; this crate calls it `task_thread`.
extern crate task_thread as task_thread_core;

#[path = "../../core/examples/minimal_backend.rs"]
#[allow(dead_code)] // Its `main` is the example's, not run here.
mod minimal_backend;

task_thread_conformance::conformance_suite!(minimal_backend::Minimal);
task_thread_conformance::process_suite!(
    minimal_backend::Minimal,
    env!("CARGO_BIN_EXE_task-thread-test-worker")
);
