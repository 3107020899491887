//! Supervision: a pool of flaky workers. Each worker does a job every `--every` seconds
//! and fails at random (a panic in its task, `--failure-rate` of the jobs; `--seed N`
//! draws the same failures every run). The pool restarts a failed worker after a growing
//! wait; a worker that fails more than 3 times in 5 seconds makes the pool give up, and
//! `main` then restarts the whole pool. At Ctrl-C (or after `--seconds N`) the program
//! logs the tree's report: every thread, how it ended, and each restart with its cause.
//!
//! ```text
//! cargo run --example supervised -- --seconds 10 --failure-rate 0.2 --seed 7
//! ```
mod support;

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use task_thread::{
    Backend, Backoff, BoxError, ChildRef, Flow, Intensity, LeafThread, Restart, RestartDecision,
    RestartPolicy, Strategy, TaskThread, ThreadCx, ThreadEnd,
};

/// What every worker is told.
#[derive(Clone, Copy)]
struct Jobs {
    every: Duration,
    failure_rate: f64,
    seed: u64,
}

/// The root: supervises the pool, and restarts it when it gives up.
struct Main {
    workers: u64,
    jobs: Jobs,
    stop_after: Option<Duration>,
}

impl TaskThread for Main {
    type Signal = ();
    type Output = ();
    type ChildOutput = ();

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let policy = RestartPolicy {
            intensity: Intensity {
                max_restarts: 10,
                within: Duration::from_secs(60),
            },
            ..RestartPolicy::default()
        };
        let (workers, jobs) = (self.workers, self.jobs);
        let pools = AtomicU64::new(0);
        let pool = move || Pool {
            workers,
            jobs,
            // Each pool draws other failures than the one before.
            incarnation: pools.fetch_add(1, Ordering::Relaxed),
        };
        cx.spawn_supervised(Strategy::OneForOne, policy, pool)
            .await?;
        if let Some(after) = self.stop_after {
            cx.stop_after(after).await?;
        }
        tracing::info!("main entered: {} workers", self.workers);
        Ok(())
    }

    async fn on_child_ended(
        &mut self,
        child: &ChildRef,
        end: ThreadEnd,
        _: &ThreadCx<Self>,
    ) -> Flow {
        if let Some(RestartDecision::Restart { after, .. }) = child.restart() {
            tracing::warn!("{} ended ({end}): a new pool in {after:?}", child.id());
        }
        Flow::Continue
    }
}

/// Supervises the workers, one for one.
struct Pool {
    workers: u64,
    jobs: Jobs,
    incarnation: u64,
}

impl TaskThread for Pool {
    type Signal = ();
    type Output = ();
    type ChildOutput = u64; // a job done

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let policy = RestartPolicy {
            restart: Restart::OnFailure,
            intensity: Intensity {
                max_restarts: 3,
                within: Duration::from_secs(5),
            },
            backoff: Backoff {
                min: Duration::from_millis(100),
                max: Duration::from_secs(2),
                ..Backoff::default()
            },
        };
        for number in 1..=self.workers {
            let jobs = self.jobs;
            let pool = self.incarnation;
            let incarnations = Arc::new(AtomicU64::new(0));
            let worker = move || Worker {
                number,
                jobs,
                // One seeded generator per worker incarnation: the same run every time.
                draws: fastrand::Rng::with_seed(
                    jobs.seed
                        ^ (pool << 48)
                        ^ (number << 32)
                        ^ incarnations.fetch_add(1, Ordering::Relaxed),
                ),
            };
            cx.spawn_supervised(Strategy::OneForOne, policy.clone(), worker)
                .await?;
        }
        Ok(())
    }

    async fn on_child_signal(&mut self, job: u64, child: &ChildRef, _: &ThreadCx<Self>) -> Flow {
        tracing::info!("{} did job {job}", child.id());
        Flow::Continue
    }

    async fn on_child_ended(
        &mut self,
        child: &ChildRef,
        end: ThreadEnd,
        _: &ThreadCx<Self>,
    ) -> Flow {
        match child.restart() {
            Some(RestartDecision::Restart { attempt, after }) => {
                tracing::warn!("{} {end}: restart {attempt} in {after:?}", child.id())
            }
            Some(RestartDecision::Escalate) => {
                tracing::error!("{} keeps failing: the pool gives up", child.id())
            }
            _ => {}
        }
        Flow::Continue
    }
}

/// Does a job every so often; some jobs fail.
struct Worker {
    number: u64,
    jobs: Jobs,
    draws: fastrand::Rng,
}

impl LeafThread for Worker {
    type Signal = ();
    type Output = u64;

    fn id(&self) -> String {
        format!("worker-{}", self.number)
    }

    async fn enter(&mut self, cx: &ThreadCx<Self>) -> Result<(), BoxError> {
        let Jobs {
            every,
            failure_rate,
            ..
        } = self.jobs;
        // The draws for this incarnation's jobs, made now: the task function is called
        // for each job.
        let draws: Vec<f64> = (0..10_000).map(|_| self.draws.f64()).collect();
        let mut job = 0;
        cx.slot("work")
            .re_create_fn(move |task| {
                job += 1;
                let (job, failing) = (job, draws[job % draws.len()] < failure_rate);
                async move {
                    task.sleep(every).await;
                    if failing {
                        panic!("job {job}: unlucky draw");
                    }
                    let _ = task.thread().send_to_parent(job as u64).await;
                    task.re_schedule();
                }
            })
            .await?;
        Ok(())
    }
}

/// A pool of workers that fail at random, under supervision.
#[derive(Parser)]
struct Cli {
    /// Number of workers in the pool
    #[arg(long, value_name = "N", default_value = "3")]
    workers: u64,
    /// Seconds between a worker's jobs
    #[arg(long, value_name = "S", default_value = "0.5", value_parser = support::seconds)]
    every: Duration,
    /// The share of jobs that fail, from 0 to 1
    #[arg(long, value_name = "P", default_value = "0.1")]
    failure_rate: f64,
    /// Seeds the draws: the same seed, the same failures
    #[arg(long, value_name = "N", default_value = "1")]
    seed: u64,
    #[command(flatten)]
    common: support::Common,
}

fn main() -> ExitCode {
    let Cli {
        workers,
        every,
        failure_rate,
        seed,
        common,
    } = Cli::parse();
    support::init_logging();
    let jobs = Jobs {
        every,
        failure_rate,
        seed,
    };
    // Logs the tree's report at the end.
    common.backend.run(Main {
        workers,
        jobs,
        stop_after: common.seconds,
    })
}
