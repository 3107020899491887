//! The bench as a user runs it: `--help` answers at once, naming every option, instead of
//! starting the full run.

use std::process::Command;

#[test]
fn help_names_every_option_and_runs_nothing() {
    let output = Command::new(env!("CARGO_BIN_EXE_task-thread-bench"))
        .arg("--help")
        .output()
        .expect("the bench starts");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "--help ended with {}:\n{help}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    for option in [
        "--quick",
        "--case",
        "--flavour",
        "--rows-only",
        "--memory",
        "--count",
    ] {
        assert!(
            help.contains(&format!("{option} ")),
            "--help does not name {option}:\n{help}"
        );
    }
    assert!(
        !help.contains("task-thread benchmarks:"),
        "--help started the run:\n{help}"
    );
}
