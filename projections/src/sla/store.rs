//! Writing the SLA projection, on either store: the SQL is shared, written
//! with `$n` parameters and turned into SQLite's `?n`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use domain::TicketEvent;
use sqlx::{PgPool, Postgres, Row, Sqlite, SqlitePool, Transaction};

use super::alerts::Alert;
use super::clocks::{derive, TicketSla};
use super::{SlaConfig, ALERT_AGGREGATE, SLA};
use crate::cost::store::Val;
use crate::log::{read_postgres, read_sqlite, RawEvent};
use crate::ticket_summary::sortable_time;
use crate::ProjectionError;

/// Where the projection is written: the live tables, or the shadow tables
/// a rebuild fills before swapping them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaTarget {
    pub suffix: &'static str,
    pub checkpoint: &'static str,
}

impl SlaTarget {
    pub const LIVE: SlaTarget = SlaTarget {
        suffix: "",
        checkpoint: SLA,
    };
    pub const REBUILD: SlaTarget = SlaTarget {
        suffix: "_rebuild",
        checkpoint: "sla_rebuild",
    };

    fn aim(&self, sql: &str) -> String {
        if self.suffix.is_empty() {
            return sql.to_owned();
        }
        super::TABLES.iter().fold(sql.to_owned(), |s, t| {
            s.replace(t, &format!("{t}{}", self.suffix))
        })
    }
}

/// When an event happened, as the event says (its `at`, or `received_at`).
pub fn occurred_at(payload: &serde_json::Value) -> Option<DateTime<Utc>> {
    let body = payload.as_object()?.values().next()?;
    let at = body.get("at").or_else(|| body.get("received_at"))?;
    serde_json::from_value(at.clone()).ok()
}

/// (clock, cycle, kind) of the alerts already in the log.
type Noted = BTreeSet<(String, u32, String)>;

/// Ticket events with the instant each happened.
type Timed = Vec<(TicketEvent, DateTime<Utc>)>;

/// Decodes a ticket's stored events (both aggregate types, log order).
fn decode(
    rows: Vec<(String, serde_json::Value, DateTime<Utc>)>,
) -> Result<(Timed, Noted), ProjectionError> {
    let mut events = Vec::new();
    let mut noted = Noted::new();
    for (kind, payload, stored_at) in rows {
        let undecodable = |source| ProjectionError::Undecodable {
            position: 0,
            source,
        };
        if kind == ALERT_AGGREGATE {
            let alert: Alert = serde_json::from_value(payload).map_err(undecodable)?;
            noted.insert((
                alert.clock().to_owned(),
                alert.cycle(),
                alert.name().to_owned(),
            ));
        } else {
            let at = occurred_at(&payload).unwrap_or(stored_at);
            events.push((serde_json::from_value(payload).map_err(undecodable)?, at));
        }
    }
    Ok((events, noted))
}

/// The statements that replace one ticket's rows.
fn replace(
    ticket_id: &str,
    sla: &TicketSla,
    noted: &Noted,
    config: &SlaConfig,
) -> Vec<(&'static str, Vec<Val>)> {
    let id = || Val::Text(ticket_id.to_owned());
    let mut out: Vec<(&'static str, Vec<Val>)> = vec![
        ("DELETE FROM sla_clocks WHERE ticket_id = $1", vec![id()]),
        ("DELETE FROM sla_revisits WHERE ticket_id = $1", vec![id()]),
    ];
    let cal = config.calendars.for_region(&sla.facts.region);
    let t = |x: Option<DateTime<Utc>>| Val::OptText(x.map(sortable_time));
    let technician = sla.technician.clone().unwrap_or_default();
    for c in &sla.clocks {
        let outcome = c.stopped_at.or(c.deadline);
        let note = |kind: &str| {
            Val::Int(i64::from(noted.contains(&(
                c.clock.clone(),
                c.cycle,
                kind.to_owned(),
            ))))
        };
        out.push((
            "INSERT INTO sla_clocks (ticket_id, clock, cycle, basis, target_seconds, started_at, state,
                 paused_seconds, paused_since, elapsed_seconds, stopped_at, at_risk_at, deadline_at, met,
                 outcome_at, outcome_week, kind, priority, region, technician, risk_noted, breach_noted)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                 $20, $21, $22)",
            vec![
                id(),
                Val::Text(c.clock.clone()),
                Val::Int(i64::from(c.cycle)),
                Val::Text(format!("{:?}", c.basis).to_lowercase()),
                Val::Int(c.target),
                Val::Text(sortable_time(c.started_at)),
                Val::Text(c.state.as_str().to_owned()),
                Val::Int(c.paused),
                t(c.paused_since),
                Val::Int(c.elapsed),
                t(c.stopped_at),
                t(c.at_risk_at),
                t(c.deadline),
                Val::OptInt(c.met.map(i64::from)),
                t(outcome),
                Val::OptText(outcome.map(|o| cal.week_of(o))),
                Val::Text(sla.facts.kind.clone()),
                Val::Text(sla.facts.priority.clone()),
                Val::Text(sla.facts.region.clone()),
                Val::Text(technician.clone()),
                note(Alert::AT_RISK),
                note(Alert::BREACHED),
            ],
        ));
    }
    for (n, r) in sla.revisits.iter().enumerate() {
        out.push((
            "INSERT INTO sla_revisits (ticket_id, n, cycle, revisited_at, week, resolved, satisfied, region, technician)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                id(),
                Val::Int(n as i64 + 1),
                Val::Int(i64::from(r.cycle)),
                Val::Text(sortable_time(r.at)),
                Val::Text(cal.week_of(r.at)),
                Val::Int(i64::from(r.resolved)),
                Val::Int(i64::from(r.satisfied)),
                Val::Text(sla.facts.region.clone()),
                Val::Text(technician.clone()),
            ],
        ));
    }
    out
}

/// Tickets touched by a batch (their own events or their alerts).
fn touched(batch: &[RawEvent]) -> BTreeSet<String> {
    batch
        .iter()
        .filter(|e| e.aggregate_type == "Ticket" || e.aggregate_type == ALERT_AGGREGATE)
        .map(|e| e.ticket_id.clone())
        .collect()
}

const PG_TICKET: &str = "
SELECT e.aggregate_type, e.payload, e.occurred_at
  FROM events e JOIN event_log l ON l.event_position = e.position
 WHERE e.aggregate_id = $1 AND e.aggregate_type IN ('Ticket', 'SlaClock') AND l.log_position <= $2
 ORDER BY l.log_position";

/// Applies the next batch on PostgreSQL.
pub async fn batch_postgres(
    pool: &PgPool,
    config: &SlaConfig,
    target: &SlaTarget,
    limit: i64,
) -> Result<usize, ProjectionError> {
    if !crate::postgres::behind(pool, target.checkpoint).await? {
        return Ok(0);
    }
    let mut tx: Transaction<'_, Postgres> = pool.begin().await?;
    let from = crate::postgres::lock_checkpoint(&mut tx, target.checkpoint).await?;
    let (applied, _) = apply_after_postgres(&mut tx, config, target, from, limit).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Applies up to `limit` events after `from` inside `tx` and moves the
/// target's checkpoint. Returns how many, and the new position.
pub async fn apply_after_postgres(
    tx: &mut Transaction<'_, Postgres>,
    config: &SlaConfig,
    target: &SlaTarget,
    from: i64,
    limit: i64,
) -> Result<(usize, i64), ProjectionError> {
    let batch = read_postgres(&mut **tx, from, limit).await?;
    let Some(last) = batch.last().map(|e| e.log_position) else {
        return Ok((0, from));
    };
    for ticket_id in touched(&batch) {
        let rows = sqlx::query(PG_TICKET)
            .bind(&ticket_id)
            .bind(last)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(|r| {
                Ok((
                    r.try_get("aggregate_type")?,
                    r.try_get("payload")?,
                    r.try_get("occurred_at")?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let (events, noted) = decode(rows)?;
        let sla = derive(&events, &config.policy, &config.calendars);
        for (sql, vals) in replace(&ticket_id, &sla, &noted, config) {
            let sql = target.aim(sql);
            bind_vals!(sqlx::query(&sql), vals)
                .execute(&mut **tx)
                .await?;
        }
    }
    crate::postgres::move_checkpoint(tx, target.checkpoint, last).await?;
    Ok((batch.len(), last))
}

/// Applies the next batch on SQLite.
pub async fn batch_sqlite(
    pool: &SqlitePool,
    config: &SlaConfig,
    target: &SlaTarget,
    limit: i64,
) -> Result<usize, ProjectionError> {
    if !crate::sqlite::behind(pool, target.checkpoint).await? {
        return Ok(0);
    }
    let mut tx: Transaction<'_, Sqlite> = pool.begin().await?;
    let from = crate::sqlite::lock_checkpoint(&mut tx, target.checkpoint).await?;
    let (applied, _) = apply_after_sqlite(&mut tx, config, target, from, limit).await?;
    tx.commit().await?;
    Ok(applied)
}

/// Applies up to `limit` events after `from` inside `tx` and moves the
/// target's checkpoint. Returns how many, and the new position.
pub async fn apply_after_sqlite(
    tx: &mut Transaction<'_, Sqlite>,
    config: &SlaConfig,
    target: &SlaTarget,
    from: i64,
    limit: i64,
) -> Result<(usize, i64), ProjectionError> {
    let batch = read_sqlite(&mut **tx, from, limit).await?;
    let Some(last) = batch.last().map(|e| e.log_position) else {
        return Ok((0, from));
    };
    for ticket_id in touched(&batch) {
        let rows = sqlx::query(PG_TICKET)
            .bind(&ticket_id)
            .bind(last)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(|r| {
                let payload: String = r.try_get("payload")?;
                let at: String = r.try_get("occurred_at")?;
                let payload =
                    serde_json::from_str(&payload).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                Ok((
                    r.try_get("aggregate_type")?,
                    payload,
                    crate::log::parse_time(&at)?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let (events, noted) = decode(rows)?;
        let sla = derive(&events, &config.policy, &config.calendars);
        for (sql, vals) in replace(&ticket_id, &sla, &noted, config) {
            let sql = target.aim(sql);
            bind_vals!(sqlx::query(&sql), vals)
                .execute(&mut **tx)
                .await?;
        }
    }
    crate::sqlite::move_checkpoint(tx, target.checkpoint, last).await?;
    Ok((batch.len(), last))
}
