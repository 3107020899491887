use std::time::Duration;
use task_thread::{JoinHandle, Spawner, SpawnerExt};

/// Calls `probe` every `period` until it returns a value, on whatever runtime `spawner` is.
pub fn start_poller<S, P, T>(spawner: &S, period: Duration, mut probe: P) -> JoinHandle<T>
where
    S: Spawner + Clone,
    P: FnMut() -> Option<T> + Send + 'static,
    T: Send + 'static,
{
    let timer = spawner.clone();
    spawner.spawn(async move {
        loop {
            if let Some(found) = probe() {
                return found;
            }
            timer.sleep(period).await;
        }
    })
}
