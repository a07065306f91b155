//! Opening the event store: an embedded SQLite file (the default) or
//! PostgreSQL, with our migrations applied.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Row, SqlitePool};

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
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to the event store: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A connection pool to one of the two stores.
#[derive(Debug, Clone)]
pub enum Db {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// How long a request waits for a pooled connection before the store is
/// reported unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl Db {
    pub async fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        match config {
            StoreConfig::Postgres { url } => {
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect(url)
                    .await
                    .map_err(StoreError::Connect)?;
                Ok(Self::Postgres(pool))
            }
            StoreConfig::Sqlite { path } => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
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
                    .connect_with(options)
                    .await
                    .map_err(StoreError::Connect)?;
                Ok(Self::Sqlite(pool))
            }
        }
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
            Db::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
        }
        Ok(())
    }

    /// The event a request id already produced, if any.
    pub async fn find_request(
        &self,
        request_id: &str,
    ) -> Result<Option<RecordedRequest>, sqlx::Error> {
        let row = match self {
            Db::Postgres(pool) => sqlx::query(
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
            Db::Sqlite(pool) => sqlx::query(
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
            Db::Postgres(pool) => pool.close().await,
            Db::Sqlite(pool) => pool.close().await,
        }
    }
}

/// What an earlier request with the same id wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub ticket_id: String,
    pub version: i64,
    pub event_type: String,
}

/// True when the error means the store cannot be reached right now (as
/// opposed to a bug or bad data): the caller should retry later.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // PostgreSQL: connection exceptions (08…), shutdown (57P01-03),
            // too many connections (53300). SQLite: busy (5), locked (6).
            code.starts_with("08")
                || code.starts_with("57P")
                || code == "53300"
                || code == "5"
                || code == "6"
        }),
        _ => false,
    }
}
