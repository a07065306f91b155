//! The two stores behind one type each: [`Pool`] (either pool), [`Tx`] (a
//! transaction on either) and [`Val`] (a value to bind, whatever the store).
//! Every difference between the stores that the engine needs is one method
//! or one type here, decided once by a `match`; the read models write
//! store-neutral SQL (`$n` parameters, which both stores accept) through
//! [`Tx::run`], [`Pool::fetch`] and [`Tx::fetch`].

use chrono::{DateTime, Utc};
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgRow, PgTypeInfo};
use sqlx::sqlite::{SqliteArgumentValue, SqliteRow, SqliteTypeInfo};
use sqlx::{Decode, Encode, PgPool, Postgres, Row, Sqlite, SqlitePool, Transaction, Type};

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

/// `$body` with `$c` bound to the store's own pool or transaction: for
/// statements that are the same on both stores.
macro_rules! on_store {
    ($on:expr, $kind:ident, $c:ident => $body:expr) => {
        match $on {
            $kind::Postgres($c) => $body,
            $kind::Sqlite($c) => $body,
        }
    };
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
    /// An instant in a time column of the store's own kind (see [`At`]).
    At(DateTime<Utc>),
}

/// Times in text columns: RFC 3339 UTC with microseconds, which sorts
/// correctly as text.
pub fn sortable_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// An instant read back from text (RFC 3339, as [`sortable_time`] and the
/// seals write it); `None` if it is not one.
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// An instant bound to a time column: `timestamptz` on PostgreSQL, on
/// SQLite text as [`sortable_time`] writes it (so it sorts and compares as
/// text). The one place that difference is decided; either column decodes
/// as a `DateTime<Utc>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct At(pub DateTime<Utc>);

impl Type<Postgres> for At {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
}

impl Type<Sqlite> for At {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Postgres> for At {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'q> Encode<'q, Sqlite> for At {
    fn encode_by_ref(
        &self,
        buf: &mut Vec<SqliteArgumentValue<'q>>,
    ) -> Result<sqlx::encode::IsNull, BoxDynError> {
        <String as Encode<Sqlite>>::encode(sortable_time(self.0), buf)
    }
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
                $crate::db::Val::At(t) => q.bind($crate::db::At(t)),
            };
        }
        q
    }};
}

/// Text cells of one row.
pub type Cells = Vec<Option<String>>;

/// A row type both stores can decode (tuples of [`At`], text and numbers).
pub trait FromRows:
    Send + Unpin + for<'r> sqlx::FromRow<'r, PgRow> + for<'r> sqlx::FromRow<'r, SqliteRow>
{
}

impl<T> FromRows for T where
    T: Send + Unpin + for<'r> sqlx::FromRow<'r, PgRow> + for<'r> sqlx::FromRow<'r, SqliteRow>
{
}

fn cells<R: Row>(row: &R) -> Result<Cells, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    (0..row.len()).map(|i| row.try_get(i)).collect()
}

const CHECKPOINT: &str = "SELECT position FROM projection_checkpoints WHERE projection = $1";
const BEHIND: &str = "SELECT EXISTS (SELECT 1 FROM event_log WHERE log_position >
    COALESCE((SELECT position FROM projection_checkpoints WHERE projection = $1), 0))";

impl Pool {
    /// Connections open now, and how many of them are idle.
    pub fn connections(&self) -> (u32, usize) {
        on_store!(self, Pool, p => (p.size(), p.num_idle()))
    }

    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
        })
    }

    /// A transaction that will write: on SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`), so what it reads stays true until commit.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// Where projection `name` stands (0 before its first batch). A look
    /// without locks.
    pub async fn checkpoint(&self, name: &str) -> Result<i64, sqlx::Error> {
        self.number(CHECKPOINT, vec![Val::Text(name.into())]).await
    }

    /// Whether the log holds events after projection `name`'s checkpoint:
    /// one look without locks, so an idle runner costs one round trip.
    pub async fn behind(&self, name: &str) -> Result<bool, sqlx::Error> {
        let rows: Vec<(bool,)> = self.fetch(BEHIND, vec![Val::Text(name.into())]).await?;
        Ok(rows.first().is_some_and(|r| r.0))
    }

    /// The last position in the log (0 when empty).
    pub async fn head(&self) -> Result<i64, sqlx::Error> {
        log::head(self).await
    }

    /// How many events the `events` table holds (committed, whether or
    /// not the sequencer has logged them yet).
    pub async fn stored(&self) -> Result<i64, sqlx::Error> {
        self.number("SELECT count(*) FROM events", vec![]).await
    }

    /// Up to `limit` events after `after`, in log order.
    pub async fn read(&self, after: i64, limit: i64) -> Result<Vec<RawEvent>, sqlx::Error> {
        self.fetch(log::READ, log::read_vals(after, limit)).await
    }

    /// Extends the log with up to `limit` committed events (see
    /// [`log::sequence`]).
    pub async fn sequence(&self, limit: i64) -> Result<log::Sequenced, sqlx::Error> {
        log::sequence(self, limit).await
    }

    /// The event a request id already produced, if any.
    pub async fn find_request(
        &self,
        request_id: &str,
    ) -> Result<Option<RecordedRequest>, sqlx::Error> {
        let sql = match self {
            Pool::Postgres(_) => REQUEST_PG,
            Pool::Sqlite(_) => REQUEST_SQLITE,
        };
        let found = self.fetch(sql, vec![Val::Text(request_id.to_owned())]);
        Ok(found.await?.into_iter().next())
    }

    /// Whether any event of the stream was recorded live (a `channel` other
    /// than `import`): a history import never appends to such a stream
    /// (DOMAIN.md §11).
    pub async fn recorded_live(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<bool, sqlx::Error> {
        let sql = match self {
            Pool::Postgres(_) => LIVE_PG,
            Pool::Sqlite(_) => LIVE_SQLITE,
        };
        let vals = vec![
            Val::Text(aggregate_type.to_owned()),
            Val::Text(aggregate_id.to_owned()),
        ];
        let found: Vec<(i64,)> = self.fetch(sql, vals).await?;
        Ok(!found.is_empty())
    }

    pub async fn close(&self) {
        on_store!(self, Pool, p => p.close().await)
    }

    /// Runs one statement that returns nothing, outside a transaction.
    pub async fn execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        on_store!(self, Pool, p => sqlx::query(sql).execute(p).await.map(drop))
    }

    /// Runs `sql` (every selected column text) and returns its cells.
    pub async fn texts(&self, sql: &str, vals: Vec<Val>) -> Result<Vec<Cells>, sqlx::Error> {
        on_store!(self, Pool, p => bind_all!(sqlx::query(sql), vals)
            .fetch_all(p)
            .await?
            .iter()
            .map(cells)
            .collect())
    }

    /// The number in the first column of `sql`'s first row (0 if none).
    pub async fn number(&self, sql: &str, vals: Vec<Val>) -> Result<i64, sqlx::Error> {
        let rows: Vec<(i64,)> = self.fetch(sql, vals).await?;
        Ok(rows.first().map_or(0, |r| r.0))
    }

    /// Runs `sql` with `vals` bound in order and decodes its rows as `T`.
    pub async fn fetch<T: FromRows>(
        &self,
        sql: &str,
        vals: Vec<Val>,
    ) -> Result<Vec<T>, sqlx::Error> {
        on_store!(self, Pool, p => bind_all!(sqlx::query_as(sql), vals).fetch_all(p).await)
    }
}

/// Taking a checkpoint on PostgreSQL: a transaction-scoped advisory lock
/// (class [`CHECKPOINT_LOCKS`], key [`checkpoint_key`]), then the row as
/// it is. An advisory lock gives the transaction no transaction id, so a
/// runner holds none until its first write, at the end of its batch: the
/// sequencer appends only events whose transaction is older than every
/// running one (`log::sequence`), and a runner that took an id when it
/// began would hold every later command's event back for its whole batch.
const LOCK_PG: &str = "SELECT pg_advisory_xact_lock($1::int4, $2::int4)";
/// SQLite: writing first takes the database's write lock for the whole
/// transaction.
const LOCK_SQLITE: &str = "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, 0)
     ON CONFLICT (projection) DO UPDATE SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     RETURNING position";
const MOVE_PG: &str = "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, $2)
     ON CONFLICT (projection) DO UPDATE SET position = excluded.position, updated_at = now()";
const MOVE_SQLITE: &str =
    "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, $2)
     ON CONFLICT (projection) DO UPDATE SET position = excluded.position,
        updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// The advisory lock class of checkpoints ("tc"): a two-key lock, so it
/// never meets the one-key session locks of runner leadership.
const CHECKPOINT_LOCKS: i64 = 0x7463;

/// A stable advisory lock key for `name`: FNV-1a, the same across builds
/// and processes. Runner leadership locks it as one key; a checkpoint
/// lock takes its low 32 bits under class [`CHECKPOINT_LOCKS`].
pub fn lock_key(name: &str) -> i64 {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// A checkpoint's advisory lock key, in `int4`'s range.
fn checkpoint_key(name: &str) -> i64 {
    // Truncation to the low 32 bits is the point.
    #[allow(clippy::cast_possible_truncation)]
    let low = lock_key(name) as i32;
    i64::from(low)
}

/// Finding an earlier request's event: its id is in the metadata, which is
/// `json` on PostgreSQL (read with `->>`, the expression its unique index
/// `events_request_id` is on) and JSON text on SQLite.
const REQUEST_PG: &str =
    "SELECT aggregate_id AS ticket_id, sequence AS version, event_type FROM events
  WHERE metadata ->> 'request_id' = $1";
const REQUEST_SQLITE: &str =
    "SELECT aggregate_id AS ticket_id, sequence AS version, event_type FROM events
  WHERE json_extract(metadata, '$.request_id') = $1";

const LIVE_PG: &str = "SELECT sequence FROM events
  WHERE aggregate_type = $1 AND aggregate_id = $2
    AND COALESCE(metadata ->> 'channel', '') <> 'import' LIMIT 1";
const LIVE_SQLITE: &str = "SELECT sequence FROM events
  WHERE aggregate_type = $1 AND aggregate_id = $2
    AND COALESCE(json_extract(metadata, '$.channel'), '') <> 'import' LIMIT 1";

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        on_store!(self, Tx, t => t.commit().await)
    }

    /// Takes projection `name`'s checkpoint for this transaction and
    /// returns it as the last writer left it (0 before its first move):
    /// an advisory lock held until commit on PostgreSQL ([`LOCK_PG`]);
    /// writing first takes SQLite's write lock for the whole transaction.
    /// Two runners never apply the same event.
    pub async fn lock_checkpoint(&mut self, name: &str) -> Result<i64, sqlx::Error> {
        let at: Vec<(i64,)> = match self {
            Tx::Postgres(_) => {
                let key = vec![Val::Int(CHECKPOINT_LOCKS), Val::Int(checkpoint_key(name))];
                self.run(LOCK_PG, key).await?;
                self.fetch(CHECKPOINT, vec![Val::Text(name.to_owned())])
                    .await?
            }
            Tx::Sqlite(_) => {
                self.fetch(LOCK_SQLITE, vec![Val::Text(name.to_owned())])
                    .await?
            }
        };
        Ok(at.first().map_or(0, |p| p.0))
    }

    /// Moves `name`'s checkpoint to `position` (made if missing), in this
    /// transaction.
    pub async fn move_checkpoint(&mut self, name: &str, position: i64) -> Result<(), sqlx::Error> {
        let sql = self.pick(MOVE_PG, MOVE_SQLITE);
        self.run(sql, vec![Val::Text(name.to_owned()), Val::Int(position)])
            .await
            .map(drop)
    }

    /// `postgres` on PostgreSQL, `sqlite` on SQLite.
    pub fn pick<T>(&self, postgres: T, sqlite: T) -> T {
        match self {
            Tx::Postgres(_) => postgres,
            Tx::Sqlite(_) => sqlite,
        }
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
        self.fetch(log::READ, log::read_vals(after, limit)).await
    }

    /// The event a request id already produced, if any.
    pub async fn find_request(
        &mut self,
        request_id: &str,
    ) -> Result<Option<RecordedRequest>, sqlx::Error> {
        let sql = self.pick(REQUEST_PG, REQUEST_SQLITE);
        let found = self.fetch(sql, vec![Val::Text(request_id.to_owned())]);
        Ok(found.await?.into_iter().next())
    }

    /// Appends `event` chained to `previous` (see [`log::append`]).
    pub async fn append(
        &mut self,
        event: &log::append::NewEvent,
        previous: &str,
    ) -> Result<String, sqlx::Error> {
        match self {
            Tx::Postgres(t) => log::append::insert_postgres(t, event, previous).await,
            Tx::Sqlite(t) => log::append::insert_sqlite(t, event, previous).await,
        }
    }

    /// Runs one statement of store-neutral SQL with `vals` bound in order.
    /// Returns how many rows it changed.
    pub async fn run(&mut self, sql: &str, vals: Vec<Val>) -> Result<u64, sqlx::Error> {
        on_store!(self, Tx, t => Ok(bind_all!(sqlx::query(sql), vals)
            .execute(&mut **t)
            .await?
            .rows_affected()))
    }

    /// Runs `sql` (every selected column text) and returns its cells.
    pub async fn texts(&mut self, sql: &str, vals: Vec<Val>) -> Result<Vec<Cells>, sqlx::Error> {
        on_store!(self, Tx, t => bind_all!(sqlx::query(sql), vals)
            .fetch_all(&mut **t)
            .await?
            .iter()
            .map(cells)
            .collect())
    }

    /// Runs `sql` with `vals` bound in order and decodes its rows as `T`.
    pub async fn fetch<T: FromRows>(
        &mut self,
        sql: &str,
        vals: Vec<Val>,
    ) -> Result<Vec<T>, sqlx::Error> {
        on_store!(self, Tx, t => bind_all!(sqlx::query_as(sql), vals).fetch_all(&mut **t).await)
    }

    /// The kept states in `table` of the streams `ids`: (kind, id, state).
    pub async fn kept(
        &mut self,
        table: &str,
        ids: &[String],
    ) -> Result<Vec<(String, String, String)>, sqlx::Error> {
        let sql = format!(
            "SELECT kind, stream_id, state FROM {table} WHERE stream_id IN {}",
            crate::rows::tuple(1, ids.len())
        );
        self.fetch(&sql, ids.iter().cloned().map(Val::Text).collect())
            .await
    }
}
