//! Writing the cost ledger, on either store. The SQL is shared: it is
//! written with `$n` parameters and turned into SQLite's `?n` for SQLite.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use domain::TicketEvent;
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use super::ledger::{ledger, TicketLedger};
use super::COST_LEDGER;
use crate::log::{read_postgres, read_sqlite, stream_postgres, stream_sqlite, RawEvent};
use crate::ticket_summary::sortable_time;
use crate::ProjectionError;

/// A value to bind, whatever the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Val {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
}

fn month(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

/// Where the ledger is written: the live tables, or shadow tables a rebuild
/// fills before they are swapped in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostTarget {
    /// Appended to each table name.
    pub suffix: &'static str,
    pub checkpoint: &'static str,
}

impl CostTarget {
    pub const LIVE: CostTarget = CostTarget {
        suffix: "",
        checkpoint: COST_LEDGER,
    };
    pub const REBUILD: CostTarget = CostTarget {
        suffix: "_rebuild",
        checkpoint: "cost_ledger_rebuild",
    };

    /// `sql` written against the live tables, aimed at this target's.
    fn aim(&self, sql: &str) -> String {
        if self.suffix.is_empty() {
            return sql.to_owned();
        }
        super::TABLES.iter().fold(sql.to_owned(), |s, t| {
            s.replace(t, &format!("{t}{}", self.suffix))
        })
    }
}

/// The statements that replace one ticket's rows with `ledger`.
fn replace(ticket_id: &str, result: Result<TicketLedger, String>) -> Vec<(&'static str, Vec<Val>)> {
    let id = || Val::Text(ticket_id.to_owned());
    let mut out: Vec<(&'static str, Vec<Val>)> = vec![
        ("DELETE FROM cost_lines WHERE ticket_id = $1", vec![id()]),
        ("DELETE FROM cost_quoted WHERE ticket_id = $1", vec![id()]),
        ("DELETE FROM cost_tickets WHERE ticket_id = $1", vec![id()]),
    ];
    let l = match result {
        Ok(l) => l,
        Err(problem) => {
            out.push((
                "INSERT INTO cost_tickets (ticket_id, product_model, sale_month, region, currency,
                     invoiced_minor, paid_minor, first_month, problem)
                 VALUES ($1, '', NULL, '', NULL, 0, 0, '', $2)",
                vec![id(), Val::Text(problem)],
            ));
            return out;
        }
    };
    let currency = l.currency.as_ref().map(ToString::to_string);
    out.push((
        "INSERT INTO cost_tickets (ticket_id, product_model, sale_month, region, currency,
             invoiced_minor, paid_minor, first_month, problem)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
        vec![
            id(),
            Val::Text(l.product_model.clone()),
            Val::OptText(l.sale_month.clone()),
            Val::Text(l.region.clone()),
            Val::OptText(currency.clone()),
            Val::Int(l.invoiced),
            Val::Int(l.paid),
            Val::Text(l.received_at.map(month).unwrap_or_default()),
        ],
    ));
    for (kind, amount) in &l.quoted {
        out.push((
            "INSERT INTO cost_quoted (ticket_id, kind, amount_minor, currency) VALUES ($1, $2, $3, $4)",
            vec![
                id(),
                Val::Text(kind.as_str().to_owned()),
                Val::Int(*amount),
                Val::Text(currency.clone().unwrap_or_default()),
            ],
        ));
    }
    for (n, line) in l.lines.iter().enumerate() {
        out.push((
            "INSERT INTO cost_lines (ticket_id, line_no, cycle, kind, bearer, amount_minor, currency,
                 part_number, quantity, occurred_at, occurred_month, product_model, sale_month, region,
                 approver, tier)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            vec![
                id(),
                Val::Int(n as i64 + 1),
                Val::Int(i64::from(line.cycle)),
                Val::Text(line.kind.as_str().to_owned()),
                Val::Text(line.bearer.as_str().to_owned()),
                Val::Int(line.amount.minor()),
                Val::Text(line.amount.currency().to_string()),
                Val::OptText(line.part_number.clone()),
                Val::OptInt(line.quantity.map(i64::from)),
                Val::Text(sortable_time(line.occurred_at)),
                Val::Text(month(line.occurred_at)),
                Val::Text(l.product_model.clone()),
                Val::OptText(l.sale_month.clone()),
                Val::Text(l.region.clone()),
                Val::OptText(line.approver.clone()),
                Val::OptText(line.tier.map(|t| format!("{t:?}").to_lowercase())),
            ],
        ));
    }
    out
}

/// Tickets touched by a batch, with the highest version seen of each.
fn touched(batch: &[RawEvent]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for e in batch.iter().filter(|e| e.aggregate_type == "Ticket") {
        let seen = out.entry(e.ticket_id.clone()).or_insert(0);
        *seen = (*seen).max(e.sequence);
    }
    out
}

fn costed(
    rows: Vec<(serde_json::Value, DateTime<Utc>)>,
) -> Result<Result<TicketLedger, String>, ProjectionError> {
    let mut events = Vec::with_capacity(rows.len());
    for (payload, at) in rows {
        let event: TicketEvent =
            serde_json::from_value(payload).map_err(|source| ProjectionError::Undecodable {
                position: 0,
                source,
            })?;
        events.push((event, at));
    }
    Ok(ledger(&events).map_err(|e| e.to_string()))
}

/// Applies the next batch to the cost ledger on PostgreSQL.
pub async fn batch_postgres(
    pool: &PgPool,
    target: &CostTarget,
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

/// Applies up to `limit` events after `from` inside `tx`, and moves the
/// target's checkpoint. Returns how many, and the new position.
pub async fn apply_after_postgres(
    tx: &mut Transaction<'_, Postgres>,
    target: &CostTarget,
    from: i64,
    limit: i64,
) -> Result<(usize, i64), ProjectionError> {
    let batch = read_postgres(&mut **tx, from, limit).await?;
    let Some(last) = batch.last().map(|e| e.log_position) else {
        return Ok((0, from));
    };
    for (ticket_id, upto) in touched(&batch) {
        let rows = stream_postgres(tx, "Ticket", &ticket_id, upto).await?;
        for (sql, vals) in replace(&ticket_id, costed(rows)?) {
            let sql = target.aim(sql);
            bind_all!(sqlx::query(&sql), vals)
                .execute(&mut **tx)
                .await?;
        }
    }
    crate::postgres::move_checkpoint(tx, target.checkpoint, last).await?;
    Ok((batch.len(), last))
}

/// Applies the next batch to the cost ledger on SQLite.
pub async fn batch_sqlite(
    pool: &SqlitePool,
    target: &CostTarget,
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

/// Applies up to `limit` events after `from` inside `tx`, and moves the
/// target's checkpoint. Returns how many, and the new position.
pub async fn apply_after_sqlite(
    tx: &mut Transaction<'_, Sqlite>,
    target: &CostTarget,
    from: i64,
    limit: i64,
) -> Result<(usize, i64), ProjectionError> {
    let batch = read_sqlite(&mut **tx, from, limit).await?;
    let Some(last) = batch.last().map(|e| e.log_position) else {
        return Ok((0, from));
    };
    for (ticket_id, upto) in touched(&batch) {
        let rows = stream_sqlite(tx, "Ticket", &ticket_id, upto).await?;
        for (sql, vals) in replace(&ticket_id, costed(rows)?) {
            let sql = target.aim(sql);
            bind_all!(sqlx::query(&sql), vals)
                .execute(&mut **tx)
                .await?;
        }
    }
    crate::sqlite::move_checkpoint(tx, target.checkpoint, last).await?;
    Ok((batch.len(), last))
}
