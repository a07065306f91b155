//! The event tail: the live log, filtered by event type, ticket and
//! product model, through the `EventLog` service's subscription (the last
//! [`BACKLOG`] events first, then each new one as it is logged).

use std::convert::Infallible;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Response;
use futures::{Stream, StreamExt};
use serde::Deserialize;

use super::live::async_stream;
use super::page::{as_caller, local_time, render, Chrome, Failure};
use super::sla::encode;
use super::Console;
use crate::rpc::pb;
use crate::rpc::pb::event_log_server::EventLog;

/// How many logged events the tail shows when it opens.
pub const BACKLOG: u64 = 100;

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    /// Comma-separated, e.g. `QcPassed,TicketClosed`.
    #[serde(default)]
    event_types: String,
    #[serde(default)]
    ticket_ids: String,
    #[serde(default)]
    product_models: String,
}

fn list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Filters {
    fn query(&self) -> String {
        format!(
            "event_types={}&ticket_ids={}&product_models={}",
            encode(&self.event_types),
            encode(&self.ticket_ids),
            encode(&self.product_models)
        )
    }
}

#[derive(Template)]
#[template(path = "tail.html")]
struct TailPage {
    chrome: Chrome,
    filters: Filters,
    query: String,
}

#[derive(Template)]
#[template(path = "tail_row.html")]
struct Row {
    position: u64,
    recorded: String,
    ticket_id: String,
    ticket_query: String,
    version: u64,
    event_type: String,
    actor: String,
    role: String,
}

pub async fn page(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, Failure> {
    let session = console.session_for(&headers, super::calls::TAIL)?;
    Ok(render(&TailPage {
        chrome: Chrome::new(&session, "tail"),
        query: filters.query(),
        filters,
    }))
}

/// The subscription as server-sent events `logged`, each a table row.
pub async fn stream(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Failure> {
    let session = console.session_for(&headers, super::calls::TAIL)?;
    let head = u64::try_from(*console.services().head.borrow()).unwrap_or_default();
    let request = pb::SubscribeRequest {
        from_position: head.saturating_sub(BACKLOG),
        event_types: list(&filters.event_types),
        ticket_ids: list(&filters.ticket_ids),
        product_models: list(&filters.product_models),
        heartbeat_seconds: 0,
        ..Default::default()
    };
    let mut events = console
        .services()
        .events
        .subscribe(as_caller(&session.actor, request))
        .await?
        .into_inner();
    let zone = console.services().zone;
    let mut stop = console.0.stop.clone();
    let stream = async_stream(move |tx| async move {
        loop {
            let next = tokio::select! {
                next = events.next() => next,
                () = async { let _ = stop.wait_for(|s| *s).await; } => None,
            };
            let Some(Ok(message)) = next else { break };
            let Some(pb::subscribe_response::Message::Event(e)) = message.message else {
                continue;
            };
            let meta = |k: &str| e.metadata.get(k).cloned().unwrap_or_default();
            let row = Row {
                position: e.position,
                recorded: e
                    .recorded_at
                    .as_ref()
                    .map_or_else(String::new, |t| local_time(zone, t)),
                ticket_query: encode(&e.ticket_id),
                ticket_id: e.ticket_id.clone(),
                version: e.version,
                event_type: e.event_type.clone(),
                actor: meta("actor_id"),
                role: meta("actor_role"),
            };
            let Ok(html) = row.render() else { break };
            if tx
                .send(Event::default().event("logged").data(html))
                .await
                .is_err()
            {
                break;
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
