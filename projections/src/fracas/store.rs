//! Writing FRACAS rows, on either store: when an event of a ticket (or of a
//! corrective action) arrives, that ticket's (action's) rows are replaced
//! with what its events say now, inside the batch transaction that also
//! moves the checkpoint. The SQL is shared (`$n` becomes `?n` on SQLite).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::capa::{ActionEvent, ActionStatus, CorrectiveAction};
use domain::LocalTime;
use domain::TicketEvent;
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use super::records::{failures, FailureRecord, Unit};
use super::FRACAS;
use crate::cost::store::Val;
use crate::log::{read_postgres, read_sqlite, stream_postgres, stream_sqlite, RawEvent};
use crate::ticket_summary::sortable_time;
use crate::ProjectionError;

/// Where FRACAS is written: the live tables, or a rebuild's shadow tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FracasTarget {
    /// Appended to each table name.
    pub suffix: &'static str,
    pub checkpoint: &'static str,
    /// What "the day" of a failure is (the policy's UTC offset).
    pub local: LocalTime,
}

impl FracasTarget {
    pub const REBUILD_CHECKPOINT: &'static str = "fracas_rebuild";

    pub fn live(local: LocalTime) -> Self {
        Self {
            suffix: "",
            checkpoint: FRACAS,
            local,
        }
    }

    pub fn rebuild(local: LocalTime) -> Self {
        Self {
            suffix: "_rebuild",
            checkpoint: Self::REBUILD_CHECKPOINT,
            local,
        }
    }

    fn aim(&self, sql: &str) -> String {
        if self.suffix.is_empty() {
            return sql.to_owned();
        }
        super::TABLES.iter().fold(sql.to_owned(), |s, t| {
            s.replace(t, &format!("{t}{}", self.suffix))
        })
    }
}

type Statements = Vec<(&'static str, Vec<Val>)>;

fn flag(b: bool) -> Val {
    Val::Int(i64::from(b))
}

/// The statements that replace one ticket's rows.
fn replace_ticket(ticket_id: &str, unit: Option<Unit>, records: Vec<FailureRecord>) -> Statements {
    let id = || Val::Text(ticket_id.to_owned());
    let mut out: Statements = vec![
        (
            "DELETE FROM fracas_failure_parts WHERE ticket_id = $1",
            vec![id()],
        ),
        (
            "DELETE FROM fracas_failures WHERE ticket_id = $1",
            vec![id()],
        ),
        ("DELETE FROM fracas_units WHERE ticket_id = $1", vec![id()]),
    ];
    if let Some(u) = unit {
        out.push((
            "INSERT INTO fracas_units (ticket_id, product_model, serial, batch, in_service_on, received_on)
             VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                id(),
                Val::Text(u.product_model),
                Val::Text(u.serial),
                Val::OptText(u.batch),
                Val::OptText(u.in_service_on.map(|d| d.to_string())),
                Val::Text(u.received_on.to_string()),
            ],
        ));
    }
    for r in records {
        let no = Val::Int(i64::from(r.record_no));
        for part in &r.failed_parts {
            out.push((
                "INSERT INTO fracas_failure_parts (ticket_id, record_no, part_number) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                vec![id(), no.clone(), Val::Text(part.clone())],
            ));
        }
        let relevant = r.relevant();
        out.push((
            "INSERT INTO fracas_failures (ticket_id, record_no, signal, occurred_at, failed_on, product_model,
                 serial, batch, failure_mode, symptom, failed_parts, root_cause, responsible_department,
                 operating_days, no_fault_found, misuse, relevant, cycle)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            vec![
                id(),
                no,
                Val::Text(r.signal.as_str().to_owned()),
                Val::Text(sortable_time(r.occurred_at)),
                Val::Text(r.failed_on.to_string()),
                Val::Text(r.product_model),
                Val::Text(r.serial),
                Val::OptText(r.batch),
                Val::Text(r.failure_mode),
                Val::Text(r.symptom),
                Val::Text(r.failed_parts.join(",")),
                Val::OptText(r.root_cause),
                Val::OptText(r.responsible_department),
                Val::OptInt(r.operating_days),
                flag(r.no_fault_found),
                flag(r.misuse),
                flag(relevant),
                Val::Int(i64::from(r.cycle)),
            ],
        ));
    }
    out
}

/// The statements that replace one corrective action's rows.
fn replace_action(action_id: &str, a: &CorrectiveAction) -> Statements {
    let id = || Val::Text(action_id.to_owned());
    let mut out: Statements = vec![
        (
            "DELETE FROM fracas_action_scope WHERE action_id = $1",
            vec![id()],
        ),
        (
            "DELETE FROM fracas_actions WHERE action_id = $1",
            vec![id()],
        ),
        (
            "DELETE FROM fracas_action_plan WHERE action_id = $1",
            vec![id()],
        ),
        (
            "DELETE FROM fracas_action_links WHERE action_id = $1",
            vec![id()],
        ),
    ];
    let Some(opened) = a.steps.first() else {
        return out;
    };
    let closed = a.steps.iter().find(|s| s.step == ActionStatus::Closed);
    out.push((
        "INSERT INTO fracas_actions (action_id, title, status, verification_window_days, root_cause,
             implemented_on, window_to, opened_at, opened_by, closed_at, closed_by, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        vec![
            id(),
            Val::Text(a.title.as_ref().map(ToString::to_string).unwrap_or_default()),
            Val::Text(a.status.as_str().to_owned()),
            Val::Int(i64::from(a.verification_window_days)),
            Val::OptText(a.root_cause.map(|r| r.as_str().to_owned())),
            Val::OptText(a.implemented_on.map(|d| d.to_string())),
            Val::OptText(a.window().map(|(_, to)| to.to_string())),
            Val::Text(sortable_time(opened.at)),
            Val::Text(opened.by.to_string()),
            Val::OptText(closed.map(|s| sortable_time(s.at))),
            Val::OptText(closed.map(|s| s.by.to_string())),
            Val::Int(i64::try_from(a.version).unwrap_or(i64::MAX)),
        ],
    ));
    for (d, p) in &a.eight_d.plan {
        out.push((
            "INSERT INTO fracas_action_plan (action_id, discipline, owner, due_on, done)
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                id(),
                Val::Text(d.as_str().to_owned()),
                Val::Text(p.owner.to_string()),
                Val::Text(p.due_on.to_string()),
                flag(a.done(*d)),
            ],
        ));
    }
    for t in &a.eight_d.linked_tickets {
        out.push((
            "INSERT INTO fracas_action_links (action_id, ticket_id) VALUES ($1, $2)",
            vec![id(), Val::Text(t.clone())],
        ));
    }
    for (kind, values) in [("mode", &a.failure_modes), ("model", &a.models)] {
        for v in values {
            out.push((
                "INSERT INTO fracas_action_scope (action_id, kind, value) VALUES ($1, $2, $3)",
                vec![id(), Val::Text(kind.to_owned()), Val::Text(v.to_string())],
            ));
        }
    }
    out
}

/// Streams of `aggregate_type` touched by a batch, with the highest version seen.
fn touched(batch: &[RawEvent], aggregate_type: &str) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for e in batch.iter().filter(|e| e.aggregate_type == aggregate_type) {
        let seen = out.entry(e.ticket_id.clone()).or_insert(0);
        *seen = (*seen).max(e.sequence);
    }
    out
}

fn decode<T: serde::de::DeserializeOwned>(
    payload: serde_json::Value,
) -> Result<T, ProjectionError> {
    serde_json::from_value(payload).map_err(|source| ProjectionError::Undecodable {
        position: 0,
        source,
    })
}

fn ticket_rows(
    ticket_id: &str,
    rows: Vec<(serde_json::Value, DateTime<Utc>)>,
    local: LocalTime,
) -> Result<Statements, ProjectionError> {
    let mut events = Vec::with_capacity(rows.len());
    for (payload, at) in rows {
        events.push((decode::<TicketEvent>(payload)?, at));
    }
    let (unit, records) = failures(ticket_id, &events, local);
    Ok(replace_ticket(ticket_id, unit, records))
}

fn action_rows(
    action_id: &str,
    rows: Vec<(serde_json::Value, DateTime<Utc>)>,
    _: LocalTime,
) -> Result<Statements, ProjectionError> {
    let mut action = CorrectiveAction::default();
    for (payload, _) in rows {
        action.apply(decode::<ActionEvent>(payload)?);
    }
    Ok(replace_action(action_id, &action))
}

/// The statements for every stream a batch touched.
type Derive = fn(
    &str,
    Vec<(serde_json::Value, DateTime<Utc>)>,
    LocalTime,
) -> Result<Statements, ProjectionError>;

const AGGREGATES: [(&str, Derive); 2] =
    [("Ticket", ticket_rows), ("CorrectiveAction", action_rows)];

/// Applies the next batch to FRACAS on PostgreSQL.
pub async fn batch_postgres(
    pool: &PgPool,
    target: &FracasTarget,
    limit: i64,
) -> Result<usize, ProjectionError> {
    if !crate::postgres::behind(pool, target.checkpoint).await? {
        return Ok(0);
    }
    let mut tx: Transaction<'_, Postgres> = pool.begin().await?;
    let from = crate::postgres::lock_checkpoint(&mut tx, target.checkpoint).await?;
    let (applied, _) = apply_after_postgres(&mut tx, target, from, limit).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Applies up to `limit` events after `from` inside `tx` and moves the
/// target's checkpoint. Returns how many, and the new position.
pub async fn apply_after_postgres(
    tx: &mut Transaction<'_, Postgres>,
    target: &FracasTarget,
    from: i64,
    limit: i64,
) -> Result<(usize, i64), ProjectionError> {
    let batch = read_postgres(&mut **tx, from, limit).await?;
    let Some(last) = batch.last().map(|e| e.log_position) else {
        return Ok((0, from));
    };
    for (aggregate_type, derive) in AGGREGATES {
        for (id, upto) in touched(&batch, aggregate_type) {
            let rows = stream_postgres(tx, aggregate_type, &id, upto).await?;
            for (sql, vals) in derive(&id, rows, target.local)? {
                let sql = target.aim(sql);
                bind_all!(sqlx::query(&sql), vals)
                    .execute(&mut **tx)
                    .await?;
            }
        }
    }
    crate::postgres::move_checkpoint(tx, target.checkpoint, last).await?;
    Ok((batch.len(), last))
}

/// Applies the next batch to FRACAS on SQLite.
pub async fn batch_sqlite(
    pool: &SqlitePool,
    target: &FracasTarget,
    limit: i64,
) -> Result<usize, ProjectionError> {
    if !crate::sqlite::behind(pool, target.checkpoint).await? {
        return Ok(0);
    }
    let mut tx: Transaction<'_, Sqlite> = pool.begin().await?;
    let from = crate::sqlite::lock_checkpoint(&mut tx, target.checkpoint).await?;
    let (applied, _) = apply_after_sqlite(&mut tx, target, from, limit).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Applies up to `limit` events after `from` inside `tx` and moves the
/// target's checkpoint. Returns how many, and the new position.
pub async fn apply_after_sqlite(
    tx: &mut Transaction<'_, Sqlite>,
    target: &FracasTarget,
    from: i64,
    limit: i64,
) -> Result<(usize, i64), ProjectionError> {
    let batch = read_sqlite(&mut **tx, from, limit).await?;
    let Some(last) = batch.last().map(|e| e.log_position) else {
        return Ok((0, from));
    };
    for (aggregate_type, derive) in AGGREGATES {
        for (id, upto) in touched(&batch, aggregate_type) {
            let rows = stream_sqlite(tx, aggregate_type, &id, upto).await?;
            for (sql, vals) in derive(&id, rows, target.local)? {
                let sql = target.aim(sql);
                bind_all!(sqlx::query(&sql), vals)
                    .execute(&mut **tx)
                    .await?;
            }
        }
    }
    crate::sqlite::move_checkpoint(tx, target.checkpoint, last).await?;
    Ok((batch.len(), last))
}
