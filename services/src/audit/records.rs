//! Reading stored events with their seals, for audit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::store::Pool;

/// One stored event as an auditor sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Position in the global log; `None` if not yet sequenced.
    #[serde(skip)]
    pub log_position: Option<i64>,
    /// The log entry's digest, if sequenced.
    #[serde(skip)]
    pub log_digest: Option<String>,
    pub ticket_id: String,
    pub aggregate_type: String,
    pub sequence: i64,
    pub event_id: String,
    pub event_type: String,
    pub event_version: String,
    pub payload: serde_json::Value,
    pub metadata: serde_json::Value,
    /// When ticketd stored it.
    pub recorded_at: DateTime<Utc>,
    /// When it happened (business time). Absent only in exports made
    /// before events had two times (seal format 1), where it is
    /// `recorded_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<DateTime<Utc>>,
    /// The seal format (`projections::log::seal`): 1 or 2.
    #[serde(default = "seal_v1")]
    pub seal: i16,
    pub hash: Option<String>,
    /// In an export, for an event stored in an older shape: the same event
    /// in the current shape of its type (`domain::schema`). Not sealed: the
    /// hash covers the stored `payload` and `event_version` above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<CurrentShape>,
}

/// An event upcast to the current shape of its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentShape {
    pub event_version: String,
    pub payload: serde_json::Value,
}

fn seal_v1() -> i16 {
    projections::log::seal::SEAL_V1
}

impl Record {
    /// When it happened (business time).
    pub fn occurred(&self) -> DateTime<Utc> {
        self.occurred_at.unwrap_or(self.recorded_at)
    }
}

/// The whole log in log order, including entries whose event is gone.
const PG_LOG: &str = "
SELECT l.log_position, l.digest AS log_digest, e.aggregate_id, e.aggregate_type, e.sequence,
       e.event_id::text AS event_id, e.event_type, e.event_version, e.payload, e.metadata,
       e.recorded_at, e.occurred_at, e.seal, e.hash
  FROM event_log l LEFT JOIN events e ON e.position = l.event_position
 WHERE l.log_position > $1
 ORDER BY l.log_position
 LIMIT $2";

const SQLITE_LOG: &str = "
SELECT l.log_position, l.digest AS log_digest, e.aggregate_id, e.aggregate_type, e.sequence,
       e.event_id, e.event_type, e.event_version, e.payload, e.metadata, e.recorded_at, e.occurred_at, e.seal, e.hash
  FROM event_log l LEFT JOIN events e ON e.position = l.event_position
 WHERE l.log_position > ?1
 ORDER BY l.log_position
 LIMIT ?2";

/// One stream's events after a version, whether sequenced or not.
const PG_STREAM_AFTER: &str = "
SELECT l.log_position, l.digest AS log_digest, e.aggregate_id, e.aggregate_type, e.sequence,
       e.event_id::text AS event_id, e.event_type, e.event_version, e.payload, e.metadata,
       e.recorded_at, e.occurred_at, e.seal, e.hash
  FROM events e LEFT JOIN event_log l ON l.event_position = e.position
 WHERE e.aggregate_type = $1 AND e.aggregate_id = $2 AND e.sequence > $3
 ORDER BY e.sequence";

const SQLITE_STREAM_AFTER: &str = "
SELECT l.log_position, l.digest AS log_digest, e.aggregate_id, e.aggregate_type, e.sequence,
       e.event_id, e.event_type, e.event_version, e.payload, e.metadata, e.recorded_at, e.occurred_at, e.seal, e.hash
  FROM events e LEFT JOIN event_log l ON l.event_position = e.position
 WHERE e.aggregate_type = ?1 AND e.aggregate_id = ?2 AND e.sequence > ?3
 ORDER BY e.sequence";

/// The streams with events past the log's tail in sequencing order (the
/// same index range `projections::log::backlog` counts).
const PG_UNSEQUENCED_STREAMS: &str = "WITH tail AS (
    SELECT e.transaction_id AS x, e.position AS pos
      FROM event_log l JOIN events e ON e.position = l.event_position
     ORDER BY l.log_position DESC LIMIT 1),
  t AS (SELECT COALESCE((SELECT x FROM tail), '0'::xid8) AS x,
               COALESCE((SELECT pos FROM tail), 0) AS pos)
SELECT DISTINCT e.aggregate_type, e.aggregate_id FROM events e, t
 WHERE (e.transaction_id, e.position) > (t.x, t.pos)";

const SQLITE_UNSEQUENCED_STREAMS: &str = "SELECT DISTINCT aggregate_type, aggregate_id FROM events
 WHERE position > (SELECT COALESCE(MAX(event_position), 0) FROM event_log)";

/// A log entry: its position and digest, and its event unless deleted.
pub type LogEntry = (i64, Option<String>, Option<Record>);

fn pg_record(row: &sqlx::postgres::PgRow) -> Result<Option<Record>, sqlx::Error> {
    let Some(ticket_id) = row.try_get::<Option<String>, _>("aggregate_id")? else {
        return Ok(None);
    };
    Ok(Some(Record {
        log_position: row.try_get("log_position")?,
        log_digest: row.try_get("log_digest")?,
        ticket_id,
        aggregate_type: row.try_get("aggregate_type")?,
        sequence: row.try_get("sequence")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        recorded_at: row.try_get("recorded_at")?,
        occurred_at: Some(row.try_get("occurred_at")?),
        seal: row.try_get("seal")?,
        hash: row.try_get("hash")?,
        current: None,
    }))
}

fn json(raw: &str) -> Result<serde_json::Value, sqlx::Error> {
    serde_json::from_str(raw).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn sqlite_record(row: &sqlx::sqlite::SqliteRow) -> Result<Option<Record>, sqlx::Error> {
    let Some(ticket_id) = row.try_get::<Option<String>, _>("aggregate_id")? else {
        return Ok(None);
    };
    let payload: String = row.try_get("payload")?;
    let metadata: String = row.try_get("metadata")?;
    let recorded_at: String = row.try_get("recorded_at")?;
    let occurred_at: String = row.try_get("occurred_at")?;
    let time = |raw: &str| {
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))
    };
    Ok(Some(Record {
        log_position: row.try_get("log_position")?,
        log_digest: row.try_get("log_digest")?,
        ticket_id,
        aggregate_type: row.try_get("aggregate_type")?,
        sequence: row.try_get("sequence")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: json(&payload)?,
        metadata: json(&metadata)?,
        recorded_at: time(&recorded_at)?,
        occurred_at: Some(time(&occurred_at)?),
        seal: row.try_get("seal")?,
        hash: row.try_get("hash")?,
        current: None,
    }))
}

/// A ticket's events in sequence order.
pub async fn ticket(db: &Pool, ticket_id: &str) -> Result<Vec<Record>, sqlx::Error> {
    stream_after(db, "Ticket", ticket_id, 0).await
}

/// Up to `limit` log entries after `after`.
pub async fn log_page(db: &Pool, after: i64, limit: i64) -> Result<Vec<LogEntry>, sqlx::Error> {
    match db {
        Pool::Postgres(pool) => {
            let rows = sqlx::query(PG_LOG)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get("log_position")?,
                        r.try_get("log_digest")?,
                        pg_record(r)?,
                    ))
                })
                .collect()
        }
        Pool::Sqlite(pool) => {
            let rows = sqlx::query(SQLITE_LOG)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get("log_position")?,
                        r.try_get("log_digest")?,
                        sqlite_record(r)?,
                    ))
                })
                .collect()
        }
    }
}

/// The streams (aggregate type, id) with events stored and not yet in
/// the log.
pub async fn unsequenced_streams(db: &Pool) -> Result<Vec<(String, String)>, sqlx::Error> {
    match db {
        Pool::Postgres(pool) => sqlx::query_as(PG_UNSEQUENCED_STREAMS).fetch_all(pool).await,
        Pool::Sqlite(pool) => {
            sqlx::query_as(SQLITE_UNSEQUENCED_STREAMS)
                .fetch_all(pool)
                .await
        }
    }
}

/// A stream's events after version `after`, in sequence order, whether
/// the log has them yet or not.
pub async fn stream_after(
    db: &Pool,
    aggregate_type: &str,
    id: &str,
    after: i64,
) -> Result<Vec<Record>, sqlx::Error> {
    match db {
        Pool::Postgres(pool) => {
            let rows = sqlx::query(PG_STREAM_AFTER)
                .bind(aggregate_type)
                .bind(id)
                .bind(after)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .filter_map(|r| pg_record(r).transpose())
                .collect()
        }
        Pool::Sqlite(pool) => {
            let rows = sqlx::query(SQLITE_STREAM_AFTER)
                .bind(aggregate_type)
                .bind(id)
                .bind(after)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .filter_map(|r| sqlite_record(r).transpose())
                .collect()
        }
    }
}
