//! The tables' rows: each case on one flavour, ours against its baseline, as `--case`
//! selects them, and their printing.

use std::time::Duration;

use task_thread::Flavour;

use crate::measure::{median, ms, paired, Row};
use crate::{
    cases, guarded_loop, memory, placement, process, rerun, scale, supervision, tree, Counts,
};

/// The cases, as `--case` names them.
pub const CASES: [&str; 9] = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

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

pub fn rows_for(flavour: Flavour, counts: &Counts, only: Option<&str>, one_core: bool) -> Vec<Row> {
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
        use crate::supervision::Start;
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
        // Each figure in a process of its own.
        let resident = |subject, n| rerun::measure_in_child(flavour, subject, n);
        let (few, many) = (c.memory_threads, c.memory_tasks);
        let threads = resident(memory::Subject::Threads, few);
        let raw_task = "raw sleeping task";
        let title = format!("6a. memory per idle thread ({few})");
        push(
            title,
            (threads, resident(memory::Subject::RawTasks, few)),
            "bytes",
            raw_task,
        );
        let title = format!("6c. memory per idle thread ({few})");
        let floor = resident(memory::Subject::ThreadFloor, few);
        let floor_is = "its floor: two raw tasks, boxed, one in a boxed sleep";
        push(title, (threads, floor), "bytes", floor_is);
        let title = format!("6b. memory per sleeping task ({many})");
        let tasks = resident(memory::Subject::SlotTasks, many);
        push(
            title,
            (tasks, resident(memory::Subject::RawTasks, many)),
            "bytes",
            raw_task,
        );
    }
    rows
}

pub fn print_rows(rows: &[Row]) {
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
