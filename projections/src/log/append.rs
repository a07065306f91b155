//! Writing sealed events: the one place rows enter the `events` table.
//!
//! Invariant: every column a reader uses is written here from values
//! ticketd chose (ids and times from its own clock, never a database
//! default) and sealed into `hash` (format 2, see [`crate::log::seal`]). The
//! caller holds the transaction and the stream's write lock (PostgreSQL:
//! the primary key makes a racing writer fail; SQLite: `BEGIN IMMEDIATE`).

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::db::{parse_time, At};
use crate::log::seal::{event_hash, sealed_time, Sealed, Stamp, SEAL_V2};

/// One event to append, with everything that is sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub event_id: String,
    pub recorded_at: DateTime<Utc>,
    pub occurred_at: DateTime<Utc>,
}

impl NewEvent {
    pub fn sealed(&self) -> Sealed<'_> {
        Sealed {
            aggregate_type: &self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            sequence: self.sequence,
            event_type: &self.event_type,
            event_version: &self.event_version,
            payload: &self.payload,
            metadata: &self.metadata,
            stamp: Some(Stamp {
                event_id: &self.event_id,
                recorded_at: self.recorded_at,
                occurred_at: self.occurred_at,
            }),
        }
    }

    /// The event's id and times as they are also kept in its metadata.
    pub fn stamp_metadata(
        metadata: &mut serde_json::Map<String, Value>,
        event_id: &str,
        recorded_at: DateTime<Utc>,
        occurred_at: DateTime<Utc>,
    ) {
        metadata.insert("event_id".into(), event_id.into());
        metadata.insert("recorded_at".into(), sealed_time(recorded_at).into());
        metadata.insert("occurred_at".into(), sealed_time(occurred_at).into());
    }

    /// Reads back what [`NewEvent::stamp_metadata`] wrote; `None` if any
    /// of the three is missing or unreadable.
    pub fn stamp_from_metadata(metadata: &Value) -> Option<(String, DateTime<Utc>, DateTime<Utc>)> {
        let text = |key: &str| metadata.get(key).and_then(Value::as_str);
        let time = |key: &str| text(key).and_then(parse_time);
        Some((
            text("event_id")?.to_owned(),
            time("recorded_at")?,
            time("occurred_at")?,
        ))
    }
}

/// A unique index refused the row: a taken (stream, sequence) or request
/// id. PostgreSQL 23505; SQLite primary key 1555, unique 2067.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("23505" | "1555" | "2067")))
}

/// Microsecond precision, as both stores keep times.
pub fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    chrono::SubsecRound::trunc_subsecs(t, 6)
}

/// The single-event writes, the same on both stores but for the event id
/// (a `uuid` on PostgreSQL, text on SQLite) and the JSON (`json` on
/// PostgreSQL, text on SQLite), both bound as text; [`At`] decides how
/// each store keeps times.
macro_rules! single_writes {
    ($($hash_at:ident, $insert:ident, $conn:ty, $event_id:literal, $json:literal;)*) => {$(
        /// The hash of the stream's event at `sequence` ("" if none).
        pub async fn $hash_at(
            conn: &mut $conn,
            aggregate_type: &str,
            aggregate_id: &str,
            sequence: i64,
        ) -> Result<String, sqlx::Error> {
            Ok(sqlx::query_scalar(
                "SELECT COALESCE(hash, '') FROM events
                  WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3",
            )
            .bind(aggregate_type)
            .bind(aggregate_id)
            .bind(sequence)
            .fetch_optional(conn)
            .await?
            .unwrap_or_default())
        }

        /// Inserts `event` chained to `previous`; returns its hash.
        pub async fn $insert(
            conn: &mut $conn,
            event: &NewEvent,
            previous: &str,
        ) -> Result<String, sqlx::Error> {
            let hash = event_hash(previous, &event.sealed());
            sqlx::query(concat!(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                                     payload, metadata, event_id, recorded_at, occurred_at, seal, hash)
                 VALUES ($1, $2, $3, $4, $5, ", $json, ", ", $event_id, ", $9, $10, $11, $12)"
            ))
            .bind(&event.aggregate_type)
            .bind(&event.aggregate_id)
            .bind(event.sequence)
            .bind(&event.event_type)
            .bind(&event.event_version)
            .bind(event.payload.to_string())
            .bind(event.metadata.to_string())
            .bind(&event.event_id)
            .bind(At(event.recorded_at))
            .bind(At(event.occurred_at))
            .bind(SEAL_V2)
            .bind(&hash)
            .execute(conn)
            .await?;
            Ok(hash)
        }
    )*};
}

single_writes! {
    hash_at_postgres, insert_postgres, sqlx::PgConnection, "$8::uuid", "$6::json, $7::json";
    hash_at_sqlite, insert_sqlite, sqlx::SqliteConnection, "$8", "$6, $7";
}

/// The hashes of one stream's `events`, in order, chained to `previous`.
pub fn chain_hashes(events: &[NewEvent], previous: &str) -> Vec<String> {
    let mut hash = previous.to_owned();
    events
        .iter()
        .map(|event| {
            hash = event_hash(&hash, &event.sealed());
            hash.clone()
        })
        .collect()
}

/// Inserts one stream's `events`, in order, chained to `previous`, with a
/// single statement; returns the last hash.
pub async fn insert_many_postgres(
    conn: &mut sqlx::PgConnection,
    events: &[NewEvent],
    previous: &str,
) -> Result<String, sqlx::Error> {
    let hashes = chain_hashes(events, previous);
    insert_rows_postgres(conn, events, &hashes).await?;
    Ok(hashes
        .last()
        .cloned()
        .unwrap_or_else(|| previous.to_owned()))
}

/// Inserts `events` (of any streams) with their already chained `hashes`,
/// in order, with a single statement: for writers that append many events
/// at once (history import). Any refused row fails the statement.
pub async fn insert_rows_postgres(
    conn: &mut sqlx::PgConnection,
    events: &[NewEvent],
    hashes: &[String],
) -> Result<(), sqlx::Error> {
    let rows: Vec<&NewEvent> = events.iter().collect();
    bind_rows(INSERT_ROWS, &rows, hashes)
        .fetch_all(conn)
        .await?;
    Ok(())
}

/// Inserts `events` with their already chained `hashes` in one statement,
/// skipping each row a unique index refuses (a taken version or a reused
/// request id) instead of failing the others: the group commit's write.
/// Returns, per row, whether it was inserted.
///
/// Invariant: a row is inserted only if its stream's stored event just
/// before it has the hash it was chained to (`previous`), so an event is
/// never chained to one the store does not hold: a command decided on a
/// cached state the store has lost (a failover to a standby that lacked
/// the last commits) is refused like a taken version, and reloaded.
pub async fn insert_batch_postgres(
    conn: &mut sqlx::PgConnection,
    events: &[&NewEvent],
    hashes: &[String],
    previous: &[String],
) -> Result<Vec<bool>, sqlx::Error> {
    let inserted: std::collections::HashSet<(String,)> = bind_rows(INSERT_BATCH, events, hashes)
        .bind(previous.to_vec())
        .fetch_all(conn)
        .await?
        .into_iter()
        .collect();
    Ok(events
        .iter()
        .map(|e| inserted.contains(&(e.event_id.clone(),)))
        .collect())
}

/// The multi-row insert; the sequencer gives the rows their log positions
/// later, in commit order.
const INSERT_ROWS: &str =
    "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata, event_id, recorded_at, occurred_at, seal, hash)
         SELECT t, i, s, et, ev, p::json, m::json, id::uuid, r, o, $11, h
           FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                       $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], $12::text[])
                AS u(t, i, s, et, ev, p, m, id, r, o, h)";

/// [`INSERT_ROWS`] that skips a refused row, and a row whose predecessor
/// in the store is not the event it was chained to (`$13`: each row's
/// previous hash).
const INSERT_BATCH: &str =
    "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata, event_id, recorded_at, occurred_at, seal, hash)
         SELECT t, i, s, et, ev, p::json, m::json, id::uuid, r, o, $11, h
           FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                       $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], $12::text[],
                       $13::text[])
                AS u(t, i, s, et, ev, p, m, id, r, o, h, prev)
          WHERE u.s = 1
             OR EXISTS (SELECT 1 FROM events e
                         WHERE e.aggregate_type = u.t AND e.aggregate_id = u.i
                           AND e.sequence = u.s - 1 AND COALESCE(e.hash, '') = u.prev)
         ON CONFLICT DO NOTHING RETURNING event_id::text";

/// [`INSERT_ROWS`] / [`INSERT_BATCH`] with their first twelve columns
/// bound; a row returned is an inserted event's id.
fn bind_rows<'q>(
    sql: &'q str,
    events: &[&NewEvent],
    hashes: &[String],
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, (String,), sqlx::postgres::PgArguments> {
    fn column<T>(events: &[&NewEvent], f: impl Fn(&NewEvent) -> T) -> Vec<T> {
        events.iter().map(|e| f(e)).collect()
    }
    sqlx::query_as(sql)
        .bind(column(events, |e| e.aggregate_type.clone()))
        .bind(column(events, |e| e.aggregate_id.clone()))
        .bind(column(events, |e| e.sequence))
        .bind(column(events, |e| e.event_type.clone()))
        .bind(column(events, |e| e.event_version.clone()))
        .bind(column(events, |e| e.payload.to_string()))
        .bind(column(events, |e| e.metadata.to_string()))
        .bind(column(events, |e| e.event_id.clone()))
        .bind(column(events, |e| e.recorded_at))
        .bind(column(events, |e| e.occurred_at))
        .bind(SEAL_V2)
        .bind(hashes.to_vec())
}
