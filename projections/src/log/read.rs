//! The global event log: reading it in `log_position` order on either
//! store, and (on PostgreSQL) the sequencer that extends it.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use domain::TicketEvent;
use serde::de::DeserializeOwned;

use crate::db::{Pool, Tx, Val};
use crate::rows::{self, Write};
use crate::ProjectionError;

/// One event as stored, with its place in the log ([`READ`]'s row on
/// either store: JSON text, `timestamptz` or RFC 3339 text).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RawEvent {
    pub log_position: i64,
    pub event_id: String,
    pub aggregate_type: String,
    pub ticket_id: String,
    /// Sequence within the ticket's stream: the ticket's version after it.
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// The event's JSON as the store keeps it (the text ticketd wrote, in
    /// SQLite's text and PostgreSQL's `json` columns; rows stored before
    /// migration `20261207000700` keep `jsonb`'s rendering): decoded
    /// straight into the event type by a projection, handed on unchanged
    /// to a subscriber.
    pub payload: String,
    /// The metadata's JSON object as stored, as text: read by the few
    /// readers that need it ([`Self::metadata_fields`], [`Self::meta`]),
    /// not decoded for every event a projection reads.
    pub metadata: String,
    /// When ticketd stored it.
    pub recorded_at: DateTime<Utc>,
    /// When it happened (business time).
    pub occurred_at: DateTime<Utc>,
}

/// A ticket event decoded from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    pub position: i64,
    pub ticket_id: String,
    pub sequence: i64,
    pub recorded_at: DateTime<Utc>,
    pub occurred_at: DateTime<Utc>,
    pub event: TicketEvent,
}

impl RawEvent {
    /// The payload in the current shape of its type: the stored text as it
    /// is when it already has that shape, else upcast (`domain::schema`).
    ///
    /// Invariant: every reader of a stored payload goes through this (or
    /// [`current_payload`]); the stored bytes, which the seal covers, are
    /// never rewritten.
    pub fn current_payload(&self) -> Result<Cow<'_, str>, ProjectionError> {
        current_payload(&self.event_type, &self.event_version, &self.payload)
            .map_err(|e| e.at(self.log_position))
    }

    /// This event with its payload (and `event_version`) in the current
    /// shape of its type: for readers that hand the JSON on (subscribers,
    /// the relay).
    pub fn into_current(mut self) -> Result<Self, ProjectionError> {
        let upcast = match self.current_payload()? {
            Cow::Owned(payload) => Some(payload),
            Cow::Borrowed(_) => None,
        };
        if let Some(payload) = upcast {
            self.payload = payload;
            self.event_version =
                domain::schema::version_label(domain::schema::current_version(&self.event_type));
        }
        Ok(self)
    }

    /// Every metadata field, each value as text.
    pub fn metadata_fields<M: Default + Extend<(String, String)>>(
        &self,
    ) -> Result<M, ProjectionError> {
        super::metadata::fields(&self.metadata).map_err(|e| self.undecodable(e))
    }

    /// One metadata field as text, if the event has it.
    pub fn meta(&self, key: &str) -> Result<Option<String>, ProjectionError> {
        super::metadata::field(&self.metadata, key).map_err(|e| self.undecodable(e))
    }

    /// The product model the event's metadata names ("" when it names
    /// none or cannot be read): what subscription filters match on.
    pub fn product_model(&self) -> String {
        self.meta("product_model")
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// The payload decoded as `T`, in its current shape.
    pub fn decode_as<T: DeserializeOwned>(&self) -> Result<T, ProjectionError> {
        serde_json::from_str(&self.current_payload()?).map_err(|e| self.undecodable(e))
    }

    /// `source` as the error of this event's JSON (payload or metadata).
    pub fn undecodable(&self, source: serde_json::Error) -> ProjectionError {
        ProjectionError::Undecodable {
            position: self.log_position,
            source,
        }
    }

    pub fn decode(&self) -> Result<LoggedEvent, ProjectionError> {
        let event = self.decode_as()?;
        Ok(LoggedEvent {
            position: self.log_position,
            ticket_id: self.ticket_id.clone(),
            sequence: self.sequence,
            recorded_at: self.recorded_at,
            occurred_at: self.occurred_at,
            event,
        })
    }
}

/// Why a stored payload could not be brought to its current shape.
#[derive(Debug, thiserror::Error)]
pub enum ShapeError {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Schema(#[from] domain::schema::SchemaError),
}

impl ShapeError {
    fn at(self, position: i64) -> ProjectionError {
        match self {
            ShapeError::Json(source) => ProjectionError::Undecodable { position, source },
            ShapeError::Schema(source) => ProjectionError::Unreadable { position, source },
        }
    }
}

/// A stored payload (`event_type` at `event_version`) in the current shape
/// of its type: borrowed as stored when it is current, else upcast and
/// re-serialized. The one upcasting step of every reader of the log.
pub fn current_payload<'a>(
    event_type: &str,
    event_version: &str,
    payload: &'a str,
) -> Result<Cow<'a, str>, ShapeError> {
    if domain::schema::is_current(event_type, event_version) {
        return Ok(Cow::Borrowed(payload));
    }
    let stored: serde_json::Value = serde_json::from_str(payload).map_err(ShapeError::Json)?;
    current_value(event_type, event_version, stored).map(|v| Cow::Owned(v.to_string()))
}

/// [`current_payload`] for a payload already parsed.
pub fn current_value(
    event_type: &str,
    event_version: &str,
    stored: serde_json::Value,
) -> Result<serde_json::Value, ShapeError> {
    domain::schema::upcast(event_type, event_version, stored).map_err(ShapeError::Schema)
}

/// A stored payload, already parsed, decoded as `T` in its current shape.
pub fn decode_value<T: DeserializeOwned>(
    event_type: &str,
    event_version: &str,
    stored: serde_json::Value,
) -> Result<T, ShapeError> {
    Ok(serde_json::from_value(current_value(
        event_type,
        event_version,
        stored,
    )?)?)
}

/// Reading the log, the same SQL on both stores: the JSON as text, the
/// times as [`At`].
pub(crate) const READ: &str = "
SELECT l.log_position, CAST(e.event_id AS TEXT) AS event_id, e.aggregate_type,
       e.aggregate_id AS ticket_id, e.sequence, e.event_type, e.event_version,
       CAST(e.payload AS TEXT) AS payload, CAST(e.metadata AS TEXT) AS metadata, e.recorded_at, e.occurred_at
  FROM event_log l JOIN events e ON e.position = l.event_position
 WHERE l.log_position > $1
 ORDER BY l.log_position
 LIMIT $2";

pub(crate) fn read_vals(after: i64, limit: i64) -> Vec<Val> {
    vec![Val::Int(after), Val::Int(limit)]
}

/// The last position in the log (0 when empty).
pub async fn head(pool: &Pool) -> Result<i64, sqlx::Error> {
    let max = "SELECT CAST(COALESCE(MAX(log_position), 0) AS BIGINT) FROM event_log";
    pool.number(max, vec![]).await
}

/// Advisory lock key of the PostgreSQL sequencer ("ticketd sequencer").
const SEQUENCER_LOCK: i64 = 0x7469_636b_6574_0001;

/// Chains `events` (event position, event hash) onto `tail` and returns the
/// rows to append: (log position, event position, digest).
fn chain(
    tail_position: i64,
    tail_digest: &str,
    events: Vec<(i64, Option<String>)>,
) -> Vec<(i64, i64, String)> {
    let mut digest = tail_digest.to_owned();
    events
        .into_iter()
        .enumerate()
        .map(|(i, (event_position, hash))| {
            digest = crate::log::seal::log_digest(&digest, hash.as_deref().unwrap_or(""));
            (tail_position + 1 + i as i64, event_position, digest.clone())
        })
        .collect()
}

/// The last log entry: its position and digest, its event's transaction
/// (PostgreSQL) and position.
const TAIL_PG: &str =
    "SELECT l.log_position, COALESCE(l.digest, ''), e.transaction_id::text, e.position
   FROM event_log l JOIN events e ON e.position = l.event_position
  ORDER BY l.log_position DESC LIMIT 1";
const TAIL_SQLITE: &str = "SELECT log_position, COALESCE(digest, ''), '0', event_position
   FROM event_log ORDER BY log_position DESC LIMIT 1";

/// The events to append after the tail: on PostgreSQL in
/// `(transaction_id, position)` order and only those whose transaction is
/// older than every transaction still running that could have written
/// one, so no event can later commit in front of them; on SQLite position
/// order is commit order.
///
/// The horizon is the oldest transaction of this statement's snapshot
/// still running (`pg_snapshot_xip`), leaving out those known to run in
/// another database of the cluster (a backend of another database, or a
/// transaction prepared there): they cannot write this database's events,
/// and a shared cluster's idle-in-transaction session elsewhere must not
/// stop the log. A running transaction whose database is not known (it
/// ended since the snapshot) still counts, so the horizon never passes a
/// transaction of ours; with none, the snapshot's xmax. Transaction ids
/// are compared on their low 32 bits, which is what `backend_xid` holds.
const NEXT_PG: &str = "WITH snap AS (SELECT pg_current_snapshot() AS s),
  elsewhere AS (
    SELECT backend_xid::text::numeric AS x FROM pg_stat_activity
     WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database()
    UNION ALL
    SELECT transaction::text::numeric FROM pg_prepared_xacts
     WHERE database <> current_database()),
  horizon AS (
    SELECT COALESCE(
      (SELECT MIN(x) FROM snap, pg_snapshot_xip(snap.s) AS x
        WHERE (x::text::numeric % 4294967296) NOT IN (SELECT x FROM elsewhere)),
      (SELECT pg_snapshot_xmax(s) FROM snap)) AS h)
SELECT position, hash FROM events
  WHERE (transaction_id, position) > ($1::text::xid8, $2)
    AND transaction_id < (SELECT h FROM horizon)
  ORDER BY transaction_id, position LIMIT $3";
const NEXT_SQLITE: &str = "SELECT position, hash FROM events
  WHERE position > $1 ORDER BY position LIMIT $2";

/// Whether SQLite has committed events the log lacks.
const BEHIND_SQLITE: &str = "SELECT EXISTS (SELECT 1 FROM events
  WHERE position > (SELECT COALESCE(MAX(event_position), 0) FROM event_log))";

/// The sequencer's transaction, if it is this caller's turn. PostgreSQL:
/// at most one sequencer works at a time (a transaction-scoped advisory
/// lock); a caller that does not get it leaves the work to the holder.
/// SQLite: a look without the write lock first (an idle sequencer blocks
/// no writer), then `BEGIN IMMEDIATE`, so no writer slips in before the
/// tail is read.
async fn sequencer(pool: &Pool) -> Result<Option<Tx>, sqlx::Error> {
    let yes = |rows: Vec<(bool,)>| rows.first().is_some_and(|r| r.0);
    match pool {
        Pool::Postgres(_) => {
            let mut tx = pool.begin().await?;
            let lock = vec![Val::Int(SEQUENCER_LOCK)];
            let locked = tx
                .fetch("SELECT pg_try_advisory_xact_lock($1)", lock)
                .await?;
            // Dropped without commit, the transaction rolls back.
            Ok(yes(locked).then_some(tx))
        }
        Pool::Sqlite(_) if yes(pool.fetch(BEHIND_SQLITE, vec![]).await?) => {
            Ok(Some(pool.begin_write().await?))
        }
        Pool::Sqlite(_) => Ok(None),
    }
}

/// What one turn of the sequencer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sequenced {
    /// Events appended to the log.
    pub appended: usize,
    /// The log's last position after the turn; `None` when another caller
    /// held the sequencer (read [`head`] to know it).
    pub head: Option<i64>,
}

/// Extends the log with up to `limit` committed events, chained onto its
/// tail (see [`NEXT_PG`]).
pub async fn sequence(pool: &Pool, limit: i64) -> Result<Sequenced, sqlx::Error> {
    let Some(mut tx) = sequencer(pool).await? else {
        return Ok(Sequenced {
            appended: 0,
            head: None,
        });
    };
    let tail: Vec<(i64, String, String, i64)> =
        tx.fetch(tx.pick(TAIL_PG, TAIL_SQLITE), vec![]).await?;
    let (log, digest, xid, position) =
        tail.into_iter()
            .next()
            .unwrap_or((0, String::new(), "0".into(), 0));
    let (position, limit) = (Val::Int(position), Val::Int(limit));
    let (sql, vals) = tx.pick(
        (
            NEXT_PG,
            vec![Val::Text(xid), position.clone(), limit.clone()],
        ),
        (NEXT_SQLITE, vec![position, limit]),
    );
    let rows = chain(log, &digest, tx.fetch(sql, vals).await?);
    let writes = rows.iter().map(|(log, event, digest)| {
        Write::row(
            "event_log",
            vec![
                ("log_position", Val::Int(*log)),
                ("event_position", Val::Int(*event)),
                ("digest", Val::Text(digest.clone())),
            ],
        )
    });
    rows::apply(&mut tx, writes.collect()).await?;
    tx.commit().await?;
    Ok(Sequenced {
        appended: rows.len(),
        head: Some(rows.last().map_or(log, |r| r.0)),
    })
}

/// What an earlier request with the same id wrote.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecordedRequest {
    pub ticket_id: String,
    pub version: i64,
    pub event_type: String,
}
