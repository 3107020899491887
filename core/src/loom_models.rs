//! loom models of core's hand-rolled synchronisation, built with `--cfg task_thread_loom` (see
//! `crate::sync`): every interleaving of a few threads, up to a preemption bound, runs the
//! real code of the operation lock and its notify, a lane's room counter with the sender's
//! wait for room, a slot's generation mirror, and a slot's task spawned outside its lock
//! (its in-flight states). A lost wake-up shows as loom's deadlock.
//!
//! ```text
//! RUSTFLAGS="--cfg task_thread_loom" cargo test -p task-thread-core --lib --release loom_
//! ```

use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll};

use loom::future::block_on;
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::{Arc, Mutex};
use loom::thread;

use crate::generation_mirror::GenerationMirror;
use crate::operation_lock::OperationLock;
use crate::slot::{InFlight, SlotState};
use crate::spawner::{RawOutput, RawTask};
use crate::thread::mailbox::overflow::OverflowPolicy;
use crate::thread::mailbox::room::{wait_for_room, LaneRoom, Refused};

/// Every interleaving with at most this many preemptions: enough for each race below (each
/// needs one or two), and a run of seconds.
const PREEMPTIONS: usize = 3;

fn model(check: impl Fn() + Send + Sync + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTIONS);
    builder.check(check);
}

/// Three threads take the lock: never two inside at once, and no unlock is missed (a
/// waiter that listens after the holder's unlock looked for listeners re-checks the lock
/// after listening).
#[test]
fn loom_operation_lock_is_exclusive_and_misses_no_unlock() {
    model(|| {
        let lock = Arc::new(OperationLock::new());
        let inside = Arc::new(AtomicUsize::new(0));
        let take = |lock: Arc<OperationLock>, inside: Arc<AtomicUsize>| {
            block_on(async move {
                let guard = lock.lock().await;
                assert_eq!(inside.fetch_add(1, SeqCst), 0, "two holders at once");
                inside.fetch_sub(1, SeqCst);
                drop(guard);
            })
        };
        let others: Vec<_> = (0..2)
            .map(|_| {
                let (lock, inside) = (lock.clone(), inside.clone());
                thread::spawn(move || take(lock, inside))
            })
            .collect();
        take(lock, inside);
        for other in others {
            other.join().unwrap();
        }
    });
}

/// A bounded lane, as the mailbox keeps it: its queue under a lock, what the loop holds in
/// hand counted in its room.
struct Lane {
    capacity: usize,
    queued: Mutex<usize>,
    room: LaneRoom,
}

impl Lane {
    /// A full lane of one.
    fn full() -> Arc<Lane> {
        Lane::full_of(1)
    }

    /// Full, with `capacity` signals queued.
    fn full_of(capacity: usize) -> Arc<Lane> {
        Arc::new(Lane {
            capacity,
            queued: Mutex::new(capacity),
            room: LaneRoom::new(),
        })
    }

    /// The mailbox's push.
    fn push(&self) -> Result<(), Refused<()>> {
        let mut queued = self.queued.lock().unwrap();
        if *queued + self.room.in_hand() >= self.capacity {
            return Err(Refused::Full(()));
        }
        *queued += 1;
        Ok(())
    }

    /// A sender: pushes, and on a full lane waits for room as `send` does.
    fn send(&self) {
        let Err(first) = self.push() else {
            return;
        };
        let waiting = wait_for_room(
            |()| self.push(),
            &self.room,
            || OverflowPolicy::Wait,
            first,
            std::future::pending::<()>(),
        );
        assert!(block_on(waiting).is_ok(), "the lane never closes here");
    }
}

/// The loop takes the lane whole into its hand (under the lock), then hands the signal
/// out without the lock: a sender that found the lane full is woken for the room made.
#[test]
fn loom_room_made_from_the_hand_reaches_a_waiting_sender() {
    model(|| {
        let lane = Lane::full();
        let sender = {
            let lane = lane.clone();
            thread::spawn(move || lane.send())
        };
        {
            let mut queued = lane.queued.lock().unwrap();
            lane.room.take(std::mem::take(&mut *queued));
        }
        lane.room.hand_out_one();
        sender.join().unwrap();
        assert_eq!(*lane.queued.lock().unwrap(), 1);
        assert_eq!(lane.room.in_hand(), 0);
    });
}

/// Two senders wait on a full lane of two; the loop takes it whole into its hand and hands
/// both signals out: both senders are told, though the loop notifies only while fewer are
/// told than wait (a sender woken by the first notification stops counting itself and
/// the notification it took, so the second still goes out; a sender that starts waiting
/// after a notification went to its listener makes the loop tell again).
#[test]
fn loom_room_made_for_two_waiting_senders_reaches_both() {
    model(|| {
        let lane = Lane::full_of(2);
        let senders: Vec<_> = (0..2)
            .map(|_| {
                let lane = lane.clone();
                thread::spawn(move || lane.send())
            })
            .collect();
        {
            let mut queued = lane.queued.lock().unwrap();
            lane.room.take(std::mem::take(&mut *queued));
        }
        lane.room.hand_out_one();
        lane.room.hand_out_one();
        for sender in senders {
            sender.join().unwrap();
        }
        assert_eq!(*lane.queued.lock().unwrap(), 2);
        assert_eq!(lane.room.in_hand(), 0);
    });
}

/// One sender sends twice into a full lane of one while the loop takes what is queued and
/// hands it out: the second wait is told too, whatever happened to the notifications of
/// the first (one may reach its listener while the sender finds room by itself, and,
/// handed on to no one, stay counted as told until a sender starts waiting). A lost
/// wake-up shows here as the loop looking for the second signal forever (loom's limit of
/// branches), not as a deadlock.
#[test]
fn loom_a_sender_waiting_again_is_told_again() {
    model(|| {
        let lane = Lane::full();
        let sender = {
            let lane = lane.clone();
            thread::spawn(move || {
                lane.send();
                lane.send();
            })
        };
        let mut handed_out = 0;
        while handed_out < 3 {
            let taken = {
                let mut queued = lane.queued.lock().unwrap();
                let taken = std::mem::take(&mut *queued);
                lane.room.take(taken);
                taken
            };
            if taken == 0 {
                thread::yield_now();
            }
            for _ in 0..taken {
                lane.room.hand_out_one();
            }
            handed_out += taken;
        }
        sender.join().unwrap();
    });
}

/// The loop takes one signal under the lock and says so after it: a sender that found
/// the lane full is woken for the room made.
#[test]
fn loom_room_made_under_the_lock_reaches_a_waiting_sender() {
    model(|| {
        let lane = Lane::full();
        let sender = {
            let lane = lane.clone();
            thread::spawn(move || lane.send())
        };
        *lane.queued.lock().unwrap() -= 1;
        lane.room.made_under_the_lock();
        sender.join().unwrap();
        assert_eq!(*lane.queued.lock().unwrap(), 1);
    });
}

/// A slot's run 1 asks for a successor and finishes while `re_create` moves the slot on
/// and its new run asks in turn: the stale run never gets a successor once moved past,
/// and never undoes the current run's ask (which `finish` reads under the slot's lock).
#[test]
fn loom_a_stale_run_neither_reschedules_nor_undoes_the_current_runs_ask() {
    model(|| {
        let generation = Arc::new(Mutex::new(1u64));
        let mirror = Arc::new(GenerationMirror::new());
        mirror.set_current(1);
        let stale = {
            let (generation, mirror) = (generation.clone(), mirror.clone());
            thread::spawn(move || {
                mirror.ask(1);
                // `finish`: a successor only if still current and asked.
                let mut generation = generation.lock().unwrap();
                if *generation == 1 && mirror.asked(1) {
                    *generation += 1;
                    mirror.set_current(*generation);
                    return true;
                }
                false
            })
        };
        // `re_create`: the slot moves on, under its lock; its new run then asks.
        let new_run = {
            let mut generation = generation.lock().unwrap();
            *generation += 1;
            mirror.set_current(*generation);
            *generation
        };
        assert!(
            mirror.ask(new_run),
            "the current run's first ask is refused"
        );
        let got_a_successor = stale.join().unwrap();
        let generation = *generation.lock().unwrap();
        // Run 1's successor, if any, came before the new run (which moved past it).
        assert_eq!(generation, new_run);
        assert_eq!(new_run, if got_a_successor { 3 } else { 2 });
        assert!(mirror.asked(new_run), "the current run's ask was undone");
    });
}

/// A task handle that records its cancel.
struct Handle(Arc<AtomicBool>);

impl RawTask for Handle {
    fn cancel(&mut self) {
        self.0.store(true, SeqCst);
    }

    fn poll_end(&mut self, _cx: &mut Context<'_>) -> Poll<Option<RawOutput>> {
        Poll::Ready(None)
    }
}

/// `re_create` spawns a task outside the slot's lock while the task, already running,
/// ends by itself, and a `cancel_all` takes the slot's task out: whatever the order, the
/// slot never keeps the handle of a task that has ended or been taken out, and a task
/// taken out while it was the slot's is cancelled (by `cancel_all` if its handle was
/// stored, by `re_create` if not yet).
#[test]
fn loom_a_task_spawned_outside_the_lock_is_kept_only_while_it_is_the_slots() {
    model(|| {
        let slot = Arc::new(Mutex::new(SlotState::empty()));
        let generations = Arc::new(GenerationMirror::new());
        let cancelled = Arc::new(AtomicBool::new(false));
        let cancel_all = {
            let (slot, generations) = (slot.clone(), generations.clone());
            thread::spawn(move || {
                let mut state = slot.lock().unwrap();
                let took = state.in_flight == InFlight::Spawning || state.task.is_some();
                let mut released = state.release(&generations, InFlight::Cancelled);
                drop(state);
                if let Some(task) = &mut released.task {
                    task.cancel();
                }
                took
            })
        };
        // `re_create`: begins the spawn under the lock, spawns outside it (the task runs
        // on a thread of its own and ends by itself), then keeps the handle or not.
        let generation = slot.lock().unwrap().begin_spawn(&generations);
        let task = {
            let (slot, generations) = (slot.clone(), generations.clone());
            thread::spawn(move || {
                // `finish`: the task ends, if it is still the slot's.
                let mut state = slot.lock().unwrap();
                if state.generation() == generation {
                    drop(state.release(&generations, InFlight::Ended));
                }
            })
        };
        let handle = Box::new(Handle(cancelled.clone()));
        let outcome = slot.lock().unwrap().end_spawn(handle);
        if let Err((InFlight::Cancelled, mut handle)) = outcome {
            handle.cancel();
        }
        task.join().unwrap();
        let took = cancel_all.join().unwrap();
        assert!(
            slot.lock().unwrap().task.is_none(),
            "the slot keeps the handle of a task that ended or was taken out"
        );
        if took {
            assert!(
                cancelled.load(SeqCst),
                "a task taken out was never cancelled"
            );
        }
    });
}
