//! The README's promise that a library written against [`Spawner`](task_thread::Spawner)
//! runs on every runtime: its example, `portable.rs`, is run here on each backend.

use std::time::Duration;

use task_thread::Runtime;

use crate::fixtures::Counter;
use crate::portable::start_poller;

/// The README's portable poller finds its value on this backend.
pub async fn portable_library_runs_here(rt: Runtime) {
    let probes = Counter::default();
    let counter = probes.clone();
    let poller = start_poller(&rt, Duration::from_millis(1), move || {
        let probe = counter.bump();
        (probe == 3).then_some(probe * 10)
    });
    assert_eq!(poller.await, Ok(30));
    assert_eq!(probes.get(), 3);
}
