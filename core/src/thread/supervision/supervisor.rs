//! The parent's side of supervision: its table of supervised children, the decision when
//! one ends (taken in its signal loop, before `on_child_ended`), and the restarts, each a
//! task of the parent, so that the parent's shutdown ends a restart that waits. Here: the
//! table and the decision. What a child keeps across incarnations (its factory) is in
//! `factory`; acting on an end and the restart's task are in `restart`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::decision::{Escalation, RestartDecision, RestartHistory};
use super::factory::StartChild;
use super::policy::Strategy;
use crate::id_map::IdMap;
use crate::thread::definition::{TaskThread, ThreadEnd};
use crate::thread::failure::Failure;
use crate::thread::family::registry::Registry;
use crate::thread::life::thread_core::{Supervision, ThreadCore};

/// A parent's supervised children, by id.
pub(crate) struct Supervisor<T: TaskThread> {
    /// Kept in the table, not boxed: a supervised start costs one allocation (its
    /// factory's), which is most of what supervision adds to a start.
    children: IdMap<Supervised<T>>,
    /// The restarts of each one-for-all group.
    groups: HashMap<String, RestartHistory>,
    /// Counts first starts, so that a group restarts in the order it was started.
    started: u64,
    /// Notified when the loop has taken the end of a child stopped for its group, or one
    /// leaves the table.
    group_member_ended: crate::sync::Event,
    /// Counts restart plans.
    plans: u64,
}

impl<T: TaskThread> Default for Supervisor<T> {
    fn default() -> Self {
        Supervisor {
            children: IdMap::default(),
            groups: HashMap::new(),
            started: 0,
            group_member_ended: crate::sync::Event::new(),
            plans: 0,
        }
    }
}

/// A supervised child's entry in its parent's [`Supervisor`].
struct Supervised<T: TaskThread> {
    start: Arc<dyn StartChild<T>>,
    order: u64,
    /// Whether it is its first incarnation: a first `enter` that fails is
    /// `spawn_supervised`'s error, not restarted.
    first: bool,
    /// Made by its first end that is decided, or its first stop for its group: a child
    /// that never fails costs its parent's table 40 bytes, not 104.
    restarts: Option<Box<Restarts>>,
}

/// What a supervised child's ends have left, once it has had one.
#[derive(Default)]
struct Restarts {
    /// Its restarts under [`Strategy::OneForOne`].
    history: RestartHistory,
    state: State,
    /// The restart plan that owns its next start: a restart replaced by a newer one (a
    /// group member failing while its group restarts) starts none of the newer one's.
    plan: u64,
}

impl<T: TaskThread> Supervised<T> {
    fn restarts(&mut self) -> &mut Restarts {
        self.restarts.get_or_insert_with(Default::default)
    }

    /// Its state and plan, for a child that has had no end yet: running, under no plan.
    fn state_and_plan(&self) -> (&State, u64) {
        match &self.restarts {
            Some(restarts) => (&restarts.state, restarts.plan),
            None => (&State::Running, 0),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum State {
    #[default]
    Running,
    /// Ended, waiting for its restart.
    Restarting,
    /// Terminated for its group's restart, not ended yet.
    StoppedForGroup { cause: String },
}

/// Adds a child to its parent's supervisor (made by the first), as the child is
/// registered, under the parent's lock: `start` back if `id` is supervised already (its
/// earlier incarnation ended, and waits for its restart).
pub(crate) fn supervise<T: TaskThread>(
    registry: &mut Registry,
    id: &Arc<str>,
    start: Arc<dyn StartChild<T>>,
) -> Result<(), Arc<dyn StartChild<T>>> {
    match registry.supervisor_or_new::<Supervisor<T>>() {
        Some(supervisor) => supervisor.add(id.clone(), start),
        // Not a `Supervisor<T>`: never, a thread's supervisor is of its own type.
        None => Err(start),
    }
}

/// A supervised child's entry, taken out of the table: dropped by whoever took it, outside
/// the core's lock.
pub(crate) struct Removed<T: TaskThread>(#[allow(dead_code)] Supervised<T>);

/// What to do, once the table's lock is let go.
pub(super) enum Plan<T: TaskThread> {
    Nothing,
    /// Not supervised any more: its entry, to drop.
    Forget(Option<Removed<T>>),
    Restart {
        ids: Vec<Arc<str>>,
        after: Duration,
        slot: String,
        plan: u64,
    },
    Escalate(Box<Failure>),
}

impl<T: TaskThread> Supervisor<T> {
    /// Adds `id`, started by `start` for the first time; if it is supervised already,
    /// hands `start` back (the user's factory, to be dropped outside the lock).
    fn add(
        &mut self,
        id: Arc<str>,
        start: Arc<dyn StartChild<T>>,
    ) -> Result<(), Arc<dyn StartChild<T>>> {
        let std::collections::hash_map::Entry::Vacant(vacant) = self.children.entry(id) else {
            return Err(start);
        };
        self.started += 1;
        vacant.insert(Supervised {
            start,
            order: self.started,
            first: true,
            restarts: None,
        });
        Ok(())
    }

    /// `spawn_supervised`'s first start did not enter (it failed, was refused, or the call
    /// was dropped): the child is not supervised (its entry is returned).
    pub(crate) fn first_start_failed(&mut self, id: &str) -> Option<Removed<T>> {
        let child = self.children.get(id)?;
        if !child.first {
            return None;
        }
        self.forget(id)
    }

    /// Takes `id` out of the table, and its group's history with its group's last member.
    /// The entry holds the user's factory: the caller drops it once the core's lock is let
    /// go, since the factory's captures may use the core when dropped.
    pub(crate) fn forget(&mut self, id: &str) -> Option<Removed<T>> {
        let removed = self.children.remove(id)?;
        // A group restart waiting for this one's end waits no more.
        self.group_member_ended.notify(usize::MAX);
        if let Strategy::OneForAll { group } = removed.start.strategy() {
            let in_group = |child: &Supervised<T>| matches!(child.start.strategy(), Strategy::OneForAll { group: g } if g == group);
            if !self.children.values().any(in_group) {
                self.groups.remove(group);
            }
        }
        Some(Removed(removed))
    }

    pub(crate) fn is_restarting(&self, id: &str) -> bool {
        let child = self.children.get(id);
        child.is_some_and(|child| matches!(child.state_and_plan().0, State::Restarting))
    }

    /// Decides about the end of `id`, whose incarnation started at `started`, and says
    /// what to do next. `entered` tells whether a child has entered (a group restart
    /// leaves out a member whose first start has not).
    pub(super) fn decide(
        &mut self,
        id: &str,
        end: &ThreadEnd,
        started: Instant,
        parent_ending: bool,
        entered: impl Fn(&str) -> bool,
    ) -> (Option<RestartDecision>, Plan<T>, Vec<Arc<str>>) {
        let Some(child) = self.children.get_mut(id) else {
            return (None, Plan::Nothing, Vec::new());
        };
        let first_enter_failed =
            child.first && matches!(end, ThreadEnd::Failed(failure) if failure.during() == "enter");
        if parent_ending || first_enter_failed {
            let removed = self.forget(id);
            return (
                Some(RestartDecision::LetEnd),
                Plan::Forget(removed),
                Vec::new(),
            );
        }
        if let (State::StoppedForGroup { cause }, _) = child.state_and_plan() {
            let decision = RestartDecision::RestartWithGroup {
                cause: cause.clone(),
            };
            child.restarts().state = State::Restarting;
            self.group_member_ended.notify(usize::MAX);
            return (Some(decision), Plan::Nothing, Vec::new());
        }
        let now = Instant::now();
        let spread = fastrand::f64();
        let policy = child.start.policy().clone();
        let group = match child.start.strategy() {
            Strategy::OneForOne => None,
            Strategy::OneForAll { group } => Some(group.clone()),
        };
        let history = match &group {
            None => &mut child.restarts().history,
            Some(group) => self.groups.entry(group.clone()).or_default(),
        };
        let decision = history.decide(&policy, end, started, now, spread);
        let plan = match &decision {
            RestartDecision::Restart { after, .. } => {
                self.plans += 1;
                let plan = self.plans;
                let restarts = child.restarts();
                restarts.state = State::Restarting;
                restarts.plan = plan;
                let mut ids = vec![(child.order, Arc::<str>::from(id))];
                let mut to_stop = Vec::new();
                if let Some(group) = &group {
                    // The whole group starts again: those running are stopped first, and
                    // those a restart under way had not started yet are taken over (this
                    // restart replaces it in the group's slot).
                    for (other, sibling) in &mut self.children {
                        let in_group = matches!(sibling.start.strategy(), Strategy::OneForAll { group: g } if g == group);
                        // A member whose first start has not entered is its caller's.
                        let its_callers = sibling.first && !entered(other);
                        if !in_group || &**other == id || its_callers {
                            continue;
                        }
                        let restarts = sibling.restarts();
                        match restarts.state {
                            State::Running => {
                                restarts.state = State::StoppedForGroup {
                                    cause: id.to_owned(),
                                };
                                to_stop.push(other.clone());
                            }
                            State::StoppedForGroup { .. } | State::Restarting => {}
                        }
                        restarts.plan = plan;
                        ids.push((sibling.order, other.clone()));
                    }
                }
                ids.sort();
                let slot = match &group {
                    None => format!("restart child {id}"),
                    Some(group) => format!("restart group {group}"),
                };
                let ids = ids.into_iter().map(|(_, id)| id).collect();
                return (
                    Some(decision.clone()),
                    Plan::Restart {
                        ids,
                        after: *after,
                        slot,
                        plan,
                    },
                    to_stop,
                );
            }
            RestartDecision::Escalate => {
                let escalation = Escalation {
                    supervised: id.to_owned(),
                    is_task: false,
                    restarts: policy.intensity.max_restarts,
                    within: policy.intensity.within,
                    last_end: end.clone(),
                };
                let during = format!("supervising {id}");
                Plan::Escalate(Box::new(Failure::new(during, Box::new(escalation))))
            }
            _ => Plan::Forget(self.forget(id)),
        };
        (Some(decision), plan, Vec::new())
    }

    /// The start of `id`'s next incarnation, marked running from now; or, for a child
    /// stopped for its group whose end the loop has not taken yet, what to wait for.
    pub(super) fn restarting(&mut self, id: &str, plan: u64) -> NextStart<T> {
        let Some(child) = self.children.get_mut(id) else {
            return NextStart::NotSupervised;
        };
        let Some(restarts) = child.restarts.as_deref_mut() else {
            return NextStart::NotSupervised; // Running, under no plan.
        };
        if restarts.plan != plan {
            return NextStart::NotSupervised; // A newer plan has it.
        }
        match restarts.state {
            State::Restarting => {}
            // Its end, once decided in the loop, must be about this incarnation.
            State::StoppedForGroup { .. } => {
                return NextStart::AfterItsEnd(crate::notify::listen(&self.group_member_ended))
            }
            State::Running => return NextStart::NotSupervised,
        }
        restarts.state = State::Running;
        child.first = false;
        NextStart::Now(child.start.clone())
    }

    /// Whether `id`'s running incarnation is still the one `plan` started.
    pub(super) fn still_started_by(&self, id: &str, plan: u64) -> bool {
        let child = self.children.get(id);
        child.is_some_and(|child| child.state_and_plan() == (&State::Running, plan))
    }
}

pub(super) enum NextStart<T: TaskThread> {
    Now(Arc<dyn StartChild<T>>),
    AfterItsEnd(crate::sync::EventListener),
    NotSupervised,
}

/// Whether `core` has supervised children (or had: the table stays once made).
pub(crate) fn supervises<T: TaskThread>(core: &ThreadCore) -> bool {
    core.supervisor(Supervision::Existing, |_: &mut Supervisor<T>, _| ())
        .is_some()
}

/// Whether `core`'s child `id` is supervised and waiting for its restart.
pub(crate) fn is_restarting<T: TaskThread>(core: &ThreadCore, id: &str) -> bool {
    core.supervisor(
        Supervision::Existing,
        |supervisor: &mut Supervisor<T>, _| supervisor.is_restarting(id),
    )
    .unwrap_or(false)
}
