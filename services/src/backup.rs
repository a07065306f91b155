//! `ticketd backup`: a consistent copy of the embedded SQLite store taken
//! while the server keeps writing, checked before it is reported good.
//!
//! `VACUUM INTO` reads the database inside one read transaction (WAL mode
//! lets writers go on meanwhile), so the copy holds every event committed
//! before it started and nothing half written; it is a plain database file
//! with no `-wal` beside it. The copy is then opened on its own and its
//! whole log verified (`audit::verify_log`): a backup that does not verify
//! is deleted and reported, never left looking usable.
//!
//! PostgreSQL is backed up with its own tools (`pg_basebackup` and WAL
//! archiving, docs/DEPLOYMENT.md), which give point-in-time recovery; this
//! command says so instead of taking a weaker copy.

use std::path::{Path, PathBuf};

use crate::audit::{self, AuditError};
use crate::store::{self, Pool, StoreConfig, StoreError};

/// Why a backup was not made. Nothing is left at the target.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "PostgreSQL is backed up with pg_basebackup and WAL archiving \
         (docs/DEPLOYMENT.md, \"Backup and restore\"); `ticketd backup` copies \
         the embedded SQLite store"
    )]
    Postgres,
    #[error("the backup target {0} already exists: choose a new file")]
    Exists(PathBuf),
    #[error("cannot create the backup file {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("the copy failed (the store is unchanged): {0}")]
    Copy(#[source] sqlx::Error),
    #[error("the copy could not be verified, and was deleted: {0}")]
    Check(#[from] AuditError),
    #[error("the copy does not verify, and was deleted: {0}")]
    Tampered(String),
}

/// What a good backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub path: PathBuf,
    /// Events in the copy, every one verified.
    pub events: u64,
    /// The log's digest at the copy (as `Audit.Verify` reports it); events
    /// not yet sequenced then are in `events` but not in the digest.
    pub digest: String,
}

/// Copies the store of `config` to `target` (a file that must not exist)
/// and verifies the copy.
pub async fn backup(config: &StoreConfig, target: &Path) -> Result<Backup, BackupError> {
    let StoreConfig::Sqlite { .. } = config else {
        return Err(BackupError::Postgres);
    };
    create_private(target)?;
    let copied = copy(config, target).await;
    let checked = match copied {
        Ok(()) => check(target).await,
        Err(e) => Err(e),
    };
    if checked.is_err() {
        let _ = std::fs::remove_file(target);
    }
    checked
}

/// An empty file only the owner may read: `VACUUM INTO` writes into an
/// empty file, so the copy of personal data is never readable by others,
/// not even for a moment.
fn create_private(target: &Path) -> Result<(), BackupError> {
    if target.exists() {
        return Err(BackupError::Exists(target.to_owned()));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(target)
        .map(drop)
        .map_err(|source| BackupError::Create {
            path: target.to_owned(),
            source,
        })
}

async fn copy(config: &StoreConfig, target: &Path) -> Result<(), BackupError> {
    let db = store::open(config).await?;
    let Pool::Sqlite(pool) = &db else {
        return Err(BackupError::Postgres);
    };
    let into = target.to_string_lossy().into_owned();
    let done = sqlx::query("VACUUM INTO $1")
        .bind(into)
        .execute(pool)
        .await
        .map(drop)
        .map_err(BackupError::Copy);
    db.close().await;
    done
}

async fn check(target: &Path) -> Result<Backup, BackupError> {
    let copy = StoreConfig::Sqlite {
        path: target.to_owned(),
    };
    let db = store::open(&copy).await?;
    let verified = audit::verify_log(&db).await;
    db.close().await;
    let verified = verified?;
    if let Some(p) = verified.first_problem {
        return Err(BackupError::Tampered(format!(
            "{} v{} (log position {}): {}",
            p.ticket_id,
            p.version,
            p.log_position
                .map_or_else(|| "-".to_owned(), |at| at.to_string()),
            p.reason
        )));
    }
    Ok(Backup {
        path: target.to_owned(),
        events: verified.events_checked,
        digest: verified.digest,
    })
}
