//! A whole program's status: [`Backend::run`] starts the runtime, runs the root to its end
//! and turns that end into the status to exit with. Not an `async` case: it starts the
//! runtime itself, as a `main` does.

use std::process::ExitCode;
use std::time::Duration;

use task_thread::Backend;

use crate::fixtures::EventLog;
use crate::tree::{Failure, Node};

/// A root that stops cleanly exits with success; one that fails, or whose shutdown is
/// forced, exits with failure (before, the examples exited 0 however their tree ended).
pub fn run_returns_the_exit_status_of_the_root(backend: &impl Backend) {
    crate::logs::capture();
    // `run` listens for SIGINT and SIGTERM: no case may send one meanwhile.
    let _no_signals = futures::executor::block_on(crate::fixtures::signal_lock());
    let log = EventLog::default();
    // Stops itself from enter: a clean end, with its exit run.
    let clean = Node::new("clean", &log).failing(Failure::StopInEnter);
    assert_eq!(backend.run(clean), ExitCode::SUCCESS);
    // Fails in enter.
    let failing = Node::new("failing", &log).failing(Failure::Enter);
    assert_eq!(backend.run(failing), ExitCode::FAILURE);
    // Stops itself, but its exit hangs past its budget: forced.
    let hung = Node::new("hung", &log)
        .failing(Failure::HangingExitAfterStop)
        .budget(Duration::from_millis(20));
    assert_eq!(backend.run(hung), ExitCode::FAILURE);
    assert_eq!(
        log.events(),
        [
            "enter clean",
            "exit clean",
            "enter failing",
            "exit failing",
            "enter hung",
            "exit hung",
            "exit hung dropped",
        ]
    );
    assert!(crate::logs::contains_line(&[
        "ERROR",
        "the tree ended",
        "failing"
    ]));
}
