//! Each check of the `Spawner` contract fails, naming its part, on a backend that breaks
//! that part on purpose (`task_thread_conformance::broken_backends`), over tokio's
//! current-thread runtime, where every task shares one worker.

use task_thread::{Backend, Runtime};
use task_thread_conformance::broken_backends::{Lingering, RepollsAtOnce, ReportsCancelEarly};
use task_thread_conformance::contract::{self, Breach, Part};
use task_thread_tokio::Tokio;

/// The breach a check finds on the runtime `broken` makes of tokio's.
fn check_on<F, Fut>(broken: fn(&Runtime) -> Runtime, check: F) -> Result<(), Breach>
where
    F: FnOnce(Runtime) -> Fut,
    Fut: std::future::Future<Output = Result<(), Breach>>,
{
    Tokio::current_thread().block_on(|rt| check(broken(&rt)))
}

fn part_of(found: Result<(), Breach>) -> Part {
    found.expect_err("the check finds the breach").part
}

#[test]
fn a_plain_self_wake_on_an_executor_that_polls_again_at_once_breaks_defer_wake() {
    let found = check_on(
        RepollsAtOnce::with_a_self_wake,
        contract::a_rescheduling_task_lets_others_run,
    );
    assert_eq!(part_of(found), Part::DeferWake);
}

#[test]
fn a_wake_through_the_queue_keeps_the_contract_on_the_same_executor() {
    let found = check_on(
        RepollsAtOnce::waking_through_the_queue,
        contract::a_rescheduling_task_lets_others_run,
    );
    assert_eq!(found, Ok(()));
}

#[test]
fn a_cancel_reported_before_the_drop_breaks_the_end_after_drop() {
    let found = check_on(
        ReportsCancelEarly::wrap,
        contract::the_end_of_a_task_is_seen_after_its_destructors_ran,
    );
    assert_eq!(part_of(found), Part::EndAfterDrop);
}

#[test]
fn tasks_outliving_block_on_break_its_end() {
    let found = contract::block_on_leaves_no_task_behind(&Lingering(Tokio::current_thread()));
    assert_eq!(part_of(found), Part::BlockOnEnd);
}

/// The message a user reads names the part in plain words.
#[test]
fn a_breach_says_which_part_is_broken() {
    let found = check_on(
        RepollsAtOnce::with_a_self_wake,
        contract::a_rescheduling_task_lets_others_run,
    );
    let message = found.unwrap_err().to_string();
    assert!(
        message.starts_with("the backend breaks the Spawner contract: Spawner::defer_wake must"),
        "{message}"
    );
    assert!(message.contains("ran 10000 times in a row"), "{message}");
}
