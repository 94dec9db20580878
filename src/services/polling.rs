//! The loop every background worker runs: one step at a time until told to stop — again at
//! once while steps find work, else after a pause (or sooner, when woken).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::ServiceError;

/// Spawns `step` (which says whether it found work) on a loop; its errors are logged under
/// `name` and the loop goes on.
pub fn spawn<F, Fut>(
    name: &'static str,
    pause: Duration,
    wake: Option<Arc<Notify>>,
    mut stop: watch::Receiver<bool>,
    step: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<bool, ServiceError>> + Send,
{
    tokio::spawn(async move {
        let wake = wake.unwrap_or_default();
        while !*stop.borrow() {
            match step().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "{name}"),
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = stop.changed() => {}
            }
        }
    })
}
