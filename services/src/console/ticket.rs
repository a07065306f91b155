//! A ticket for an auditor: the event timeline with actor, role, occurred
//! and recorded times; the state after any event; what changed between
//! two versions; the `Verify` result as a badge; the audit export.
//! Everything through the `Audit` service, so only the roles that may read
//! the audit trail see it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use prost_reflect::{DescriptorPool, DynamicMessage};
use serde::Deserialize;

use super::page::{as_caller, attachment, local_time, render, Chrome, Failure};
use super::sla::encode;
use super::Console;
use crate::rpc::pb;
use crate::rpc::pb::audit_server::Audit;

#[derive(Debug, Default, Deserialize)]
pub struct Find {
    #[serde(default)]
    id: String,
}

#[derive(Template)]
#[template(path = "ticket_find.html")]
struct FindPage {
    chrome: Chrome,
}

/// `/tickets?id=…`: to the ticket's page; without an id, the form.
pub async fn find(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(find): Query<Find>,
) -> Result<Response, Failure> {
    let session = console.session_for(&headers, super::calls::TICKET)?;
    let id = find.id.trim();
    if id.is_empty() {
        return Ok(render(&FindPage {
            chrome: Chrome::new(&session, "ticket"),
        }));
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(to) = HeaderValue::from_str(&format!("/tickets/{}", encode(id))) {
        response.headers_mut().insert(LOCATION, to);
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
pub struct View {
    /// The version whose state is shown (default: the latest).
    at: Option<u64>,
    /// The diff's versions (default: the one before `at`, and `at`).
    from: Option<u64>,
    to: Option<u64>,
}

#[derive(Debug)]
struct Step {
    version: u64,
    position: u64,
    event_type: String,
    actor: String,
    role: String,
    channel: String,
    occurred: String,
    recorded: String,
    payload: String,
}

#[derive(Debug)]
struct Change {
    path: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    chrome: Chrome,
    id: String,
    id_query: String,
    steps: Vec<Step>,
    at: u64,
    state: String,
    from: u64,
    to: u64,
    changes: Vec<Change>,
    intact: bool,
    verified: String,
}

/// The ticket in proto3 JSON, as the API's JSON clients see it.
fn ticket_json(ticket: &pb::Ticket) -> String {
    let descriptor = DescriptorPool::decode(crate::rpc::DESCRIPTOR_SET)
        .ok()
        .and_then(|pool| pool.get_message_by_name("repair.v1.Ticket"));
    let Some(descriptor) = descriptor else {
        return format!("{ticket:#?}");
    };
    let mut message = DynamicMessage::new(descriptor);
    if message.transcode_from(ticket).is_err() {
        return format!("{ticket:#?}");
    }
    serde_json::to_string_pretty(&message).unwrap_or_else(|_| format!("{ticket:#?}"))
}

fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| json.to_owned())
}

fn verdict(v: &pb::VerifyResponse) -> String {
    match (&v.first_problem, v.intact) {
        (_, true) => format!("intact: {} events, head {}", v.events_checked, v.digest),
        (Some(p), false) => format!("TAMPERED at version {}: {}", p.version, p.reason),
        (None, false) => "TAMPERED".to_owned(),
    }
}

pub async fn timeline(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(view): Query<View>,
) -> Result<Response, Failure> {
    let session = console.session_for(&headers, super::calls::TICKET)?;
    let actor = &session.actor;
    let audit = &console.services().audit;
    let history = audit
        .get_history(as_caller(
            actor,
            pb::GetHistoryRequest {
                ticket_id: id.clone(),
            },
        ))
        .await?
        .into_inner();
    let latest = history.entries.last().map_or(0, |e| e.version);
    let at = view.at.unwrap_or(latest).clamp(1, latest.max(1));
    let to = view.to.unwrap_or(at);
    let from = view.from.unwrap_or(to.saturating_sub(1));
    let changes = if from != to {
        let diff = audit
            .diff(as_caller(
                actor,
                pb::DiffRequest {
                    ticket_id: id.clone(),
                    from_version: from,
                    to_version: to,
                },
            ))
            .await?
            .into_inner();
        diff.changes
            .into_iter()
            .map(|c| Change {
                path: c.path,
                before: c.before_json,
                after: c.after_json,
            })
            .collect()
    } else {
        Vec::new()
    };
    let verified = audit
        .verify(as_caller(
            actor,
            pb::VerifyRequest {
                ticket_id: id.clone(),
            },
        ))
        .await?
        .into_inner();
    let zone = console.services().zone;
    let time =
        |t: Option<&prost_types::Timestamp>| t.map_or_else(String::new, |t| local_time(zone, t));
    let state = history
        .entries
        .iter()
        .find(|e| e.version == at)
        .and_then(|e| e.state_after.as_ref())
        .map_or_else(String::new, ticket_json);
    let steps = history
        .entries
        .into_iter()
        .map(|e| Step {
            occurred: time(e.occurred_at.as_ref()),
            recorded: time(e.recorded_at.as_ref()),
            payload: pretty(&e.payload_json),
            version: e.version,
            position: e.log_position,
            event_type: e.event_type,
            actor: e.actor_id,
            role: e.actor_role,
            channel: e.channel,
        })
        .collect();
    let page = TicketPage {
        chrome: Chrome::new(&session, "ticket"),
        id_query: encode(&id),
        id,
        steps,
        at,
        state,
        from,
        to,
        changes,
        intact: verified.intact,
        verified: verdict(&verified),
    };
    Ok(render(&page))
}

/// The audit export (the JSON file `ticketd verify-export` checks).
pub async fn export(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let session = console.session_for(&headers, super::calls::TICKET_EXPORT)?;
    let file = console
        .services()
        .audit
        .export(as_caller(
            &session.actor,
            pb::ExportRequest { ticket_id: id },
        ))
        .await?
        .into_inner();
    Ok(attachment(
        &file.file_name,
        "application/json",
        file.content,
    ))
}
