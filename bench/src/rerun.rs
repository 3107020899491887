//! The bench re-running itself: each measurement that needs a fresh heap (a case, a
//! memory figure, a scaled tree) runs in a process of its own, this binary with the
//! options that say what to measure.

use task_thread::{Backend, Flavour};

use crate::{memory, scale};

/// Runs one case on one flavour in a fresh process (this binary, with `--case` and
/// `--flavour`) and returns its table rows: each case starts from a fresh heap, so that
/// what an earlier case left in the allocator (measured: a fragmented heap slows the
/// tree's stop, which allocates, by up to 2x) does not weigh on the next. `one_core`: the
/// process pins itself to one core first (see `placement`).
pub fn case_in_child(flavour: Flavour, case: &str, quick: bool, one_core: bool) -> String {
    let mut args = vec!["--case", case, "--flavour", flavour.name(), "--rows-only"];
    if quick {
        args.push("--quick");
    }
    if one_core {
        args.push("--one-core");
    }
    rerun(&args)
}

/// Measures one scaled tree in a fresh process (this binary, in `--scale` mode):
/// [start ns, stop ns, bytes], per thread.
pub fn scale_in_child(flavour: Flavour, shape: scale::Shape, n: usize) -> [f64; 3] {
    let count = n.to_string();
    let args = [
        "--scale",
        shape.name(),
        "--flavour",
        flavour.name(),
        "--count",
        &count,
    ];
    let text = rerun(&args);
    let figures: Vec<f64> = text
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    figures
        .try_into()
        .unwrap_or_else(|_| panic!("scale measurement failed: {text}"))
}

/// Runs one memory measurement in a fresh process (this binary, in `--memory` mode).
pub fn measure_in_child(flavour: Flavour, subject: memory::Subject, n: usize) -> f64 {
    let count = n.to_string();
    let args = [
        "--memory",
        subject.name(),
        "--flavour",
        flavour.name(),
        "--count",
        &count,
    ];
    let text = rerun(&args);
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("memory measurement failed: {text}"))
}

/// Runs this binary with `args` (one measurement in a fresh process): what it printed.
fn rerun(args: &[&str]) -> String {
    let output = std::process::Command::new(std::env::current_exe().expect("the bench's path"))
        .args(args)
        .output()
        .expect("the bench re-runs itself");
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
