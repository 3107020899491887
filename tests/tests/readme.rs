//! What the README shows is what runs: its portable library is `tests/src/portable.rs`,
//! which the suite runs on every backend (`portability::portable_library_runs_here`).
//!
//! A check of the workspace, not of a backend: the package leaves it out, since the README
//! it reads is the workspace's.

/// The README shows `portable.rs` verbatim.
#[test]
fn readme_shows_the_portable_library_verbatim() {
    let readme = include_str!("../../README.md");
    let library = include_str!("../src/portable.rs");
    assert!(
        readme.contains(library),
        "README.md must contain tests/src/portable.rs verbatim"
    );
}
