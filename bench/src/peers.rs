//! The peers of case 4, on tokio: tokio-util's TaskTracker with a CancellationToken, kameo
//! actors and ractor actors, each started and stopped `n` at a time.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// `n` tracked tasks, each sleeping until cancelled: (time to spawn all, time from cancel
/// until the tracker has seen every task end).
pub async fn task_tracker_start_stop(n: usize) -> (Duration, Duration) {
    let tracker = TaskTracker::new();
    let token = CancellationToken::new();
    let begin = Instant::now();
    for _ in 0..n {
        let token = token.clone();
        tracker.spawn(async move {
            tokio::select! {
                _ = token.cancelled() => {}
                _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            }
        });
    }
    let started = begin.elapsed();
    let begin = Instant::now();
    token.cancel();
    tracker.close();
    tracker.wait().await;
    (started, begin.elapsed())
}

/// An idle kameo actor.
struct KameoIdle;

impl kameo::Actor for KameoIdle {
    type Args = Self;
    type Error = kameo::error::Infallible;

    async fn on_start(state: Self, _: kameo::actor::ActorRef<Self>) -> Result<Self, Self::Error> {
        Ok(state)
    }
}

/// `n` kameo actors: (time to spawn all and see each started, time to stop all and see
/// each shut down).
pub async fn kameo_start_stop(n: usize) -> (Duration, Duration) {
    use kameo::actor::Spawn;
    let begin = Instant::now();
    let actors: Vec<_> = (0..n).map(|_| KameoIdle::spawn(KameoIdle)).collect();
    futures::future::join_all(actors.iter().map(|actor| actor.wait_for_startup())).await;
    let started = begin.elapsed();
    let begin = Instant::now();
    futures::future::join_all(actors.iter().map(|actor| actor.stop_gracefully())).await;
    futures::future::join_all(actors.iter().map(|actor| actor.wait_for_shutdown())).await;
    (started, begin.elapsed())
}

/// An idle ractor actor.
struct RactorIdle;

impl ractor::Actor for RactorIdle {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(
        &self,
        _: ractor::ActorRef<()>,
        _: (),
    ) -> Result<(), ractor::ActorProcessingErr> {
        Ok(())
    }
}

/// `n` ractor actors: (time to spawn all, each started when spawn returns; time to stop all
/// and await every one's end).
pub async fn ractor_start_stop(n: usize) -> (Duration, Duration) {
    let begin = Instant::now();
    let spawned =
        futures::future::join_all((0..n).map(|_| ractor::Actor::spawn(None, RactorIdle, ()))).await;
    let actors: Vec<_> = spawned
        .into_iter()
        .map(|spawned| spawned.expect("a ractor actor starts"))
        .collect();
    let started = begin.elapsed();
    let begin = Instant::now();
    for (actor, _) in &actors {
        actor.stop(None);
    }
    futures::future::join_all(actors.into_iter().map(|(_, ended)| ended)).await;
    (started, begin.elapsed())
}
