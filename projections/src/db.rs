//! The two stores behind one type each: [`Pool`] (either pool), [`Tx`] (a
//! transaction on either) and [`Val`] (a value to bind, whatever the store).
//! Every difference between the stores that the engine needs is one method
//! here, decided once by a `match`; the read models write store-neutral SQL
//! (`$n` parameters, which both stores accept) through [`Tx::run`].

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Row, Sqlite, SqlitePool, Transaction};

use crate::log::{self, RawEvent, RecordedRequest};

/// A connection pool to one of the two stores.
#[derive(Debug, Clone)]
pub enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// A transaction on one of the two stores.
#[derive(Debug)]
pub enum Tx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

/// A value to bind, whatever the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    /// An instant in a read model's text time column (both stores keep
    /// them as RFC 3339 UTC with microseconds, which sorts as text).
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
}

/// Times in text columns: RFC 3339 UTC with microseconds, which sorts
/// correctly as text.
pub fn sortable_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Binds a list of [`Val`]s to a query, in order, on either store.
macro_rules! bind_all {
    ($query:expr, $vals:expr) => {{
        let mut q = $query;
        for v in $vals {
            q = match v {
                $crate::db::Val::Text(s) => q.bind(s),
                $crate::db::Val::OptText(s) => q.bind(s),
                $crate::db::Val::Int(i) => q.bind(i),
                $crate::db::Val::OptInt(i) => q.bind(i),
                $crate::db::Val::Time(t) => q.bind($crate::db::sortable_time(t)),
                $crate::db::Val::OptTime(t) => q.bind(t.map($crate::db::sortable_time)),
            };
        }
        q
    }};
}

/// Text cells of one row.
pub type Cells = Vec<Option<String>>;

const CHECKPOINT: &str = "SELECT position FROM projection_checkpoints WHERE projection = $1";

impl Pool {
    /// Connections open now, and how many of them are idle.
    pub fn connections(&self) -> (u32, usize) {
        match self {
            Pool::Postgres(pool) => (pool.size(), pool.num_idle()),
            Pool::Sqlite(pool) => (pool.size(), pool.num_idle()),
        }
    }

    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
        })
    }

    /// Where projection `name` stands (0 before its first batch). A look
    /// without locks.
    pub async fn checkpoint(&self, name: &str) -> Result<i64, sqlx::Error> {
        let position: Option<i64> = match self {
            Pool::Postgres(p) => {
                sqlx::query_scalar(CHECKPOINT)
                    .bind(name)
                    .fetch_optional(p)
                    .await?
            }
            Pool::Sqlite(p) => {
                sqlx::query_scalar(CHECKPOINT)
                    .bind(name)
                    .fetch_optional(p)
                    .await?
            }
        };
        Ok(position.unwrap_or(0))
    }

    /// The last position in the log (0 when empty).
    pub async fn head(&self) -> Result<i64, sqlx::Error> {
        match self {
            Pool::Postgres(p) => log::head_postgres(p).await,
            Pool::Sqlite(p) => log::head_sqlite(p).await,
        }
    }

    /// How many events the `events` table holds (committed, whether or
    /// not the sequencer has logged them yet).
    pub async fn stored(&self) -> Result<i64, sqlx::Error> {
        const COUNT: &str = "SELECT count(*) FROM events";
        match self {
            Pool::Postgres(p) => sqlx::query_scalar(COUNT).fetch_one(p).await,
            Pool::Sqlite(p) => sqlx::query_scalar(COUNT).fetch_one(p).await,
        }
    }

    /// Up to `limit` events after `after`, in log order.
    pub async fn read(&self, after: i64, limit: i64) -> Result<Vec<RawEvent>, sqlx::Error> {
        match self {
            Pool::Postgres(p) => log::read_postgres(p, after, limit).await,
            Pool::Sqlite(p) => log::read_sqlite(p, after, limit).await,
        }
    }

    /// Extends the log with up to `limit` committed events (see
    /// [`log::sequence_postgres`]). Returns how many were appended.
    pub async fn sequence(&self, limit: i64) -> Result<usize, sqlx::Error> {
        match self {
            Pool::Postgres(p) => log::sequence_postgres(p, limit).await,
            Pool::Sqlite(p) => log::sequence_sqlite(p, limit).await,
        }
    }

    /// The event a request id already produced, if any.
    pub async fn find_request(
        &self,
        request_id: &str,
    ) -> Result<Option<RecordedRequest>, sqlx::Error> {
        let row = match self {
            Pool::Postgres(pool) => sqlx::query(
                "SELECT aggregate_id, sequence, event_type FROM events
                      WHERE metadata ->> 'request_id' = $1 AND metadata ? 'request_id'",
            )
            .bind(request_id)
            .fetch_optional(pool)
            .await?
            .map(|row| -> Result<_, sqlx::Error> {
                Ok(RecordedRequest {
                    ticket_id: row.try_get("aggregate_id")?,
                    version: row.try_get::<i64, _>("sequence")?,
                    event_type: row.try_get("event_type")?,
                })
            }),
            Pool::Sqlite(pool) => sqlx::query(
                "SELECT aggregate_id, sequence, event_type FROM events
                  WHERE json_extract(metadata, '$.request_id') = ?1",
            )
            .bind(request_id)
            .fetch_optional(pool)
            .await?
            .map(|row| -> Result<_, sqlx::Error> {
                Ok(RecordedRequest {
                    ticket_id: row.try_get("aggregate_id")?,
                    version: row.try_get::<i64, _>("sequence")?,
                    event_type: row.try_get("event_type")?,
                })
            }),
        };
        row.transpose()
    }

    pub async fn close(&self) {
        match self {
            Pool::Postgres(pool) => pool.close().await,
            Pool::Sqlite(pool) => pool.close().await,
        }
    }

    /// Runs one statement that returns nothing, outside a transaction.
    pub async fn execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Pool::Postgres(p) => sqlx::query(sql).execute(p).await.map(drop),
            Pool::Sqlite(p) => sqlx::query(sql).execute(p).await.map(drop),
        }
    }

    /// Runs `sql` (every selected column text) and returns its cells.
    pub async fn texts(&self, sql: &str, vals: Vec<Val>) -> Result<Vec<Cells>, sqlx::Error> {
        fn cells<R: Row>(row: &R) -> Result<Cells, sqlx::Error>
        where
            usize: sqlx::ColumnIndex<R>,
            for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        {
            (0..row.len()).map(|i| row.try_get(i)).collect()
        }
        match self {
            Pool::Postgres(p) => bind_all!(sqlx::query(sql), vals)
                .fetch_all(p)
                .await?
                .iter()
                .map(cells)
                .collect(),
            Pool::Sqlite(p) => bind_all!(sqlx::query(sql), vals)
                .fetch_all(p)
                .await?
                .iter()
                .map(cells)
                .collect(),
        }
    }
}

const LOCK_PG: &str = "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, 0)
     ON CONFLICT (projection) DO UPDATE SET updated_at = now()
     RETURNING position";
const LOCK_SQLITE: &str = "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, 0)
     ON CONFLICT (projection) DO UPDATE SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     RETURNING position";
const MOVE_PG: &str =
    "UPDATE projection_checkpoints SET position = $2, updated_at = now() WHERE projection = $1";
const MOVE_SQLITE: &str = "UPDATE projection_checkpoints SET position = $2 WHERE projection = $1";
impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(t) => t.commit().await,
            Tx::Sqlite(t) => t.commit().await,
        }
    }

    /// Takes projection `name`'s checkpoint for this transaction and
    /// returns it as the last writer left it: upserting the row locks it
    /// until commit on PostgreSQL; writing first takes SQLite's write lock
    /// for the whole transaction. Two runners never apply the same event.
    pub async fn lock_checkpoint(&mut self, name: &str) -> Result<i64, sqlx::Error> {
        match self {
            Tx::Postgres(t) => {
                sqlx::query_scalar(LOCK_PG)
                    .bind(name)
                    .fetch_one(&mut **t)
                    .await
            }
            Tx::Sqlite(t) => {
                sqlx::query_scalar(LOCK_SQLITE)
                    .bind(name)
                    .fetch_one(&mut **t)
                    .await
            }
        }
    }

    /// Moves `name`'s checkpoint to `position`, in this transaction.
    pub async fn move_checkpoint(&mut self, name: &str, position: i64) -> Result<(), sqlx::Error> {
        let sql = match self {
            Tx::Postgres(_) => MOVE_PG,
            Tx::Sqlite(_) => MOVE_SQLITE,
        };
        self.run(sql, vec![Val::Text(name.to_owned()), Val::Int(position)])
            .await
            .map(drop)
    }

    /// Forgets `name`'s checkpoint (a rebuild's shadow, once swapped in).
    pub async fn drop_checkpoint(&mut self, name: &str) -> Result<(), sqlx::Error> {
        self.run(
            "DELETE FROM projection_checkpoints WHERE projection = $1",
            vec![Val::Text(name.to_owned())],
        )
        .await
        .map(drop)
    }

    /// Up to `limit` events after `after`, in log order.
    pub async fn read(&mut self, after: i64, limit: i64) -> Result<Vec<RawEvent>, sqlx::Error> {
        match self {
            Tx::Postgres(t) => log::read_postgres(&mut **t, after, limit).await,
            Tx::Sqlite(t) => log::read_sqlite(&mut **t, after, limit).await,
        }
    }

    /// Runs one statement of store-neutral SQL with `vals` bound in order.
    /// Returns how many rows it changed.
    pub async fn run(&mut self, sql: &str, vals: Vec<Val>) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Tx::Postgres(t) => bind_all!(sqlx::query(sql), vals)
                .execute(&mut **t)
                .await?
                .rows_affected(),
            Tx::Sqlite(t) => bind_all!(sqlx::query(sql), vals)
                .execute(&mut **t)
                .await?
                .rows_affected(),
        })
    }

    /// Runs `sql` (every selected column text) and returns its cells.
    pub async fn texts(&mut self, sql: &str, vals: Vec<Val>) -> Result<Vec<Cells>, sqlx::Error> {
        let rows = match self {
            Tx::Postgres(t) => bind_all!(sqlx::query(sql), vals)
                .fetch_all(&mut **t)
                .await?
                .iter()
                .map(|r| (0..r.len()).map(|i| r.try_get(i)).collect())
                .collect(),
            Tx::Sqlite(t) => bind_all!(sqlx::query(sql), vals)
                .fetch_all(&mut **t)
                .await?
                .iter()
                .map(|r| (0..r.len()).map(|i| r.try_get(i)).collect())
                .collect(),
        };
        rows
    }

    /// The kept states in `table` of the streams `ids`: (kind, id, state).
    pub async fn kept(
        &mut self,
        table: &str,
        ids: &[String],
    ) -> Result<Vec<(String, String, String)>, sqlx::Error> {
        match self {
            Tx::Postgres(t) => {
                sqlx::query_as(&format!(
                    "SELECT kind, stream_id, state FROM {table} WHERE stream_id = ANY($1)"
                ))
                .bind(ids)
                .fetch_all(&mut **t)
                .await
            }
            Tx::Sqlite(t) => {
                let ids =
                    serde_json::to_string(ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                sqlx::query_as(&format!(
                    "SELECT kind, stream_id, state FROM {table}
                      WHERE stream_id IN (SELECT value FROM json_each($1))"
                ))
                .bind(ids)
                .fetch_all(&mut **t)
                .await
            }
        }
    }
}
