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

#[cfg(test)]
mod tests {
    /// The README shows `portable.rs` verbatim, so what it shows is what runs here.
    #[test]
    fn readme_shows_the_portable_library_verbatim() {
        let readme = include_str!("../../README.md");
        let library = include_str!("portable.rs");
        assert!(
            readme.contains(library),
            "README.md must contain tests/src/portable.rs verbatim"
        );
    }
}
