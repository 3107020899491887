//! task-thread's benchmarks: every hot path against the raw runtime (and, for trees, against
//! tokio-util and the actor frameworks), on every runtime flavour, side by side.
//!
//! ```text
//! cargo run --release -p task-thread-bench            # the full run (about ten minutes)
//! cargo run --release -p task-thread-bench -- --quick # every case, small counts
//! cargo run --release -p task-thread-bench -- --case 4 --flavour smol # one case (1 to 8), one flavour
//! ```
//! Each figure is the median of several repetitions after a warm-up, each repetition on a
//! fresh runtime; the ratio is ours / baseline, measured in the same run. Nothing here
//! passes or fails on a timing.

mod cases;
mod guarded_loop;
mod measure;
mod memory;
mod peers;
mod placement;
mod process;
mod raw;
mod rerun;
mod rows;
mod scale;
mod supervision;
mod tree;

use clap::Parser;
use task_thread::{Backend, Flavour};

use rows::{print_rows, rows_for, CASES};

/// task-thread's benchmarks: every hot path against the raw runtime (and, for trees, against
/// tokio-util and the actor frameworks), on every runtime flavour, side by side. Without
/// options: every case on every flavour, full counts (about ten minutes, most of it case 8).
#[derive(Parser, Debug)]
#[command(name = "task-thread-bench")]
struct Cli {
    /// Small counts and one repetition: every case runs, no figure is worth keeping
    #[arg(long)]
    quick: bool,
    /// One case only: 1 reschedule hop, 2 Task form run, 3 signals, 4 tree start and stop,
    /// 5 delete a sleeping task, 6 memory, 7 supervision, 8 scale (a million threads: about
    /// two minutes a flavour), 9 worker process
    #[arg(long, value_name = "N", value_parser = CASES)]
    case: Option<String>,
    /// One runtime flavour only: tokio-multi-thread, tokio-current-thread, async-std or smol
    #[arg(long, value_name = "NAME")]
    flavour: Option<Flavour>,
    /// Print the table rows of --case (or all cases) on --flavour, in this process
    #[arg(long, requires = "flavour", help_heading = INTERNAL)]
    rows_only: bool,
    /// Print the resident bytes grown by --count of SUBJECT on --flavour: threads,
    /// slot-tasks or raw-tasks
    #[arg(
        long,
        value_name = "SUBJECT",
        value_parser = memory_subject,
        requires_all = ["flavour", "count"],
        group = "measurement",
        help_heading = INTERNAL,
    )]
    memory: Option<memory::Subject>,
    /// Print the start and stop nanoseconds and resident bytes per thread of a tree of
    /// SHAPE (flat, deep, or hand-made: case 4's baseline, flat) with about --count
    /// threads, on --flavour
    #[arg(
        long,
        value_name = "SHAPE",
        value_parser = scale_shape,
        requires_all = ["flavour", "count"],
        group = "measurement",
        help_heading = INTERNAL,
    )]
    scale: Option<scale::Shape>,
    /// How many of the --memory subject to create, or threads in the --scale tree
    #[arg(long, value_name = "N", requires = "measurement", help_heading = INTERNAL)]
    count: Option<usize>,
    /// With --rows-only: pin the process to one core first, so that every runtime starts
    /// one worker (case 3's rows with sender and receiver on one worker)
    #[arg(long, requires = "rows_only", help_heading = INTERNAL)]
    one_core: bool,
    /// Be case 9's worker process: echo every frame of stdin to stdout
    #[arg(long, help_heading = INTERNAL)]
    echo_worker: bool,
}

/// The heading of the options the bench passes when it re-runs itself for one measurement.
const INTERNAL: &str = "Used when the bench re-runs itself";

fn memory_subject(name: &str) -> Result<memory::Subject, String> {
    memory::Subject::from_name(name)
        .ok_or_else(|| format!("'{name}': the subjects are threads, slot-tasks, raw-tasks"))
}

fn scale_shape(name: &str) -> Result<scale::Shape, String> {
    scale::Shape::from_name(name)
        .ok_or_else(|| format!("'{name}': the shapes are flat, deep, hand-made"))
}

/// How much work each case does.
struct Counts {
    hops: usize,
    signals: usize,
    tree: usize,
    deletes: usize,
    memory_threads: usize,
    memory_tasks: usize,
    restarts: usize,
    /// The tree sizes of case 8, the first the others' baseline.
    scale: [usize; 3],
    broadcast: usize,
    round_trips: usize,
    small_frames: usize,
    large_frames: usize,
    repetitions: usize,
}

const FULL: Counts = Counts {
    hops: 1_000_000,
    signals: 1_000_000,
    tree: 10_000,
    deletes: 100_000,
    memory_threads: 100_000,
    memory_tasks: 1_000_000,
    restarts: 10_000,
    scale: [10_000, 100_000, 1_000_000],
    broadcast: 10_000,
    round_trips: 2_000,
    small_frames: 20_000,
    large_frames: 50,
    repetitions: 5,
};

const QUICK: Counts = Counts {
    hops: 10_000,
    signals: 10_000,
    tree: 500,
    deletes: 2_000,
    memory_threads: 1_000,
    memory_tasks: 10_000,
    restarts: 200,
    scale: [500, 1_000, 2_000],
    broadcast: 500,
    round_trips: 100,
    small_frames: 1_000,
    large_frames: 4,
    repetitions: 1,
};

fn main() {
    let cli = Cli::parse();
    if cli.echo_worker {
        process::echo_worker();
        return;
    }
    if let Some(subject) = cli.memory {
        let flavour = cli.flavour.expect("clap requires --flavour with --memory");
        let count = cli.count.expect("clap requires --count with --memory");
        println!("{}", memory::measure(flavour, subject, count));
        std::process::exit(0);
    }
    if let Some(shape) = cli.scale {
        let flavour = cli.flavour.expect("clap requires --flavour with --scale");
        let count = cli.count.expect("clap requires --count with --scale");
        let tree = scale::tree(flavour, shape, count);
        println!("{} {} {}", tree.start_ns, tree.stop_ns, tree.bytes);
        return;
    }
    let quick = cli.quick;
    let counts = if quick { QUICK } else { FULL };
    let only = cli.case.as_deref();
    if cli.rows_only {
        let flavour = cli
            .flavour
            .expect("clap requires --flavour with --rows-only");
        if cli.one_core {
            placement::pin_to_one_core();
        }
        print_rows(&rows_for(flavour, &counts, only, cli.one_core));
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "task-thread benchmarks: {cores} cores, median of {} after a warm-up",
        counts.repetitions
    );
    let flavours = match cli.flavour {
        Some(flavour) => vec![flavour],
        None => Flavour::ALL.to_vec(),
    };
    let cases: Vec<&str> = match only {
        Some(case) => vec![case],
        None => CASES.to_vec(),
    };
    for flavour in flavours {
        println!("\n### {}\n", flavour.name());
        println!("| case | ours | baseline | ratio | unit | baseline is |");
        println!("| --- | ---: | ---: | ---: | --- | --- |");
        for case in &cases {
            print!("{}", rerun::case_in_child(flavour, case, quick, false));
            if *case == "3" && flavour != Flavour::TokioCurrentThread {
                print!("{}", rerun::case_in_child(flavour, case, quick, true));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::Cli;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// What `case_in_child` and `measure_in_child` pass when the bench re-runs itself.
    #[test]
    fn the_bench_parses_its_own_re_runs() {
        let rows = Cli::try_parse_from([
            "task-thread-bench",
            "--case",
            "4",
            "--flavour",
            "smol",
            "--rows-only",
            "--quick",
        ])
        .unwrap();
        assert!(rows.rows_only && rows.quick && !rows.one_core);
        assert_eq!(rows.case.as_deref(), Some("4"));
        assert_eq!(rows.flavour.map(|f| f.to_string()).as_deref(), Some("smol"));

        let memory = Cli::try_parse_from([
            "task-thread-bench",
            "--memory",
            "slot-tasks",
            "--flavour",
            "tokio-current-thread",
            "--count",
            "1000",
        ])
        .unwrap();
        assert!(matches!(
            memory.memory,
            Some(crate::memory::Subject::SlotTasks)
        ));
        assert_eq!(memory.count, Some(1000));
    }

    #[test]
    fn unknown_cases_and_incomplete_re_runs_are_refused() {
        for args in [
            &["--case", "10"][..],
            &["--count", "10"],
            &["--scale", "ring", "--flavour", "smol", "--count", "1"],
            &[
                "--scale",
                "flat",
                "--memory",
                "threads",
                "--flavour",
                "smol",
                "--count",
                "1",
            ],
            &["--rows-only"],
            &["--one-core", "--case", "3", "--flavour", "smol"],
            &["--memory", "threads", "--flavour", "smol"],
            &["--memory", "heap", "--flavour", "smol", "--count", "1"],
        ] {
            let parsed = Cli::try_parse_from(
                std::iter::once("task-thread-bench").chain(args.iter().copied()),
            );
            assert!(parsed.is_err(), "{args:?} was accepted");
        }
    }
}
