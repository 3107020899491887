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
mod memory;
mod peers;
mod placement;
mod process;
mod raw;
mod rerun;
mod scale;
mod supervision;
mod tree;

use std::time::Duration;

use clap::Parser;
use task_thread::{Backend, Flavour};

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

/// One row of a table.
struct Row {
    case: String,
    ours: f64,
    baseline: f64,
    unit: &'static str,
    baseline_name: &'static str,
}

/// The median of `repetitions` runs of `run`, after one warm-up run.
fn median<T: Copy>(
    repetitions: usize,
    mut run: impl FnMut() -> T,
    key: impl Fn(&T) -> Duration,
) -> T {
    run();
    let mut runs: Vec<T> = (0..repetitions).map(|_| run()).collect();
    runs.sort_by_key(&key);
    runs[runs.len() / 2]
}

/// The medians of `repetitions` paired runs, after one warm-up pair.
fn median_of_pairs(
    repetitions: usize,
    mut run: impl FnMut() -> (Duration, Duration),
) -> (Duration, Duration) {
    run();
    let (mut ours, mut baseline): (Vec<_>, Vec<_>) = (0..repetitions).map(|_| run()).unzip();
    ours.sort();
    baseline.sort();
    (ours[ours.len() / 2], baseline[baseline.len() / 2])
}

fn per_op_ns(duration: Duration, n: usize) -> f64 {
    duration.as_nanos() as f64 / n as f64
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn paired(
    counts: &Counts,
    n: usize,
    ours: impl Fn(usize) -> Duration,
    baseline: impl Fn(usize) -> Duration,
) -> (f64, f64) {
    // Alternated, ours then the baseline, so that a slow stretch of the machine (this is a
    // shared, virtualised one) weighs on both alike.
    let (ours, baseline) = median_of_pairs(counts.repetitions, || (ours(n), baseline(n)));
    (per_op_ns(ours, n), per_op_ns(baseline, n))
}

/// The cases, as `--case` names them.
const CASES: [&str; 9] = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// A case timed per operation, ours alternating with its baseline.
struct Paired {
    /// The case's number, as `--case` selects it.
    case: &'static str,
    title: String,
    n: usize,
    ours: fn(Flavour, usize) -> Duration,
    baseline: fn(Flavour, usize) -> Duration,
    unit: &'static str,
    baseline_name: &'static str,
}

fn paired_cases(c: &Counts) -> [Paired; 10] {
    [
        Paired {
            case: "1",
            title: format!("1. reschedule hop ({} re_schedule)", c.hops),
            n: c.hops,
            ours: cases::reschedule_hops,
            baseline: cases::raw_spawn_hops,
            unit: "ns/hop",
            baseline_name: "raw spawn-successor",
        },
        Paired {
            case: "2",
            title: format!("2a. Task form run ({} runs)", c.hops),
            n: c.hops,
            ours: cases::task_form_runs,
            baseline: cases::raw_self_waking_loop,
            unit: "ns/run",
            baseline_name: "raw loop + self-waking yield",
        },
        Paired {
            case: "2",
            title: format!("2b. Task form run ({} runs)", c.hops),
            n: c.hops,
            ours: cases::task_form_runs,
            baseline: cases::raw_yield_loop,
            unit: "ns/run",
            baseline_name: "raw loop + the runtime's yield_now",
        },
        Paired {
            case: "2",
            title: format!("2c. Task form run ({} runs)", c.hops),
            n: c.hops,
            ours: cases::task_form_runs,
            baseline: guarded_loop::guarded_loop,
            unit: "ns/run",
            baseline_name: "raw loop + a slot's guarantees (the floor)",
        },
        Paired {
            case: "3",
            title: format!("3a. parent -> child signal ({})", c.signals),
            n: c.signals,
            ours: cases::parent_to_child,
            baseline: cases::raw_channel,
            unit: "ns/signal",
            baseline_name: "raw bounded(100) channel",
        },
        Paired {
            case: "3",
            title: format!("3b. child -> parent signal ({})", c.signals),
            n: c.signals,
            ours: cases::child_to_parent,
            baseline: cases::raw_channel,
            unit: "ns/signal",
            baseline_name: "raw bounded(100) channel",
        },
        Paired {
            case: "5",
            title: format!("5. delete a sleeping task ({})", c.deletes),
            n: c.deletes,
            ours: cases::delete_sleeping,
            baseline: cases::raw_cancel_sleeping,
            unit: "ns/task",
            baseline_name: "raw cancel + await",
        },
        Paired {
            case: "9",
            title: format!("9a. worker process round trip, 16 B ({})", c.round_trips),
            n: c.round_trips,
            ours: |flavour, n| process::through_tree(flavour, n, process::SMALL, 1),
            baseline: |flavour, n| process::raw_pipe(flavour, n, process::SMALL, 1),
            unit: "ns/round trip",
            baseline_name: "raw pipe, same worker",
        },
        Paired {
            case: "9",
            title: format!(
                "9b. worker process stream, 16 B frames ({})",
                c.small_frames
            ),
            n: c.small_frames,
            ours: |flavour, n| process::through_tree(flavour, n, process::SMALL, process::WINDOW),
            baseline: |flavour, n| process::raw_pipe(flavour, n, process::SMALL, process::WINDOW),
            unit: "ns/frame",
            baseline_name: "raw pipe, same worker",
        },
        Paired {
            case: "9",
            title: format!(
                "9c. worker process stream, 1 MiB frames ({})",
                c.large_frames
            ),
            n: c.large_frames,
            ours: |flavour, n| process::through_tree(flavour, n, process::LARGE, process::WINDOW),
            baseline: |flavour, n| process::raw_pipe(flavour, n, process::LARGE, process::WINDOW),
            unit: "ns/frame",
            baseline_name: "raw pipe, same worker",
        },
    ]
}

/// A paired case's title with where case 3's two ends ran: in a process pinned to one core
/// (3a, 3b become 3c, 3d), or with the share of the signals taken on another worker than
/// the sender's, ours and the raw channel's, on a runtime of several workers.
fn placed_title(title: String, flavour: Flavour, one_core: bool) -> String {
    let shares = (placement::OURS.apart_share(), placement::RAW.apart_share());
    let (Some(ours), Some(raw)) = shares else {
        return title;
    };
    if one_core {
        let title = title.replacen("3a.", "3c.", 1).replacen("3b.", "3d.", 1);
        return format!("{title}, one worker (the process on one core)");
    }
    if flavour == Flavour::TokioCurrentThread {
        return title;
    }
    format!(
        "{title}, taken on another worker: ours {:.0}%, raw {:.0}%",
        ours * 100.0,
        raw * 100.0
    )
}

fn rows_for(flavour: Flavour, counts: &Counts, only: Option<&str>, one_core: bool) -> Vec<Row> {
    let wants = |case: &str| only.is_none_or(|only| only == case);
    let mut rows = Vec::new();
    let mut push = |case: String, (ours, baseline): (f64, f64), unit, baseline_name| {
        rows.push(Row {
            case,
            ours,
            baseline,
            unit,
            baseline_name,
        })
    };
    let c = counts;
    for case in paired_cases(c).into_iter().filter(|case| wants(case.case)) {
        placement::forget_samples();
        let figures = paired(
            c,
            case.n,
            |n| (case.ours)(flavour, n),
            |n| (case.baseline)(flavour, n),
        );
        let title = placed_title(case.title, flavour, one_core);
        push(title, figures, case.unit, case.baseline_name);
    }
    if wants("4") {
        let tree_ours = median(
            c.repetitions,
            || tree::threads(flavour, c.tree),
            |t| t.0 + t.1,
        );
        let hand_made = median(
            c.repetitions,
            || tree::hand_made(flavour, c.tree, tree::HandMadeStart::Spawned),
            |t| t.0 + t.1,
        );
        let hand_made_waiting = median(
            c.repetitions,
            || tree::hand_made(flavour, c.tree, tree::HandMadeStart::Waiting),
            |t| t.0 + t.1,
        );
        let tree_base = median(
            c.repetitions,
            || tree::baseline(flavour, c.tree),
            |t| t.0 + t.1,
        );
        let tokio = matches!(
            flavour,
            Flavour::TokioMultiThread | Flavour::TokioCurrentThread
        );
        let tree_base_name = if tokio {
            "TaskTracker + CancellationToken"
        } else {
            "raw sleeping tasks"
        };
        // Every baseline, the fair one first; the actors on tokio, for information.
        let mut baselines = vec![
            (
                ("4a", "4b"),
                String::new(),
                "hand-made tree: queues, token, registry",
                hand_made,
            ),
            (
                ("4i", "4j"),
                String::new(),
                "hand-made tree, its tasks waiting when the start ends",
                hand_made_waiting,
            ),
            (("4g", "4h"), String::new(), tree_base_name, tree_base),
        ];
        if tokio {
            let [kameo, ractor] = median(
                c.repetitions,
                || tree::actors(flavour, c.tree),
                |t| t[0].0 + t[0].1,
            );
            baselines.push((("4c", "4d"), " vs kameo".into(), "kameo actors", kameo));
            baselines.push((("4e", "4f"), " vs ractor".into(), "ractor actors", ractor));
        }
        for ((start, stop), versus, name, (base_start, base_stop)) in baselines {
            push(
                format!("{start}. tree start{versus}, {} children", c.tree),
                (ms(tree_ours.0), ms(base_start)),
                "ms",
                name,
            );
            push(
                format!(
                    "{stop}. tree terminate -> join{versus}, {} children",
                    c.tree
                ),
                (ms(tree_ours.1), ms(base_stop)),
                "ms",
                name,
            );
        }
    }
    if wants("7") {
        // Rotated after a warm-up round, each going first in turn: the first of a round
        // grows the heap that the next finds ready (measured: 1.5-2x on the start).
        use supervision::Start;
        const ORDER: [Start; 3] = [
            Start::Supervised,
            Start::Plain,
            Start::PlainKeepingFactories,
        ];
        let rounds: Vec<[(Duration, Duration); 3]> = (0..=c.repetitions)
            .map(|n| {
                let mut round = [(Duration::ZERO, Duration::ZERO); 3];
                for k in 0..ORDER.len() {
                    let which = (n + k) % ORDER.len();
                    round[which] = supervision::tree(flavour, c.tree, ORDER[which]);
                }
                round
            })
            .skip(1)
            .collect();
        let middle = |which: usize, stop: bool| {
            let mut figures: Vec<Duration> = rounds
                .iter()
                .map(|round| if stop { round[which].1 } else { round[which].0 })
                .collect();
            figures.sort();
            figures[figures.len() / 2]
        };
        let [supervised, plain, keeping] =
            [0, 1, 2].map(|which| (middle(which, false), middle(which, true)));
        push(
            format!("7a. supervised tree start, {} children", c.tree),
            (ms(supervised.0), ms(plain.0)),
            "ms",
            "the same tree, unsupervised",
        );
        push(
            format!("7b. supervised tree terminate -> join, {} children", c.tree),
            (ms(supervised.1), ms(plain.1)),
            "ms",
            "the same tree, unsupervised",
        );
        let floor = "the same tree, unsupervised, keeping a factory per child";
        push(
            format!("7d. supervised tree start, {} children", c.tree),
            (ms(supervised.0), ms(keeping.0)),
            "ms",
            floor,
        );
        push(
            format!("7e. supervised tree terminate -> join, {} children", c.tree),
            (ms(supervised.1), ms(keeping.1)),
            "ms",
            floor,
        );
        let figures = paired(
            c,
            c.restarts,
            |n| supervision::restarts(flavour, n, true),
            |n| supervision::restarts(flavour, n, false),
        );
        push(
            format!("7c. restart ({} restarts)", c.restarts),
            figures,
            "ns/restart",
            "end + fresh spawn_child from on_child_ended",
        );
    }
    if wants("8") {
        scale::rows(flavour, c, &mut push);
    }
    if wants("6") {
        let threads = rerun::measure_in_child(flavour, memory::Subject::Threads, c.memory_threads);
        let raw_small =
            rerun::measure_in_child(flavour, memory::Subject::RawTasks, c.memory_threads);
        push(
            format!("6a. memory per idle thread ({})", c.memory_threads),
            (threads, raw_small),
            "bytes",
            "raw sleeping task",
        );
        let floor =
            rerun::measure_in_child(flavour, memory::Subject::ThreadFloor, c.memory_threads);
        push(
            format!("6c. memory per idle thread ({})", c.memory_threads),
            (threads, floor),
            "bytes",
            "its floor: two raw tasks, boxed, one in a boxed sleep",
        );
        let slot_tasks =
            rerun::measure_in_child(flavour, memory::Subject::SlotTasks, c.memory_tasks);
        let raw_tasks = rerun::measure_in_child(flavour, memory::Subject::RawTasks, c.memory_tasks);
        push(
            format!("6b. memory per sleeping task ({})", c.memory_tasks),
            (slot_tasks, raw_tasks),
            "bytes",
            "raw sleeping task",
        );
    }
    rows
}

fn print_rows(rows: &[Row]) {
    for row in rows {
        println!(
            "| {} | {:.1} | {:.1} | {:.2} | {} | {} |",
            row.case,
            row.ours,
            row.baseline,
            row.ours / row.baseline,
            row.unit,
            row.baseline_name
        );
    }
}

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
