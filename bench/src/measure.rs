//! How each figure is taken: the median of repetitions after a warm-up, ours alternating
//! with its baseline, and the units the tables print.

use std::time::Duration;

use crate::Counts;

/// One row of a table.
pub struct Row {
    pub case: String,
    pub ours: f64,
    pub baseline: f64,
    pub unit: &'static str,
    pub baseline_name: &'static str,
}

/// The median of `repetitions` runs of `run`, after one warm-up run.
pub fn median<T: Copy>(
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

pub fn per_op_ns(duration: Duration, n: usize) -> f64 {
    duration.as_nanos() as f64 / n as f64
}

pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

pub fn paired(
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
