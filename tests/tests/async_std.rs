//! The whole conformance suite on async-std's global executor.
//!
//! Checks, as every backend file does: the `Spawner` contract first (a rescheduling task
//! lets others run, a destructor's panic during a cancel harms nothing, a task's end comes
//! after its drop, nothing outlives `block_on`), then spawn / join outcomes (value,
//! cancelled, panicked), dropping a handle detaches, cancellation drops the task before
//! the join returns, sleep
//! and yield, SIGINT / SIGTERM to every listener, task slots (re_create, re_schedule,
//! delete, concurrent operations, timeouts, panics, live count), the README's portable
//! library, threads (order of signals, stop and terminate cascades, budgets, failures and
//! their containment, queues and overflow, children found, added and refused, nothing
//! held after the end), ask and reply (the answer, or ended, refused, timed out, the request
//! handed back when never delivered), cooperative shutdown (the notice, the grace within the budget, slots
//! cancelled at once, a cascade of flushers), the examples' TCP servers against real clients,
//! blocking handlers as threads (their signals, end, a call that never returns), and worker
//! processes (echo, crash, deaf, malformed frame; none left running or unreaped).
task_thread_conformance::conformance_suite!(task_thread_async_std::AsyncStd);
task_thread_conformance::process_suite!(
    task_thread_async_std::AsyncStd,
    env!("CARGO_BIN_EXE_task-thread-test-worker")
);
