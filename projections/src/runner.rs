//! Keeps a projection caught up: runs batches until the log is drained,
//! then waits until the log's head moves (or a short tick passes).

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::ProjectionError;

/// Events applied per transaction while the runner keeps up.
pub const BATCH: i64 = 500;
/// Events applied per transaction while it catches up (the last batch was
/// full): fewer, larger transactions, each statement's cost spread wider.
pub const CATCH_UP: i64 = 2_000;
/// Longest wait between looks at the log when the head does not move.
const IDLE_TICK: Duration = Duration::from_millis(500);
const ERROR_BACKOFF: Duration = Duration::from_secs(1);

/// Runs `batch(limit)` until `shutdown` turns true: [`BATCH`] events at
/// a time, [`CATCH_UP`] after a full batch. A failed batch changes nothing
/// (its transaction rolls back) and is retried after a pause.
pub async fn run<F, Fut>(
    name: &str,
    mut batch: F,
    mut head: watch::Receiver<i64>,
    mut shutdown: watch::Receiver<bool>,
) where
    F: FnMut(i64) -> Fut,
    Fut: Future<Output = Result<usize, ProjectionError>>,
{
    tracing::info!(projection = name, "projection runner started");
    let mut limit = BATCH;
    loop {
        if *shutdown.borrow() {
            break;
        }
        head.borrow_and_update();
        let pause = match batch(limit).await {
            Ok(n) if n as i64 >= limit => {
                limit = CATCH_UP;
                continue;
            }
            Ok(_) => {
                limit = BATCH;
                IDLE_TICK
            }
            Err(error) => {
                limit = BATCH;
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
