//! The conformance suite of task-thread: every behaviour of the library, written once and
//! run against any [`Backend`].
//!
//! # Running it against a backend
//! A dev-dependency, and one integration-test file per backend, one line in it:
//!
//! ```toml
//! [dev-dependencies]
//! task-thread-conformance = "0.1"
//! ```
//!
//! ```text
//! // tests/conformance.rs
//! task_thread_conformance::conformance_suite!(my_executor::MyExecutor::new());
//! ```
//!
//! [`conformance_suite!`] expands to one `#[test]` per case, each starting a fresh runtime
//! with [`Backend::block_on`], so every backend runs the same tests under the same names.
//! A case that hangs fails after [`CASE_TIMEOUT`] instead of hanging the run.
//!
//! Before its first case, each test process checks that the backend keeps the `Spawner`
//! contract ([`contract`]): if it does not, every case fails with a sentence naming the
//! part broken, rather than hanging or failing far from the cause. The checks are also
//! cases of their own, `contract::*`.
//!
//! The cases are plain `async fn(Runtime)` in the modules below, readable as the
//! specification of each behaviour.
#![forbid(unsafe_code)]

pub mod ask;
pub mod blocking;
pub mod broken_backends;
pub mod contract;
pub mod cooperative;
pub mod counters;
pub mod crowds;
pub mod endings;
pub mod exit_codes;
pub mod family;
pub mod fixtures;
pub mod forced;
pub mod library_children;
pub mod logs;
pub mod overflow_logs;
pub mod portability;
/// The README's portable library, verbatim (see `portability`).
pub mod portable;
pub mod process_endings;
pub mod process_requests;
pub mod processes;
pub mod properties;
pub mod runaway;
pub mod runtime_drops;
pub mod runtimes;
pub mod servers;
pub mod slots;
pub mod snapshots;
pub mod spawner;
pub mod starts;
pub mod supervised_tasks;
pub mod supervision;
pub mod thread_tasks;
pub mod threads;
pub mod tree;
pub mod waiting_senders;

use std::future::Future;
use std::time::Duration;

use futures::future::{select, Either};
use task_thread::{Backend, Runtime, Spawner};

/// How long one case may run before it is failed as hanging. A guard, not a measurement.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs one case on a fresh runtime of `backend`, failing it if it hangs, or if the
/// backend breaks the `Spawner` contract.
pub fn run_case<B, F, Fut>(backend: &B, name: &str, case: F)
where
    B: Backend,
    F: FnOnce(Runtime) -> Fut,
    Fut: Future<Output = ()>,
{
    logs::capture();
    if let Err(breach) = contract_holds(backend) {
        panic!("{breach}\n(every case fails until the contract holds: run the contract::* cases first)");
    }
    on_a_fresh_runtime(backend, name, case);
}

/// Runs one check of the `Spawner` contract on a fresh runtime of `backend`.
pub fn run_contract_check<B, F, Fut>(backend: &B, name: &str, check: F)
where
    B: Backend,
    F: FnOnce(Runtime) -> Fut,
    Fut: Future<Output = Result<(), contract::Breach>>,
{
    logs::capture();
    on_a_fresh_runtime(backend, name, |rt| async move {
        if let Err(breach) = check(rt).await {
            panic!("{breach}");
        }
    });
}

/// The contract's checks, run once per backend and process: their first breach.
fn contract_holds<B: Backend>(backend: &B) -> Result<(), contract::Breach> {
    type Checked = Vec<(&'static str, Result<(), contract::Breach>)>;
    static CHECKED: std::sync::Mutex<Checked> = std::sync::Mutex::new(Vec::new());
    // Held while checking: the other cases of the process wait for the verdict.
    let mut checked = CHECKED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, verdict)) = checked.iter().find(|(name, _)| *name == backend.name()) {
        return verdict.clone();
    }
    let verdict = check_the_contract(backend);
    checked.push((backend.name(), verdict.clone()));
    verdict
}

fn check_the_contract<B: Backend>(backend: &B) -> Result<(), contract::Breach> {
    let mut verdict = Ok(());
    on_a_fresh_runtime(backend, "the Spawner contract", |rt| async {
        verdict = contract::checks_on_a_runtime(rt).await;
    });
    verdict?;
    contract::block_on_leaves_no_task_behind(backend)
}

/// Runs `case` on a fresh runtime of `backend`, failing it if it hangs.
fn on_a_fresh_runtime<B, F, Fut>(backend: &B, name: &str, case: F)
where
    B: Backend,
    F: FnOnce(Runtime) -> Fut,
    Fut: Future<Output = ()>,
{
    tracing::info!(
        backend = backend.name(),
        case = name,
        "conformance case starts"
    );
    // A case that blocks its runtime's thread (a deadlock) stops the timer below too: this
    // one, on a thread of its own, ends the process with the case's name rather than let
    // the suite hang.
    let (finished, watching) = std::sync::mpsc::channel::<()>();
    let hung = format!(
        "case {name} on {} is hung: aborting the process",
        backend.name()
    );
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            watching.recv_timeout(CASE_TIMEOUT + Duration::from_secs(30))
        {
            eprintln!("{hung}");
            std::process::abort();
        }
    });
    let _finished = finished;
    backend.block_on(|rt| async move {
        let guard = rt.sleep(CASE_TIMEOUT);
        let case = std::pin::pin!(case(rt.clone()));
        if let Either::Right(_) = select(case, guard).await {
            panic!(
                "case {name} did not finish within {CASE_TIMEOUT:?} on {}: if other cases \
                 hang too, suspect the backend's defer_wake or its cancel (see the \
                 contract::* cases and core's contract page)",
                rt.name()
            );
        }
    });
}

/// Expands the whole suite, one `#[test]` per case, for the backend expression given.
#[macro_export]
macro_rules! conformance_suite {
    ($backend:expr) => {
        $crate::__contract_cases! { $backend;
            a_rescheduling_task_lets_others_run,
            a_panic_while_a_task_is_dropped_harms_nothing,
            the_end_of_a_task_is_seen_after_its_destructors_ran,
        }

        #[test]
        fn run_returns_the_exit_status_of_the_root() {
            $crate::exit_codes::run_returns_the_exit_status_of_the_root(&$backend);
        }

        #[test]
        fn random_trees_lose_no_signal_and_leave_nothing_running() {
            $crate::properties::random_trees_lose_no_signal_and_leave_nothing_running(&$backend);
        }

        $crate::__cases! { $backend;
            spawner::spawn_returns_the_value,
            blocking::a_blocking_thread_talks_with_its_parent_and_stops_with_the_tree,
            blocking::a_blocking_handler_that_fails_or_panics_fails_its_thread,
            blocking::a_blocking_call_that_never_returns_leaves_its_thread_forced,
            blocking::signals_the_blocking_handler_never_took_are_handed_back,
            blocking::an_output_nobody_takes_comes_back_to_the_blocking_handler,
            blocking::signals_to_a_closed_blocking_handler_wait_in_the_bounded_queue,
            spawner::cancel_is_reported_as_cancelled,
            spawner::panic_is_reported_with_its_message,
            spawner::dropping_a_handle_detaches_the_task,
            spawner::a_detached_spawn_runs_to_its_end_and_is_dropped,
            spawner::cancel_runs_destructors_before_await_returns,
            spawner::cancel_before_first_poll_runs_destructors,
            spawner::sleep_waits_at_least_its_duration,
            spawner::a_sleeping_task_can_be_cancelled,
            spawner::yield_lets_other_tasks_run,
            spawner::shutdown_signal_reaches_every_listener,
            slots::re_create_starts_a_task_in_an_empty_slot,
            slots::re_create_ends_the_old_task_before_the_new_starts,
            slots::re_create_ends_an_old_task_of_the_other_form,
            slots::re_schedule_keeps_the_slot_current,
            slots::a_stale_context_cannot_reschedule,
            slots::delete_empties_a_live_slot,
            slots::delete_is_a_no_op_on_empty_and_finished_slots,
            slots::delete_before_start_never_reaches_the_caller,
            slots::delete_of_a_stubborn_task_reports_a_timeout,
            slots::delete_all_names_the_stubborn_task_not_an_empty_slot,
            slots::re_create_does_not_start_when_the_old_task_is_stubborn,
            slots::both_forms_reschedule_alike_until_stop,
            slots::both_forms_are_cancellable_between_runs,
            slots::a_panicking_task_is_contained,
            slots::live_count_is_zero_after_delete_all,
            slots::slots_are_found_by_name_among_few_or_many,
            slots::concurrent_operations_on_a_slot_run_one_at_a_time,
            slots::a_task_function_that_panics_is_contained,
            slots::an_ended_task_releases_its_function_before_it_counts_as_gone,
            slots::a_task_function_may_look_at_its_own_slot,
            runtime_drops::a_refused_spawn_is_an_error_and_leaves_the_slot_empty,
            runtime_drops::a_task_that_ends_while_spawned_leaves_the_slot_empty,
            runtime_drops::a_task_its_runtime_drops_leaves_the_slot_empty,
            runtime_drops::a_task_started_then_dropped_while_spawned_is_not_refused,
            slots::a_panic_while_a_task_is_dropped_is_contained,
            portability::portable_library_runs_here,
            threads::enter_runs_first_and_signals_keep_their_order,
            threads::a_handler_stop_ends_the_thread,
            threads::terminate_cascades_exit_first_then_children,
            threads::join_serves_every_waiter,
            threads::sending_to_an_ended_thread_hands_the_signal_back,
            threads::queued_signals_reach_the_undelivered_hook,
            threads::queued_child_signals_reach_the_undelivered_hook,
            threads::each_child_signal_comes_with_its_sender,
            threads::a_signal_queued_behind_a_taken_one_keeps_its_sender,
            threads::a_stopped_child_leaves_the_registry,
            threads::child_signals_reach_the_parent_in_order,
            threads::the_shutdown_budget_forces_a_hanging_exit,
            threads::a_failure_is_contained_and_reported_to_the_parent,
            threads::early_stops_and_racing_children_still_end_the_tree,
            threads::deep_and_wide_trees_start_and_terminate,
            threads::roots_end_on_shutdown_signals,
            starts::a_start_cut_short_terminates_the_thread,
            starts::a_handle_tells_its_parent,
            starts::a_failed_enter_is_reported_once_the_thread_has_shut_down,
            starts::a_dropped_run_terminates_its_root,
            thread_tasks::a_task_reaches_its_thread_in_both_forms,
            family::children_are_found_and_signalled_by_id_and_type,
            library_children::a_child_sends_its_own_type_and_its_parent_takes_it_converted,
            family::add_child_refuses_with_a_reason_and_leaves_no_orphan,
            runtime_drops::a_child_the_runtime_refuses_to_run_leaves_no_trace,
            family::full_queues_call_the_hook_then_apply_the_policy,
            overflow_logs::a_flood_of_full_queues_logs_a_line_a_second_and_a_hook_replaces_it,
            family::signals_taken_but_not_handled_count_against_the_capacity,
            family::a_sender_waiting_for_room_gets_its_signal_back_at_the_end,
            waiting_senders::a_handler_waiting_for_a_sender_that_waits_for_room_gets_its_signal,
            crowds::every_signal_arrives_once_and_in_order_under_contention,
            family::children_are_added_from_enter_handlers_and_tasks,
            family::refused_and_failed_children_are_reported,
            threads::a_hung_handler_or_a_failing_hook_cannot_block_the_end,
            threads::an_ended_tree_releases_everything_it_held,
            endings::a_task_failure_during_a_handler_outranks_its_stop,
            endings::a_signal_sent_after_terminate_is_never_handled,
            endings::no_task_starts_in_an_ended_thread,
            endings::a_panic_while_a_thread_is_dropped_is_contained,
            forced::a_thread_forced_by_an_ancestors_cascade_hands_its_queues_to_its_hooks,
            forced::a_thread_whose_task_its_runtime_drops_hands_its_queues_to_its_hooks,
            forced::a_thread_its_runtime_refuses_never_enters,
            forced::a_handler_panicking_as_it_is_dropped_loses_no_queued_signal,
            runtime_drops::a_tree_whose_tasks_its_runtime_drops_ends_and_is_released,
            ask::a_child_answers_outsiders_and_its_parent,
            ask::a_child_that_ends_while_a_request_is_queued_reads_as_ended,
            ask::a_request_to_a_thread_its_runtime_drops_reads_as_ended,
            ask::a_child_that_never_answers_times_out,
            ask::a_request_never_delivered_is_handed_back,
            ask::a_child_that_drops_the_reply_refuses,
            ask::a_child_that_fails_holding_a_request_reads_as_ended,
            cooperative::a_flushing_task_completes_and_its_last_message_reaches_the_parent,
            cooperative::a_task_ignoring_the_notice_is_cancelled_when_the_grace_is_over,
            cooperative::a_slot_cancelled_at_once_does_not_wait_for_the_grace,
            cooperative::both_task_forms_see_the_notice_without_plumbing,
            cooperative::every_sleep_through_a_task_context_ends_early,
            cooperative::a_handler_running_at_the_terminate_sees_the_notice,
            cooperative::a_cascade_of_slow_flushers_ends_within_the_root_budget,
            cooperative::a_task_failing_in_its_grace_fails_the_thread,
            cooperative::a_child_already_ending_ends_within_its_parents_deadline,
            supervision::a_child_that_fails_twice_is_restarted_under_its_id,
            supervision::a_child_failing_past_the_intensity_fails_its_parent,
            supervision::one_for_all_restarts_the_group_and_only_the_group,
            supervision::a_terminate_during_a_backoff_ends_the_tree_at_once,
            supervision::a_child_no_longer_supervised_is_not_restarted,
            supervised_tasks::a_supervised_task_survives_its_panics,
            supervised_tasks::a_supervised_task_failing_past_the_intensity_fails_its_thread,
            servers::tcp_server_admits_up_to_max_clients_and_closes_everything_at_exit,
            servers::tcp_server_retries_binding_until_the_port_is_free,
            servers::streaming_server_reassembles_every_blob_exactly,
            servers::streaming_server_ends_a_connection_announcing_more_than_max_frame,
            servers::silent_connections_are_closed_after_the_idle_timeout,
            servers::streaming_server_reports_a_frame_cut_short,
            servers::streaming_server_counts_empty_frames_instead_of_passing_them_on,
            servers::a_burst_of_connects_is_queued_whole_and_every_client_greeted,
            servers::a_server_logs_its_live_tree_on_a_timer,
            snapshots::a_snapshot_shows_the_live_tree_while_a_handler_is_busy,
            snapshots::a_snapshot_shows_entering_and_shutting_down_threads,
            snapshots::a_snapshot_of_a_deep_tree_is_taken_drawn_and_dropped,
            snapshots::dot_names_one_node_per_thread_whatever_the_ids,
            snapshots::display_escapes_control_characters,
            servers::a_server_refuses_to_log_its_tree_every_zero_seconds,
            counters::counters_match_the_traffic_of_a_scripted_exchange,
            counters::a_signal_waiting_for_room_is_not_counted_as_sent,
            runaway::a_task_rescheduling_without_waiting_is_warned_about_once,
            runaway::a_task_that_waits_between_runs_is_never_warned_about,
            runaway::the_runaway_warning_is_off_by_default,
        }
    };
}

/// Expands the worker process cases ([`processes`], [`process_endings`],
/// [`process_requests`]), one `#[test]` each, for the backend expression given and the
/// path of the suite's worker binary: in this package's own test files,
/// `env!("CARGO_BIN_EXE_task-thread-test-worker")`. Not part of [`conformance_suite!`]:
/// cargo builds a package's binaries for its own tests only, so a backend's crate would
/// have to build the worker itself; what these cases need from a backend,
/// [`Spawner::spawn_blocking`](task_thread::Spawner::spawn_blocking), the `blocking` cases
/// of the suite check.
#[macro_export]
macro_rules! process_suite {
    ($backend:expr, $worker:expr) => {
        /// Worker processes as child threads.
        mod processes {
            #[allow(unused_imports)] // The backend expression may name items of the file.
            use super::*;

            $crate::__process_cases! { $backend, $worker;
                processes::a_worker_process_answers_its_parent_and_exits_at_terminate,
                processes::a_worker_process_that_crashes_fails_its_thread_and_hands_back_its_request,
                process_endings::a_worker_process_that_ignores_its_stdin_closing_is_killed_at_the_deadline,
                process_endings::a_deaf_worker_process_is_ended_before_its_parent_s_sooner_deadline,
                process_endings::a_deaf_worker_process_ending_by_itself_follows_a_sooner_deadline,
                processes::a_worker_process_that_sends_a_malformed_frame_is_ended,
                processes::a_tree_ends_its_worker_processes_with_it,
                process_endings::a_forced_worker_process_is_killed_before_the_tree_has_joined,
                processes::a_worker_process_s_own_children_end_with_it,
                process_requests::a_request_whose_reply_the_parent_refuses_is_handed_back,
                process_requests::a_request_json_cannot_write_is_handed_back_and_the_worker_goes_on,
                processes::a_worker_program_that_cannot_start_fails_its_thread,
                processes::a_free_worker_process_has_no_request_in_flight,
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __process_cases {
    ($backend:expr, $worker:expr; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::processes::use_worker($worker);
                $crate::run_case(&$backend, stringify!($case), $crate::$module::$case);
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __cases {
    ($backend:expr; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::run_case(&$backend, stringify!($case), $crate::$module::$case);
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __contract_cases {
    ($backend:expr; $($case:ident),* $(,)?) => {
        /// The `Spawner` contract's checks, each a case of its own.
        mod contract {
            #[allow(unused_imports)] // The backend expression may name items of the file.
            use super::*;

            $(
                #[test]
                fn $case() {
                    $crate::run_contract_check(
                        &$backend,
                        concat!("contract::", stringify!($case)),
                        $crate::contract::$case,
                    );
                }
            )*

            #[test]
            fn block_on_leaves_no_task_behind() {
                $crate::logs::capture();
                if let Err(breach) = $crate::contract::block_on_leaves_no_task_behind(&$backend) {
                    panic!("{breach}");
                }
            }
        }
    };
}
