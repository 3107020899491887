//! The examples as a user runs them: each one, on each runtime flavour, is started as a
//! process, sent SIGINT once it is running, and must end cleanly (status 0, exit log lines),
//! its log free of colour codes since it goes to a pipe; and each answers `--help` with
//! its options.
//!
//! The example binaries are built by `cargo test --workspace --all-features` (cargo builds
//! every example of the workspace before running tests).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long an example may take to start or to stop. A guard, not a measurement.
const GUARD: Duration = Duration::from_secs(60);

fn example_path(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test binary's path");
    let profile_dir = test_binary
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo test --workspace --all-features`, which builds the examples",
        path.display()
    );
    path
}

/// Starts `example` with `args`, returns the process and a channel of its stderr lines.
fn start(example: &str, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(example_path(example))
        .args(args)
        .env("RUST_LOG", "info")
        // Without it, so that only the pipe keeps the log free of colour codes.
        .env_remove("NO_COLOR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let stderr = child.stderr.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (child, received)
}

/// Reads lines until one contains `needle`; returns every line read.
fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    loop {
        match lines.recv_timeout(GUARD) {
            Ok(line) => {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    return;
                }
            }
            Err(_) => panic!(
                "no line containing {needle:?}; output so far:\n{}",
                seen.join("\n")
            ),
        }
    }
}

/// No line written to a pipe carries an escape byte, the start of every ANSI colour code.
fn assert_no_colour(example: &str, seen: &[String]) {
    if let Some(line) = seen.iter().find(|line| line.contains('\x1b')) {
        panic!("{example} wrote colour codes to a pipe: {line:?}");
    }
}

/// `example` on `flavour` (`None`: an example that picks no runtime) ends cleanly on SIGINT.
fn interrupt_ends_cleanly(
    example: &str,
    flavour: Option<&str>,
    args: &[&str],
    started: &str,
    exit_lines: &[&str],
) {
    let mut all_args: Vec<&str> = flavour.map_or(vec![], |flavour| vec!["--backend", flavour]);
    all_args.extend(args);
    let (mut child, lines) = start(example, &all_args);
    let flavour = flavour.unwrap_or("its own runtime");
    let mut seen = Vec::new();
    wait_for_line(&lines, started, &mut seen);
    let sent = Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    for line in exit_lines {
        wait_for_line(&lines, line, &mut seen);
    }
    let status = child.wait().expect("the example ends");
    assert!(
        status.success(),
        "{example} on {flavour} ended with {status}:\n{}",
        seen.join("\n")
    );
    assert_no_colour(example, &seen);
}

/// `--seconds N` ends the example by itself, cleanly.
fn seconds_end_cleanly(example: &str, flavour: &str, exit_lines: &[&str]) {
    let (mut child, lines) = start(example, &["--backend", flavour, "--seconds", "0.5"]);
    let mut seen = Vec::new();
    for line in exit_lines {
        wait_for_line(&lines, line, &mut seen);
    }
    let status = child.wait().expect("the example ends");
    assert!(
        status.success(),
        "{example} on {flavour} ended with {status}:\n{}",
        seen.join("\n")
    );
    assert_no_colour(example, &seen);
}

macro_rules! seconds_on_every_flavour {
    ($($test:ident: $example:literal on $flavour:literal expecting [$($line:literal),*]),* $(,)?) => {$(
        #[test]
        fn $test() {
            seconds_end_cleanly($example, $flavour, &[$($line),*]);
        }
    )*};
}

seconds_on_every_flavour! {
    parent_child_ends_after_seconds_on_tokio_multi_thread: "parent_child" on "tokio"
        expecting ["stopping after", "main_thread exits", "subthread exits", "the tree ended: stopped"],
    parent_child_ends_after_seconds_on_tokio_current_thread: "parent_child" on "tokio-current-thread"
        expecting ["stopping after", "main_thread exits", "subthread exits", "the tree ended: stopped"],
    parent_child_ends_after_seconds_on_async_std: "parent_child" on "async-std"
        expecting ["stopping after", "main_thread exits", "subthread exits", "the tree ended: stopped"],
    parent_child_ends_after_seconds_on_smol: "parent_child" on "smol"
        expecting ["stopping after", "main_thread exits", "subthread exits", "the tree ended: stopped"],
    supervised_ends_after_seconds_with_its_report_on_tokio_multi_thread: "supervised" on "tokio"
        expecting ["main entered", "the tree ended: stopped", "main (", "└── pool ("],
    supervised_ends_after_seconds_with_its_report_on_tokio_current_thread: "supervised" on "tokio-current-thread"
        expecting ["main entered", "the tree ended: stopped", "main (", "└── pool ("],
    supervised_ends_after_seconds_with_its_report_on_async_std: "supervised" on "async-std"
        expecting ["main entered", "the tree ended: stopped", "main (", "└── pool ("],
    supervised_ends_after_seconds_with_its_report_on_smol: "supervised" on "smol"
        expecting ["main entered", "the tree ended: stopped", "main (", "└── pool ("],
    process_worker_ends_after_seconds_on_tokio_multi_thread: "process_worker" on "tokio"
        expecting ["master entered with 4 workers", "stopping after", "master exits", "the tree ended: stopped", "worker-3 ("],
    process_worker_ends_after_seconds_on_tokio_current_thread: "process_worker" on "tokio-current-thread"
        expecting ["master entered with 4 workers", "stopping after", "master exits", "the tree ended: stopped", "worker-3 ("],
    process_worker_ends_after_seconds_on_async_std: "process_worker" on "async-std"
        expecting ["master entered with 4 workers", "stopping after", "master exits", "the tree ended: stopped", "worker-3 ("],
    process_worker_ends_after_seconds_on_smol: "process_worker" on "smol"
        expecting ["master entered with 4 workers", "stopping after", "master exits", "the tree ended: stopped", "worker-3 ("],
}

macro_rules! on_every_flavour {
    ($($test:ident: $example:literal $([$($arg:literal),*])? on $flavour:literal after $started:literal expecting [$($line:literal),*]),* $(,)?) => {$(
        #[test]
        fn $test() {
            let args: &[&str] = &[$($($arg),*)?];
            interrupt_ends_cleanly($example, Some($flavour), args, $started, &[$($line),*]);
        }
    )*};
}

on_every_flavour! {
    hello_task_ends_on_sigint_on_tokio_multi_thread: "hello_task" on "tokio" after "Ctrl-C stops"
        expecting ["got Interrupt, stopping", "all tasks ended, bye"],
    hello_task_ends_on_sigint_on_tokio_current_thread: "hello_task" on "tokio-current-thread" after "Ctrl-C stops"
        expecting ["got Interrupt, stopping", "all tasks ended, bye"],
    hello_task_ends_on_sigint_on_async_std: "hello_task" on "async-std" after "Ctrl-C stops"
        expecting ["got Interrupt, stopping", "all tasks ended, bye"],
    hello_task_ends_on_sigint_on_smol: "hello_task" on "smol" after "Ctrl-C stops"
        expecting ["got Interrupt, stopping", "all tasks ended, bye"],
    hello_world_ends_on_sigint_on_tokio_multi_thread: "hello_world" on "tokio" after "main_thread entered"
        expecting ["shutdown signal received", "main_thread exits", "the tree ended: stopped"],
    hello_world_ends_on_sigint_on_tokio_current_thread: "hello_world" on "tokio-current-thread" after "main_thread entered"
        expecting ["shutdown signal received", "main_thread exits", "the tree ended: stopped"],
    hello_world_ends_on_sigint_on_async_std: "hello_world" on "async-std" after "main_thread entered"
        expecting ["shutdown signal received", "main_thread exits", "the tree ended: stopped"],
    hello_world_ends_on_sigint_on_smol: "hello_world" on "smol" after "main_thread entered"
        expecting ["shutdown signal received", "main_thread exits", "the tree ended: stopped"],
    parent_child_ends_on_sigint_on_tokio_multi_thread: "parent_child" on "tokio" after "main_thread entered"
        expecting ["shutdown signal received", "main_thread exits", "subthread exits", "the tree ended: stopped"],
    parent_child_ends_on_sigint_on_tokio_current_thread: "parent_child" on "tokio-current-thread" after "main_thread entered"
        expecting ["shutdown signal received", "main_thread exits", "subthread exits", "the tree ended: stopped"],
    parent_child_ends_on_sigint_on_async_std: "parent_child" on "async-std" after "main_thread entered"
        expecting ["shutdown signal received", "main_thread exits", "subthread exits", "the tree ended: stopped"],
    parent_child_ends_on_sigint_on_smol: "parent_child" on "smol" after "main_thread entered"
        expecting ["shutdown signal received", "main_thread exits", "subthread exits", "the tree ended: stopped"],
    supervised_ends_on_sigint_with_its_report_on_tokio_multi_thread: "supervised" on "tokio" after "main entered"
        expecting ["shutdown signal received", "the tree ended: stopped", "└── pool ("],
    supervised_ends_on_sigint_with_its_report_on_tokio_current_thread: "supervised" on "tokio-current-thread" after "main entered"
        expecting ["shutdown signal received", "the tree ended: stopped", "└── pool ("],
    supervised_ends_on_sigint_with_its_report_on_async_std: "supervised" on "async-std" after "main entered"
        expecting ["shutdown signal received", "the tree ended: stopped", "└── pool ("],
    supervised_ends_on_sigint_with_its_report_on_smol: "supervised" on "smol" after "main entered"
        expecting ["shutdown signal received", "the tree ended: stopped", "└── pool ("],
    tcp_server_ends_on_sigint_on_tokio_multi_thread: "tcp_server" ["--port", "0", "--address", "127.0.0.1"] on "tokio" after "listening on"
        expecting ["shutdown signal received", "closing the listener", "the tree ended: stopped"],
    tcp_server_ends_on_sigint_on_tokio_current_thread: "tcp_server" ["--port", "0", "--address", "127.0.0.1"] on "tokio-current-thread" after "listening on"
        expecting ["shutdown signal received", "closing the listener", "the tree ended: stopped"],
    tcp_server_ends_on_sigint_on_async_std: "tcp_server" ["--port", "0", "--address", "127.0.0.1"] on "async-std" after "listening on"
        expecting ["shutdown signal received", "closing the listener", "the tree ended: stopped"],
    tcp_server_ends_on_sigint_on_smol: "tcp_server" ["--port", "0", "--address", "127.0.0.1"] on "smol" after "listening on"
        expecting ["shutdown signal received", "closing the listener", "the tree ended: stopped"],
    streaming_server_ends_on_sigint_on_tokio_multi_thread: "streaming_server" ["--port", "0", "--address", "127.0.0.1"] on "tokio" after "listening on"
        expecting ["shutdown signal received", "closing the listener", "the tree ended: stopped"],
    streaming_server_ends_on_sigint_on_tokio_current_thread: "streaming_server" ["--port", "0", "--address", "127.0.0.1"] on "tokio-current-thread" after "listening on"
        expecting ["shutdown signal received", "closing the listener", "the tree ended: stopped"],
    streaming_server_ends_on_sigint_on_async_std: "streaming_server" ["--port", "0", "--address", "127.0.0.1"] on "async-std" after "listening on"
        expecting ["shutdown signal received", "closing the listener", "the tree ended: stopped"],
    streaming_server_ends_on_sigint_on_smol: "streaming_server" ["--port", "0", "--address", "127.0.0.1"] on "smol" after "listening on"
        expecting ["shutdown signal received", "closing the listener", "the tree ended: stopped"],
    process_worker_ends_on_sigint_on_tokio_multi_thread: "process_worker" on "tokio" after "master entered"
        expecting ["shutdown signal received", "master exits", "worker process ended: Ok", "the tree ended: stopped"],
    process_worker_ends_on_sigint_on_tokio_current_thread: "process_worker" on "tokio-current-thread" after "master entered"
        expecting ["shutdown signal received", "master exits", "worker process ended: Ok", "the tree ended: stopped"],
    process_worker_ends_on_sigint_on_async_std: "process_worker" on "async-std" after "master entered"
        expecting ["shutdown signal received", "master exits", "worker process ended: Ok", "the tree ended: stopped"],
    process_worker_ends_on_sigint_on_smol: "process_worker" on "smol" after "master entered"
        expecting ["shutdown signal received", "master exits", "worker process ended: Ok", "the tree ended: stopped"],
}

/// `process_worker` sends jobs to its workers and logs their results, each worker ending
/// cleanly: with this program as the worker, and with the README's Python worker where
/// `python3` is installed (skipped, and said, where it is not).
#[test]
fn process_worker_gets_results_from_its_workers() {
    let python = Command::new("python3").arg("--version").output();
    let python = python.is_ok_and(|output| output.status.success());
    if !python {
        eprintln!("the Python worker is skipped: no python3 here");
    }
    let workers: &[&[&str]] = if python {
        &[&[], &["--python"]]
    } else {
        &[&[]]
    };
    for worker in workers {
        let mut args = vec!["--backend", "smol", "--workers", "2", "--every", "0.01"];
        args.extend(*worker);
        args.extend(["--seconds", "1"]);
        let (mut child, lines) = start("process_worker", &args);
        let mut seen = Vec::new();
        for line in [
            "master entered with 2 workers",
            "stopping after",
            "worker process ended: Ok",
            "worker process ended: Ok",
            "the tree ended: stopped",
        ] {
            wait_for_line(&lines, line, &mut seen);
        }
        // Results of both workers (which worker gets which job, and so their order, varies).
        for job in ["job 1: 1 (from worker-", "job 2: 4 (from worker-"] {
            let logged = seen.iter().any(|line| line.contains(job));
            assert!(logged, "{worker:?}: no {job:?} in:\n{}", seen.join("\n"));
        }
        let status = child.wait().expect("the example ends");
        assert!(
            status.success(),
            "{worker:?} ended with {status}:\n{}",
            seen.join("\n")
        );
    }
}

/// Whether process `pid` has exited: gone, or a zombie its new parent has not reaped yet
/// (a container's first process may never reap it).
fn has_exited(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the command's closing parenthesis.
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// A master killed outright (SIGKILL: nothing of it runs) leaves no worker running: their
/// stdin closes with it, and a worker keeping the contract exits (Linux only: the check
/// reads /proc).
#[test]
fn process_worker_workers_exit_when_the_master_is_killed() {
    if !std::path::Path::new("/proc/self/stat").exists() {
        eprintln!("skipped: no /proc here to check the workers with");
        return;
    }
    let args = ["--backend", "smol", "--workers", "2", "--every", "0.01"];
    let (mut child, lines) = start("process_worker", &args);
    let mut seen = Vec::new();
    wait_for_line(&lines, "master entered with 2 workers", &mut seen);
    // Each worker answering (in either order): both are running.
    let answered = |seen: &[String], job: &str| seen.iter().any(|line| line.contains(job));
    while !(answered(&seen, "job 1: 1") && answered(&seen, "job 2: 4")) {
        wait_for_line(&lines, "job ", &mut seen);
    }
    let pids: Vec<String> = seen
        .iter()
        .filter(|line| line.contains("worker process started"))
        .filter_map(|line| line.split("pid=").nth(1))
        .map(|pid| pid.trim().to_owned())
        .collect();
    assert_eq!(
        pids.len(),
        2,
        "the workers' pids, from:\n{}",
        seen.join("\n")
    );
    child.kill().expect("SIGKILL to the master");
    child.wait().expect("the master is reaped");
    // Nothing to await but the kernel's bookkeeping: looked at again until the guard.
    let deadline = std::time::Instant::now() + GUARD;
    while !pids.iter().all(|pid| has_exited(pid)) {
        assert!(
            std::time::Instant::now() < deadline,
            "workers {pids:?} still run"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// `inside_tokio_main` runs on the tokio runtime `#[tokio::main]` started: it takes no
/// `--backend`.
#[test]
fn inside_tokio_main_ends_on_sigint() {
    interrupt_ends_cleanly(
        "inside_tokio_main",
        None,
        &[],
        "heartbeat entered",
        &["shutdown signal received", "the tree ended: stopped"],
    );
}

/// `--help` exits with status 0 and names each of the example's options.
fn help_names(example: &str, options: &[&str]) {
    let output = Command::new(example_path(example))
        .arg("--help")
        .output()
        .expect("the example starts");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{example} --help ended with {}:\n{help}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    for option in options {
        assert!(
            help.contains(&format!("{option} ")),
            "{example} --help does not name {option}:\n{help}"
        );
    }
}

const COMMON: [&str; 2] = ["--backend", "--seconds"];
const SERVER: [&str; 7] = [
    "--address",
    "--port",
    "--pause",
    "--max-clients",
    "--idle-timeout",
    "--max-frame",
    "--tree-every",
];

#[test]
fn every_example_answers_help_with_its_options() {
    help_names("hello_task", &COMMON);
    help_names("hello_world", &COMMON);
    help_names("parent_child", &[&COMMON[..], &["--every"]].concat());
    help_names("inside_tokio_main", &["--seconds"]);
    help_names("tcp_server", &[&COMMON[..], &SERVER].concat());
    help_names("streaming_server", &[&COMMON[..], &SERVER].concat());
    let supervised = ["--workers", "--every", "--failure-rate", "--seed"];
    help_names("supervised", &[&COMMON[..], &supervised].concat());
    let process_worker = ["--workers", "--every", "--budget", "--python"];
    help_names("process_worker", &[&COMMON[..], &process_worker].concat());
    let metrics = ["--every", "--scrape-every"];
    help_names("metrics", &[&COMMON[..], &metrics].concat());
}

/// A period of 0 would repeat without pause (flooding the log): each period option
/// refuses it, as `--idle-timeout` refuses 0, before anything starts.
#[test]
fn a_period_of_zero_is_refused() {
    // `--seconds 1` (and a free port) so that an example that took the 0 would end.
    let server = ["--port", "0", "--seconds", "1"];
    let refused = [
        ("tcp_server", "--tree-every", &server[..]),
        ("streaming_server", "--tree-every", &server[..]),
        ("metrics", "--every", &server[2..]),
        ("metrics", "--scrape-every", &server[2..]),
    ];
    for (example, option, others) in refused {
        let output = Command::new(example_path(example))
            .args([option, "0"])
            .args(others)
            .output()
            .expect("the example starts");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{example} {option} 0:\n{stderr}"
        );
        assert!(
            stderr.contains(option) && stderr.contains("give more than 0"),
            "{example} {option} 0:\n{stderr}"
        );
    }
}

/// `example` with `args` ends by itself with a failure status, logging each of `lines`.
fn ends_with_failure(example: &str, flavour: &str, args: &[&str], lines: &[&str]) {
    let mut all_args = vec!["--backend", flavour];
    all_args.extend(args);
    let (mut child, received) = start(example, &all_args);
    let mut seen = Vec::new();
    for line in lines {
        wait_for_line(&received, line, &mut seen);
    }
    let status = child.wait().expect("the example ends");
    assert!(
        !status.success(),
        "{example} on {flavour} ended with {status}, not a failure:\n{}",
        seen.join("\n")
    );
}

/// A server that cannot bind for a reason no retry clears (here an address not on this
/// host, from the documentation range 192.0.2.0/24) fails, and its process exits with a
/// failure status; before, it retried until `--seconds` and exited 0. (A port in use is
/// still retried: `tcp_server_retries_binding_until_the_port_is_free`.)
fn server_that_cannot_bind_exits_with_failure(example: &str, flavour: &str) {
    // A host that lets any address be bound (ip_nonlocal_bind) binds this one: no failure.
    let nonlocal = std::fs::read_to_string("/proc/sys/net/ipv4/ip_nonlocal_bind");
    if nonlocal.is_ok_and(|value| value.trim() == "1") {
        eprintln!("skipped: this host binds non-local addresses (net.ipv4.ip_nonlocal_bind=1)");
        return;
    }
    ends_with_failure(
        example,
        flavour,
        &["--address", "192.0.2.1", "--port", "0", "--seconds", "5"],
        &["cannot bind 192.0.2.1", "the tree ended"],
    );
}

macro_rules! failing_on_every_flavour {
    ($($test:ident: $example:literal on $flavour:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            server_that_cannot_bind_exits_with_failure($example, $flavour);
        }
    )*};
}

failing_on_every_flavour! {
    tcp_server_that_cannot_bind_exits_with_failure_on_tokio_multi_thread: "tcp_server" on "tokio",
    tcp_server_that_cannot_bind_exits_with_failure_on_tokio_current_thread: "tcp_server" on "tokio-current-thread",
    tcp_server_that_cannot_bind_exits_with_failure_on_async_std: "tcp_server" on "async-std",
    tcp_server_that_cannot_bind_exits_with_failure_on_smol: "tcp_server" on "smol",
    streaming_server_that_cannot_bind_exits_with_failure_on_tokio_multi_thread: "streaming_server" on "tokio",
    streaming_server_that_cannot_bind_exits_with_failure_on_tokio_current_thread: "streaming_server" on "tokio-current-thread",
    streaming_server_that_cannot_bind_exits_with_failure_on_async_std: "streaming_server" on "async-std",
    streaming_server_that_cannot_bind_exits_with_failure_on_smol: "streaming_server" on "smol",
}

/// The peak of the virtual memory of process `pid`, in bytes (VmPeak in its status).
fn vm_peak(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("its status");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmPeak:"))
        .expect("a VmPeak line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmPeak in kB");
    kib * 1024
}

/// A client announcing a blob of almost 4 GiB (allowed by `--max-frame`) and sending 64 KiB
/// of it costs the server memory for what arrived, not for the length announced: its
/// process's peak of virtual memory grows by less than 1 GiB (before, by 4 GiB at once: the
/// decoder reserved the announced length).
fn memory_follows_the_bytes_that_arrive(flavour: &str) {
    use std::io::{Read, Write};
    let args = [
        "--backend",
        flavour,
        "--port",
        "0",
        "--address",
        "127.0.0.1",
        "--max-frame",
        "4294967295",
        // A backstop: the server ends by itself if this test fails before its kill.
        "--seconds",
        "60",
    ];
    let (mut child, lines) = start("streaming_server", &args);
    let mut seen = Vec::new();
    wait_for_line(&lines, "listening on", &mut seen);
    let address = seen
        .last()
        .and_then(|line| line.rsplit("listening on ").next())
        .expect("the address")
        .trim()
        .to_owned();
    let before = vm_peak(child.id());
    let mut client = std::net::TcpStream::connect(&address).expect("connected");
    let mut hello = [0; 4 + task_thread_servers::blobs::HELLO.len()];
    client.read_exact(&mut hello).expect("the hello");
    client.write_all(&(u32::MAX - 1).to_be_bytes()).unwrap();
    client.write_all(&[5; 64 * 1024]).unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    // The connection has read all of it once it has seen the end of the stream.
    wait_for_line(&lines, "closed", &mut seen);
    let grown = vm_peak(child.id()).saturating_sub(before);
    let sent = Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    assert!(child.wait().expect("the example ends").success());
    assert!(
        grown < 1 << 30,
        "on {flavour}, 64 KiB of a blob announced as 4 GiB grew the server's peak virtual memory by {grown} bytes:\n{}",
        seen.join("\n")
    );
}

macro_rules! memory_on_every_flavour {
    ($($test:ident: $flavour:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            memory_follows_the_bytes_that_arrive($flavour);
        }
    )*};
}

memory_on_every_flavour! {
    streaming_server_memory_follows_the_bytes_that_arrive_on_tokio_multi_thread: "tokio",
    streaming_server_memory_follows_the_bytes_that_arrive_on_tokio_current_thread: "tokio-current-thread",
    streaming_server_memory_follows_the_bytes_that_arrive_on_async_std: "async-std",
    streaming_server_memory_follows_the_bytes_that_arrive_on_smol: "smol",
}
