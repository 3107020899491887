//! The end of tasks taken from their slots and cancelled: awaited together under one
//! deadline (a delete's one task, or a group's few), the late ones named and logged.

use std::future::Future;
use std::task::Context;
use std::time::{Duration, Instant};

use super::SlotShared;
use crate::error::SlotError;
use crate::operation_lock::OperationGuard;
use crate::spawner::RawTask;

/// A slot whose task has been taken out and cancelled, until its end has been seen.
/// Tasks taken from their slots to end together: a delete's one, or a group's few, inline.
pub(crate) type Endings<'a> = smallvec::SmallVec<[Ending<'a>; 1]>;

pub(crate) struct Ending<'a> {
    pub(super) slot: &'a SlotShared,
    /// The cancelled task; `None` once its end has been seen (or if the slot had none).
    pub(super) task: Option<Box<dyn RawTask>>,
    /// For `delete_all`: the slot's operation lock, kept until the end has been awaited.
    pub(super) _operation: Option<OperationGuard<'a>>,
}

/// Waits under one deadline for the ends of tasks already cancelled and taken from their
/// slots. The error names the first slot whose task had not ended when the deadline came;
/// every such task is logged and stays counted as live until it ends.
pub(crate) fn end_together<'a>(
    mut ending: Endings<'a>,
    timeout: Duration,
) -> impl Future<Output = Result<(), SlotError>> + Send + 'a {
    let first_task = ending.iter().find(|end| end.task.is_some());
    let group = first_task.map(|end| end.slot.group.clone());
    // A plain `fn` returning an `async move` block: an `async fn` would keep `ending`
    // twice, and every stopping thread's shutdown holds this future.
    async move {
        let Some(group) = group else {
            return Ok(());
        };
        let started = Instant::now();
        // Awaited one after the other: all were cancelled at once, so while the first ends the
        // others end too, and each later await finds its task ended. No allocation per task
        // (awaiting them as a `FuturesUnordered` would make a node for each), and each handle
        // is released as soon as its end is seen, while the task is still in the cache; what
        // is still held afterwards was not seen ending. `awaited`: the last task awaited (or
        // being awaited when the deadline came).
        let mut awaited = 0;
        let all_ended = async {
            for (index, end) in ending.iter_mut().enumerate() {
                if let Some(task) = &mut end.task {
                    awaited = index;
                    futures::future::poll_fn(|cx| task.poll_end(cx)).await;
                }
                end.task = None;
            }
        };
        let ended = crate::spawner::before(&group.runtime, started + timeout, all_ended).await;
        // An end counts only if it was seen within the deadline: on a single-threaded runtime
        // a task that blocks while being dropped delays the timer too.
        if ended.is_some() && started.elapsed() <= timeout {
            return Ok(());
        }
        // The tasks not seen ending (those still held): each is looked at once more.
        let mut check = Context::from_waker(futures::task::noop_waker_ref());
        let lingering: Vec<&SlotShared> = ending
            .iter_mut()
            .filter_map(|end| {
                let task = end.task.as_mut()?;
                task.poll_end(&mut check).is_pending().then_some(end.slot)
            })
            .collect();
        // Every task ended, but after the deadline: the last, awaited when it came, is named.
        let reported = if lingering.is_empty() {
            vec![ending[awaited].slot]
        } else {
            lingering
        };
        for slot in &reported {
            tracing::error!(
                thread = %group.owner,
                task = %slot.name,
                "task '{}' of thread '{}' did not end within {timeout:?} of being cancelled; it stays counted as live until it ends",
                slot.name,
                group.owner
            );
        }
        Err(SlotError::CancelTimedOut {
            thread: group.owner.to_string(),
            task: reported[0].name.to_string(),
            timeout,
        })
    }
}
