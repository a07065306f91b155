//! Our implementation of cqrs-es's `PersistedEventRepository`: reads go to
//! postgres-es / sqlite-es unchanged; writes are ours, because each event's
//! tamper-evident hash (`projections::seal`) must be written in the same
//! transaction as the event, chained to the ticket's previous event, and
//! their fixed INSERT has no place for it. See ARCHITECTURE.md.

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use projections::seal::{event_hash, Sealed};
use serde_json::Value;
use sqlx::{PgPool, SqlitePool};

use crate::store::is_unavailable;

/// Where sealed events are written.
#[derive(Debug, Clone)]
pub enum Writer {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// A cqrs-es repository whose writes carry hash chains.
#[derive(Debug)]
pub struct SealedRepository<R> {
    reads: R,
    writer: Writer,
}

impl<R> SealedRepository<R> {
    pub fn new(reads: R, writer: Writer) -> Self {
        Self { reads, writer }
    }
}

fn persistence_error(error: sqlx::Error) -> PersistenceError {
    if let sqlx::Error::Database(db) = &error {
        // Unique violations: PostgreSQL 23505; SQLite primary key 1555, unique 2067.
        if matches!(db.code().as_deref(), Some("23505" | "1555" | "2067")) {
            return PersistenceError::OptimisticLockError;
        }
    }
    if is_unavailable(&error) {
        PersistenceError::ConnectionError(Box::new(error))
    } else {
        PersistenceError::UnknownError(Box::new(error))
    }
}

fn sealed<'a>(
    aggregate_type: &'a str,
    e: &'a SerializedEvent,
) -> Result<Sealed<'a>, PersistenceError> {
    Ok(Sealed {
        aggregate_type,
        aggregate_id: &e.aggregate_id,
        sequence: i64::try_from(e.sequence)
            .map_err(|err| PersistenceError::UnknownError(Box::new(err)))?,
        event_type: &e.event_type,
        event_version: &e.event_version,
        payload: &e.payload,
        metadata: &e.metadata,
    })
}

async fn write_postgres<A: Aggregate>(
    pool: &PgPool,
    events: &[SerializedEvent],
) -> Result<(), sqlx::Error> {
    let Some(first) = events.first() else {
        return Ok(());
    };
    let mut tx = pool.begin().await?;
    let mut previous: String = sqlx::query_scalar(
        "SELECT COALESCE(hash, '') FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3",
    )
    .bind(A::TYPE)
    .bind(&first.aggregate_id)
    .bind(first.sequence as i64 - 1)
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or_default();
    for event in events {
        let seal = sealed(A::TYPE, event).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let hash = event_hash(&previous, &seal);
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(A::TYPE)
        .bind(&event.aggregate_id)
        .bind(seal.sequence)
        .bind(&event.event_type)
        .bind(&event.event_version)
        .bind(&event.payload)
        .bind(&event.metadata)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        previous = hash;
    }
    tx.commit().await
}

async fn write_sqlite<A: Aggregate>(
    pool: &SqlitePool,
    events: &[SerializedEvent],
) -> Result<(), sqlx::Error> {
    let Some(first) = events.first() else {
        return Ok(());
    };
    // IMMEDIATE: take the write lock before reading the previous hash.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut previous: String = sqlx::query_scalar(
        "SELECT COALESCE(hash, '') FROM events WHERE aggregate_type = ?1 AND aggregate_id = ?2 AND sequence = ?3",
    )
    .bind(A::TYPE)
    .bind(&first.aggregate_id)
    .bind(first.sequence as i64 - 1)
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or_default();
    for event in events {
        let seal = sealed(A::TYPE, event).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let hash = event_hash(&previous, &seal);
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(A::TYPE)
        .bind(&event.aggregate_id)
        .bind(seal.sequence)
        .bind(&event.event_type)
        .bind(&event.event_version)
        .bind(event.payload.to_string())
        .bind(event.metadata.to_string())
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        previous = hash;
    }
    tx.commit().await
}

impl<R: PersistedEventRepository> PersistedEventRepository for SealedRepository<R> {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads.get_events::<A>(aggregate_id).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.reads.get_snapshot::<A>(aggregate_id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if snapshot_update.is_some() {
            return Err(PersistenceError::UnknownError(
                "sealed events are stored without snapshots; use an event-sourced store".into(),
            ));
        }
        match &self.writer {
            Writer::Postgres(pool) => write_postgres::<A>(pool, events).await,
            Writer::Sqlite(pool) => write_sqlite::<A>(pool, events).await,
        }
        .map_err(persistence_error)
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_all_events::<A>().await
    }
}
