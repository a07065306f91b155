//! Audit: replaying a ticket, verifying the hash chains, exporting a
//! ticket's history for offline verification. Transport-neutral; the gRPC
//! glue is in `rpc/audit.rs`.

pub mod records;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::{Ticket, TicketEvent};
use projections::log::seal::{event_hash, log_digest, Sealed, Stamp, SEAL_V1, SEAL_V2};
use serde::{Deserialize, Serialize};

use records::{CurrentShape, Record};

use crate::store::Pool;

/// The first thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tampered {
    pub log_position: Option<i64>,
    pub ticket_id: String,
    pub version: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub events_checked: u64,
    /// Head of the chain checked: the log digest, or the ticket's last hash.
    pub digest: String,
    pub first_problem: Option<Tampered>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    #[error("stored event {ticket_id} v{version} cannot be read: {source}")]
    Undecodable {
        ticket_id: String,
        version: i64,
        source: projections::log::ShapeError,
    },
}

fn sealed(r: &Record) -> Sealed<'_> {
    Sealed {
        aggregate_type: &r.aggregate_type,
        aggregate_id: &r.ticket_id,
        sequence: r.sequence,
        event_type: &r.event_type,
        event_version: &r.event_version,
        payload: &r.payload,
        metadata: &r.metadata,
        stamp: (r.seal == SEAL_V2).then(|| Stamp {
            event_id: &r.event_id,
            recorded_at: r.recorded_at,
            occurred_at: r.occurred(),
        }),
    }
}

/// Recomputes `r`'s hash chained to `previous`, or says why it cannot be
/// trusted. Format 1 sealed the time only as the metadata's copy: the
/// time columns of such an event must equal that copy.
fn recompute(previous: &str, r: &Record) -> Result<String, String> {
    let changed = || "hash does not match the event: it was changed, or inserted outside ticketd";
    match r.seal {
        SEAL_V2 => {}
        SEAL_V1 => {
            let sealed_copy = r
                .metadata
                .get("recorded_at")
                .and_then(serde_json::Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            if sealed_copy != Some(r.recorded_at) || r.occurred() != r.recorded_at {
                return Err(
                    "recorded_at or occurred_at differs from the sealed time in the metadata"
                        .into(),
                );
            }
        }
        other => return Err(format!("unknown seal format {other}: {}", changed())),
    }
    let recomputed = event_hash(previous, &sealed(r));
    if r.hash.as_deref() == Some(recomputed.as_str()) {
        Ok(recomputed)
    } else {
        Err(changed().into())
    }
}

/// Checks one ticket's chain: versions 1..n without gaps, each hash
/// recomputed from the event and the previous hash.
pub fn check_chain(records: &[Record]) -> (String, Option<Tampered>) {
    check_chain_after(0, String::new(), records)
}

/// [`check_chain`] of a stream's events after version `after`, whose
/// event had the hash `previous`.
fn check_chain_after(
    after: i64,
    mut previous: String,
    records: &[Record],
) -> (String, Option<Tampered>) {
    for (i, r) in records.iter().enumerate() {
        let expected_version = after + i as i64 + 1;
        let problem = |reason: String| Tampered {
            log_position: r.log_position,
            ticket_id: r.ticket_id.clone(),
            version: r.sequence,
            reason,
        };
        if r.sequence != expected_version {
            return (
                previous,
                Some(problem(format!(
                    "expected version {expected_version} here, found {}: an event was deleted, inserted or reordered",
                    r.sequence
                ))),
            );
        }
        match recompute(&previous, r) {
            Ok(recomputed) => previous = recomputed,
            Err(reason) => return (previous, Some(problem(reason))),
        }
    }
    (previous, None)
}

pub async fn verify_ticket(db: &Pool, ticket_id: &str) -> Result<Verification, AuditError> {
    let records = records::ticket(db, ticket_id).await?;
    let (digest, first_problem) = check_chain(&records);
    Ok(Verification {
        events_checked: records.len() as u64,
        digest,
        first_problem,
    })
}

/// Walks the whole log: every entry present and in order, every event's
/// hash and version chain, every log digest; then the events stored but
/// not yet sequenced (a transaction of this database may hold the log
/// back), each stream's chain carried on from its last logged event. The
/// digest is the log's; `events_checked` counts both.
pub async fn verify_log(db: &Pool) -> Result<Verification, AuditError> {
    let (mut verification, streams) = verify_sequenced(db).await?;
    if verification.first_problem.is_some() {
        return Ok(verification);
    }
    for (aggregate_type, id) in records::unsequenced_streams(db).await? {
        let stream = format!("{aggregate_type}\n{id}");
        let (last_version, previous) = streams.get(&stream).cloned().unwrap_or((0, String::new()));
        let rest = records::stream_after(db, &aggregate_type, &id, last_version).await?;
        let (_, problem) = check_chain_after(last_version, previous, &rest);
        if let Some(problem) = problem {
            verification.first_problem = Some(problem);
            return Ok(verification);
        }
        verification.events_checked += rest.len() as u64;
    }
    Ok(verification)
}

/// Each stream's last logged version and hash, by `type\nid`.
type Streams = HashMap<String, (i64, String)>;

/// The log's part of [`verify_log`].
async fn verify_sequenced(db: &Pool) -> Result<(Verification, Streams), AuditError> {
    const PAGE: i64 = 5_000;
    let mut streams = Streams::new();
    let mut digest = String::new();
    let mut at = 0_i64;
    let mut checked = 0_u64;
    loop {
        let page = records::log_page(db, at, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for (log_position, stored_digest, record) in page {
            let at_entry = |ticket_id: &str, version: i64, reason: String| Tampered {
                log_position: Some(log_position),
                ticket_id: ticket_id.to_owned(),
                version,
                reason,
            };
            let done = |p| {
                let found = Verification {
                    events_checked: checked,
                    digest: digest.clone(),
                    first_problem: Some(p),
                };
                Ok((found, Streams::new()))
            };
            if log_position != at + 1 {
                return done(at_entry(
                    "",
                    0,
                    format!("log entries {} to {} are missing", at + 1, log_position - 1),
                ));
            }
            at = log_position;
            let Some(r) = record else {
                return done(at_entry(
                    "",
                    0,
                    "the event at this log position was deleted".into(),
                ));
            };
            // Streams are per aggregate: a ticket's own events and its SLA
            // alerts (aggregate type SlaClock) chain separately.
            let stream = format!("{}\n{}", r.aggregate_type, r.ticket_id);
            let (last_version, previous) =
                streams.get(&stream).cloned().unwrap_or((0, String::new()));
            if r.sequence != last_version + 1 {
                return done(at_entry(
                    &r.ticket_id,
                    r.sequence,
                    format!(
                        "expected version {} of this ticket here, found {}: an event was deleted, inserted or reordered",
                        last_version + 1,
                        r.sequence
                    ),
                ));
            }
            let recomputed = match recompute(&previous, &r) {
                Ok(recomputed) => recomputed,
                Err(reason) => return done(at_entry(&r.ticket_id, r.sequence, reason)),
            };
            let next_digest = log_digest(&digest, &recomputed);
            if stored_digest.as_deref() != Some(next_digest.as_str()) {
                return done(at_entry(
                    &r.ticket_id,
                    r.sequence,
                    "log digest does not match: the log was reordered or rewritten here".into(),
                ));
            }
            digest = next_digest;
            streams.insert(stream, (r.sequence, recomputed));
            checked += 1;
        }
    }
    let verified = Verification {
        events_checked: checked,
        digest,
        first_problem: None,
    };
    Ok((verified, streams))
}

/// A ticket's state after each event, in order.
pub fn replay(records: &[Record]) -> Result<Vec<Ticket>, AuditError> {
    let mut ticket = Ticket::default();
    let mut states = Vec::with_capacity(records.len());
    for r in records {
        // Upcast: the history replays stored shapes as the current ones.
        let event: TicketEvent =
            projections::log::decode_value(&r.event_type, &r.event_version, r.payload.clone())
                .map_err(|source| AuditError::Undecodable {
                    ticket_id: r.ticket_id.clone(),
                    version: r.sequence,
                    source,
                })?;
        ticket.apply(event);
        states.push(ticket.clone());
    }
    Ok(states)
}

/// Where a past state is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    Version(u64),
    /// As the ticket stood at an instant of business time: the events that
    /// had happened by then, whenever they were entered.
    Occurred(DateTime<Utc>),
    /// As ticketd knew it at an instant of recording time: the events that
    /// had been entered by then, whenever they happened.
    Recorded(DateTime<Utc>),
}

/// The state after `at`, and its version (0: before the first event).
pub fn state_at(records: &[Record], at: At) -> Result<(Ticket, u64), AuditError> {
    let upto = match at {
        At::Version(v) => records
            .iter()
            .take_while(|r| r.sequence as u64 <= v)
            .count(),
        // Within a stream both times only move forward (a stated time may
        // not precede the previous event's; recording follows commit
        // order), so each question's answer is a prefix of the history.
        At::Occurred(t) => records.iter().take_while(|r| r.occurred() <= t).count(),
        At::Recorded(t) => records.iter().take_while(|r| r.recorded_at <= t).count(),
    };
    let states = replay(&records[..upto])?;
    Ok((states.last().cloned().unwrap_or_default(), upto as u64))
}

/// Field-by-field differences between two states, as (path, before, after).
pub fn diff(
    before: &Ticket,
    after: &Ticket,
) -> Vec<(String, serde_json::Value, serde_json::Value)> {
    let a = serde_json::to_value(before).unwrap_or_default();
    let b = serde_json::to_value(after).unwrap_or_default();
    let mut out = Vec::new();
    diff_values("", &a, &b, &mut out);
    out
}

fn diff_values(
    path: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    out: &mut Vec<(String, serde_json::Value, serde_json::Value)>,
) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                diff_values(
                    &child,
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if a != b => out.push((path.to_owned(), a.clone(), b.clone())),
        _ => {}
    }
}

/// The self-contained export of one ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    pub format: String,
    pub ticket_id: String,
    pub exported_at: DateTime<Utc>,
    /// How each hash is computed, for a verifier without ticketd.
    pub hash_rule: String,
    pub events: Vec<Record>,
    pub head_hash: String,
}

pub const EXPORT_FORMAT: &str = "ticketd.audit-export/2";

/// Exports made before events had two times; they still verify.
pub const EXPORT_FORMAT_V1: &str = "ticketd.audit-export/1";

pub const HASH_RULE: &str = "hash(n) = hex(sha256(hash(n-1) + \"\\n\" + [seal 2: \"v2\\n\" + event_id + \"\\n\" + recorded_at + \"\\n\" + occurred_at + \"\\n\", times as RFC 3339 UTC with 6 fractional digits and Z; seal 1: nothing] + aggregate_type + \"\\n\" + ticket_id + \"\\n\" + sequence + \"\\n\" + event_type + \"\\n\" + event_version + \"\\n\" + canonical(payload) + \"\\n\" + canonical(metadata))), hash(0) = \"\"; canonical = JSON with object keys sorted, no white space";

/// The export of `records`; an event stored in an older shape also carries
/// its current shape (unsealed, beside the sealed one).
pub fn export(mut records: Vec<Record>, ticket_id: &str, now: DateTime<Utc>) -> Export {
    for r in &mut records {
        if !domain::schema::is_current(&r.event_type, &r.event_version) {
            r.current =
                projections::log::current_value(&r.event_type, &r.event_version, r.payload.clone())
                    .ok()
                    .map(|payload| CurrentShape {
                        event_version: domain::schema::version_label(
                            domain::schema::current_version(&r.event_type),
                        ),
                        payload,
                    });
        }
    }
    let head_hash = records
        .last()
        .and_then(|r| r.hash.clone())
        .unwrap_or_default();
    Export {
        format: EXPORT_FORMAT.into(),
        ticket_id: ticket_id.to_owned(),
        exported_at: now,
        hash_rule: HASH_RULE.into(),
        events: records,
        head_hash,
    }
}

/// Checks an export offline. `Ok` carries the number of events and the head hash.
pub fn verify_export(json: &str) -> Result<(usize, String), Tampered> {
    let unreadable = |reason: String| Tampered {
        log_position: None,
        ticket_id: String::new(),
        version: 0,
        reason,
    };
    let export: Export =
        serde_json::from_str(json).map_err(|e| unreadable(format!("not a ticketd export: {e}")))?;
    if export.format != EXPORT_FORMAT && export.format != EXPORT_FORMAT_V1 {
        return Err(unreadable(format!("unknown format {:?}", export.format)));
    }
    if let Some(stranger) = export
        .events
        .iter()
        .find(|r| r.ticket_id != export.ticket_id)
    {
        return Err(Tampered {
            log_position: None,
            ticket_id: stranger.ticket_id.clone(),
            version: stranger.sequence,
            reason: format!(
                "event belongs to ticket {}, not {}",
                stranger.ticket_id, export.ticket_id
            ),
        });
    }
    let (head, problem) = check_chain(&export.events);
    if let Some(problem) = problem {
        return Err(problem);
    }
    if head != export.head_hash {
        return Err(Tampered {
            log_position: None,
            ticket_id: export.ticket_id,
            version: export.events.len() as i64,
            reason: "head hash does not match the last event: events were removed from the end"
                .into(),
        });
    }
    Ok((export.events.len(), head))
}
