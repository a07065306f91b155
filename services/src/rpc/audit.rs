//! The `Audit` service.

use domain::values::Problem;
use tonic::{Request, Response, Status};

use super::parse::{self as p, to_timestamp};
use super::pb;
use super::pb::audit_server::Audit;
use super::status::{from_sqlx, invalid};
use super::{typed, views};
use crate::audit::{self, At, AuditError, Tampered, Verification};
use crate::store::Pool;

#[derive(Debug, Clone)]
pub struct AuditService {
    db: Pool,
}

impl AuditService {
    pub fn new(db: Pool) -> Self {
        Self { db }
    }
}

fn ticket_id(raw: &str) -> Result<String, Status> {
    p::ticket_id("ticket_id", raw).map_err(|e| invalid(&e))
}

fn from_audit(error: AuditError) -> Status {
    match error {
        AuditError::Store(e) => from_sqlx(e),
        other => {
            tracing::error!(error = %other, "audit failed");
            Status::internal("a stored event cannot be read; run Audit.Verify")
        }
    }
}

async fn records(db: &Pool, id: &str) -> Result<Vec<audit::records::Record>, Status> {
    let records = audit::records::ticket(db, id).await.map_err(from_sqlx)?;
    if records.is_empty() {
        return Err(Status::not_found(format!("ticket {id} not found")));
    }
    Ok(records)
}

fn meta(m: &serde_json::Value, key: &str) -> String {
    m.get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

fn tampered(t: Tampered) -> pb::TamperedEvent {
    pb::TamperedEvent {
        log_position: t
            .log_position
            .and_then(|p| u64::try_from(p).ok())
            .unwrap_or_default(),
        ticket_id: t.ticket_id,
        version: u64::try_from(t.version).unwrap_or_default(),
        reason: t.reason,
    }
}

fn verification(v: Verification) -> pb::VerifyResponse {
    pb::VerifyResponse {
        intact: v.first_problem.is_none(),
        events_checked: v.events_checked,
        digest: v.digest,
        first_problem: v.first_problem.map(tampered),
    }
}

#[tonic::async_trait]
impl Audit for AuditService {
    async fn get_history(
        &self,
        request: Request<pb::GetHistoryRequest>,
    ) -> Result<Response<pb::History>, Status> {
        let id = ticket_id(&request.get_ref().ticket_id)?;
        let records = records(&self.db, &id).await?;
        let states = audit::replay(&records).map_err(from_audit)?;
        let entries = records
            .into_iter()
            .zip(states)
            .map(|(r, state)| {
                let version = u64::try_from(r.sequence).unwrap_or_default();
                let occurred_at = r.occurred();
                // Typed in the current shape; personal fields stay sealed
                // (empty) for the auditor.
                let payload = projections::log::current_value(
                    &r.event_type,
                    &r.event_version,
                    r.payload.clone(),
                )
                .ok()
                .and_then(|current| typed::payload_value(&r.aggregate_type, &current));
                pb::HistoryEntry {
                    version,
                    log_position: r
                        .log_position
                        .and_then(|p| u64::try_from(p).ok())
                        .unwrap_or_default(),
                    event_id: r.event_id,
                    event_type: r.event_type,
                    event_version: r.event_version,
                    recorded_at: Some(to_timestamp(r.recorded_at)),
                    occurred_at: Some(to_timestamp(occurred_at)),
                    seal: u32::try_from(r.seal).unwrap_or_default(),
                    actor_id: meta(&r.metadata, "actor_id"),
                    actor_role: meta(&r.metadata, "actor_role"),
                    channel: meta(&r.metadata, "channel"),
                    imported_by: meta(&r.metadata, "imported_by"),
                    imported_by_role: meta(&r.metadata, "imported_by_role"),
                    request_id: meta(&r.metadata, "request_id"),
                    correlation_id: meta(&r.metadata, "correlation_id"),
                    causation_id: meta(&r.metadata, "causation_id"),
                    // The stored bytes (what the hash covers); `state_after`
                    // is replayed from the current shape.
                    payload_json: r.payload.to_string(),
                    payload,
                    hash: r.hash.unwrap_or_default(),
                    state_after: Some(views::ticket(&id, version, &state)),
                }
            })
            .collect();
        Ok(Response::new(pb::History {
            ticket_id: id,
            entries,
        }))
    }

    async fn get_state_at(
        &self,
        request: Request<pb::GetStateAtRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        let m = request.into_inner();
        let id = ticket_id(&m.ticket_id)?;
        let at = match m.at {
            Some(pb::get_state_at_request::At::Version(v)) => At::Version(v),
            Some(pb::get_state_at_request::At::Instant(t)) => {
                At::Occurred(p::timestamp("instant", Some(&t)).map_err(|e| invalid(&e))?)
            }
            Some(pb::get_state_at_request::At::KnownAt(t)) => {
                At::Recorded(p::timestamp("known_at", Some(&t)).map_err(|e| invalid(&e))?)
            }
            None => return Err(invalid(&Problem::Empty.at("at"))),
        };
        let records = records(&self.db, &id).await?;
        let (state, version) = audit::state_at(&records, at).map_err(from_audit)?;
        if version == 0 {
            // No state to show: the ticket was received later.
            return Err(Status::not_found(format!(
                "ticket {id} did not exist yet at that {}",
                match at {
                    At::Version(_) => "version",
                    At::Occurred(_) => "instant",
                    At::Recorded(_) => "recording time",
                }
            )));
        }
        Ok(Response::new(views::ticket(&id, version, &state)))
    }

    async fn diff(
        &self,
        request: Request<pb::DiffRequest>,
    ) -> Result<Response<pb::DiffResponse>, Status> {
        let m = request.into_inner();
        let id = ticket_id(&m.ticket_id)?;
        let records = records(&self.db, &id).await?;
        let last = records.len() as u64;
        for (field, v) in [
            ("from_version", m.from_version),
            ("to_version", m.to_version),
        ] {
            if v > last {
                return Err(invalid(
                    &Problem::OutOfRange {
                        min: 0,
                        max: last as i64,
                    }
                    .at(field),
                ));
            }
        }
        let (before, _) =
            audit::state_at(&records, At::Version(m.from_version)).map_err(from_audit)?;
        let (after, _) =
            audit::state_at(&records, At::Version(m.to_version)).map_err(from_audit)?;
        let changes = audit::diff(&before, &after)
            .into_iter()
            .map(|(path, a, b)| pb::FieldChange {
                path,
                before_json: a.to_string(),
                after_json: b.to_string(),
            })
            .collect();
        Ok(Response::new(pb::DiffResponse { changes }))
    }

    async fn verify(
        &self,
        request: Request<pb::VerifyRequest>,
    ) -> Result<Response<pb::VerifyResponse>, Status> {
        let id = request.get_ref().ticket_id.trim().to_owned();
        let result = if id.is_empty() {
            audit::verify_log(&self.db).await
        } else {
            audit::verify_ticket(&self.db, &id).await
        };
        Ok(Response::new(verification(result.map_err(from_audit)?)))
    }

    async fn export(
        &self,
        request: Request<pb::ExportRequest>,
    ) -> Result<Response<pb::ExportResponse>, Status> {
        let id = ticket_id(&request.get_ref().ticket_id)?;
        let records = records(&self.db, &id).await?;
        let export = audit::export(records, &id, chrono::Utc::now());
        let content = serde_json::to_vec_pretty(&export)
            .map_err(|e| Status::internal(format!("cannot write the export: {e}")))?;
        Ok(Response::new(pb::ExportResponse {
            file_name: format!("ticket-{id}.audit.json"),
            content,
        }))
    }
}
