//! `GET /live`: a server-sent event `changed` each time the log moves and
//! the read models have applied it, so that a page reloads its live part.
//! Fed by the projection runner's published log head (itself woken by each
//! commit), never by polling from the browser; one waiter per console
//! ([`applied_heads`]) looks at the read models for every connection.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::watch;

use super::page::Failure;
use super::Console;
use crate::rpc::events::log_status;
use crate::store::Pool;

/// How long to wait for the read models to apply a new head before saying
/// "changed" anyway.
const APPLY_WAIT: Duration = Duration::from_secs(5);

/// Waits until every projection has applied `head` (or [`APPLY_WAIT`]).
async fn applied(db: &Pool, head: i64) {
    let until = tokio::time::Instant::now() + APPLY_WAIT;
    while tokio::time::Instant::now() < until {
        match log_status(db).await {
            Ok(status) if status.projections.iter().all(|(_, p)| *p >= head) => return,
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "console: cannot read projection positions"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The one waiter of a console: follows the log head, waits until the read
/// models have applied it, and publishes that head, so that a thousand
/// open pages cost one look at the projections, not a thousand.
pub fn applied_heads(
    db: Pool,
    mut head: watch::Receiver<i64>,
    mut stop: watch::Receiver<bool>,
) -> watch::Receiver<i64> {
    let (applied_to, heads) = watch::channel(*head.borrow());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = head.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let at = *head.borrow_and_update();
                    // Only a page that listens (a receiver beyond the
                    // console's own) is worth a look at the read models.
                    if applied_to.receiver_count() > 1 {
                        applied(&db, at).await;
                    }
                    if applied_to.send(at).is_err() {
                        break;
                    }
                }
                () = async { let _ = stop.wait_for(|s| *s).await; } => break,
            }
        }
    });
    heads
}

pub async fn changes(
    State(console): State<Console>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Failure> {
    console.session_for(&headers, super::calls::LIVE)?;
    let mut head = console.0.applied.clone();
    let mut stop = console.0.stop.clone();
    let stream = async_stream(move |tx| async move {
        head.mark_unchanged();
        loop {
            tokio::select! {
                changed = head.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let at = *head.borrow_and_update();
                    let event = Event::default().event("changed").data(at.to_string());
                    if tx.send(event).await.is_err() {
                        break;
                    }
                }
                () = async { let _ = stop.wait_for(|s| *s).await; } => break,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// A stream fed by a task that sends into it; the task ends when the
/// client goes away (its sends fail).
pub fn async_stream<F, Fut>(feed: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(feed(tx));
    futures::StreamExt::map(tokio_stream::wrappers::ReceiverStream::new(rx), Ok)
}
