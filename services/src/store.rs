//! Opening the event store: an embedded SQLite file (the default) or
//! PostgreSQL, with our migrations applied.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

pub use projections::db::Pool;
pub use projections::log::RecordedRequest;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// Which store to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// An embedded SQLite database file.
    Sqlite { path: PathBuf },
    /// A PostgreSQL database, by connection URL.
    Postgres { url: String },
}

impl StoreConfig {
    /// `postgres://…` or `postgresql://…` selects PostgreSQL; no URL means
    /// the SQLite file `data_dir/ticketd.db`.
    pub fn choose(
        database_url: Option<&str>,
        data_dir: &std::path::Path,
    ) -> Result<Self, StoreError> {
        match database_url {
            None => Ok(Self::Sqlite {
                path: data_dir.join("ticketd.db"),
            }),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Self::Postgres {
                    url: url.to_owned(),
                })
            }
            Some(url) if url.starts_with("sqlite:") => Ok(Self::Sqlite {
                path: PathBuf::from(
                    url.trim_start_matches("sqlite://")
                        .trim_start_matches("sqlite:"),
                ),
            }),
            Some(_) => Err(StoreError::UnsupportedUrl),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL must start with postgres://, postgresql:// or sqlite:")]
    UnsupportedUrl,
    #[error("cannot create or restrict the data directory or file {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to the event store: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// How long a request waits for a pooled connection before the store is
/// reported unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the configured store (migrations are [`migrate`]).
pub async fn open(config: &StoreConfig) -> Result<Pool, StoreError> {
    match config {
        StoreConfig::Postgres { url } => {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect(url)
                .await
                .map_err(StoreError::Connect)?;
            Ok(Pool::Postgres(pool))
        }
        StoreConfig::Sqlite { path } => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::files::make_private_dir(dir).map_err(|source| StoreError::DataDir {
                    path: dir.to_owned(),
                    source,
                })?;
            }
            // WAL with synchronous=FULL: a commit is on disk before it is
            // acknowledged, so it survives a power cut. (sqlite-es's
            // default pool uses NORMAL, which may lose the last commits.)
            let options = SqliteConnectOptions::from_str("sqlite://")
                .map_err(StoreError::Connect)?
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .after_release(|conn, _| Box::pin(settled(conn)))
                .connect_with(options)
                .await
                .map_err(StoreError::Connect)?;
            // Personal data (sealed or not) and the audit trail: the
            // owner's only, as are the WAL and shared-memory files SQLite
            // makes beside it.
            for file in [path.clone(), sidecar(path, "-wal"), sidecar(path, "-shm")] {
                crate::files::restrict(&file).map_err(|source| StoreError::DataDir {
                    path: file.clone(),
                    source,
                })?;
            }
            Ok(Pool::Sqlite(pool))
        }
    }
}

/// Whether a SQLite connection may go back to the pool: not while it
/// believes a transaction is open. When a COMMIT fails on a full disk,
/// SQLite has already rolled the transaction back, so the rollback sqlx
/// sends when the transaction is dropped fails too and sqlx still counts
/// it open: every later BEGIN on that connection would fail with "non-zero
/// transaction depth" until it was recycled. Such a connection is closed
/// instead (`tests/tests/api/full_disk.rs`).
async fn settled(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    // A transaction dropped uncommitted has queued its rollback: wait for
    // the connection's worker to get through it, then look again.
    conn.ping().await?;
    Ok(!conn.is_in_transaction())
}

/// `ticketd.db-wal` beside `ticketd.db`.
fn sidecar(path: &std::path::Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Applies the migrations of the store's kind.
pub async fn migrate(pool: &Pool) -> Result<(), StoreError> {
    match pool {
        Pool::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        Pool::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
    }
    Ok(())
}

/// True when the error means the store cannot be reached right now (as
/// opposed to a bug or bad data): the caller should retry later.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    passing(error).is_some()
}

/// A condition of the store that passes without ticketd doing anything:
/// the caller gets UNAVAILABLE and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passing {
    /// Not reachable, restarting, busy or out of connections.
    Unreachable,
    /// Its disk is full: nothing was written, and writing resumes once
    /// space is freed.
    DiskFull,
}

/// Whether `error` is a [`Passing`] condition, and which.
pub fn passing(error: &sqlx::Error) -> Option<Passing> {
    match error {
        sqlx::Error::Io(e) if e.raw_os_error() == Some(ENOSPC) => Some(Passing::DiskFull),
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => Some(Passing::Unreachable),
        sqlx::Error::Database(db) => match db.code()?.as_ref() {
            // PostgreSQL disk_full (53100); SQLite SQLITE_FULL (13).
            "53100" | "13" => Some(Passing::DiskFull),
            // PostgreSQL: connection exceptions (08…), shutdown (57P01-03),
            // too many connections (53300). SQLite: busy (5), locked (6).
            code if code.starts_with("08") || code.starts_with("57P") => Some(Passing::Unreachable),
            "53300" | "5" | "6" => Some(Passing::Unreachable),
            _ => None,
        },
        _ => None,
    }
}

/// "No space left on device".
const ENOSPC: i32 = 28;
