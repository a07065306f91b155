//! Keeps a projection caught up: runs batches until the log is drained,
//! then waits until the log's head moves (or a short tick passes).

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::ProjectionError;

/// Events applied per transaction.
pub const BATCH: i64 = 500;
/// Longest wait between looks at the log when the head does not move.
const IDLE_TICK: Duration = Duration::from_millis(500);
const ERROR_BACKOFF: Duration = Duration::from_secs(1);

/// Runs `batch` until `shutdown` turns true. A failed batch changes nothing
/// (its transaction rolls back) and is retried after a pause.
pub async fn run<F, Fut>(
    name: &str,
    mut batch: F,
    mut head: watch::Receiver<i64>,
    mut shutdown: watch::Receiver<bool>,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, ProjectionError>>,
{
    tracing::info!(projection = name, "projection runner started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        head.borrow_and_update();
        let pause = match batch().await {
            Ok(n) if n as i64 >= BATCH => continue,
            Ok(_) => IDLE_TICK,
            Err(error) => {
                tracing::warn!(projection = name, %error, "projection batch failed; will retry");
                ERROR_BACKOFF
            }
        };
        tokio::select! {
            _ = head.changed() => {}
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::info!(projection = name, "projection runner stopped");
}
