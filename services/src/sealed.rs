//! Our implementation of cqrs-es's `PersistedEventRepository`: reads go to
//! postgres-es / sqlite-es unchanged; writes are ours, because each event's
//! tamper-evident hash (`projections::log::seal`, written by
//! `projections::log::append`) must be written in the same
//! transaction as the event, chained to the ticket's previous event, and
//! their fixed INSERT has no place for it. See ARCHITECTURE.md.

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use projections::log::append::{
    hash_at_postgres, hash_at_sqlite, insert_postgres, insert_sqlite, is_unique_violation, NewEvent,
};
use serde_json::Value;
use sqlx::{PgPool, SqlitePool};

use crate::store::{is_unavailable, Pool};

/// A cqrs-es repository whose writes carry hash chains.
#[derive(Debug)]
pub struct SealedRepository<R> {
    reads: R,
    writer: Pool,
}

impl<R> SealedRepository<R> {
    pub fn new(reads: R, writer: Pool) -> Self {
        Self { reads, writer }
    }
}

fn persistence_error(error: sqlx::Error) -> PersistenceError {
    if is_unique_violation(&error) {
        return PersistenceError::OptimisticLockError;
    }
    if is_unavailable(&error) {
        PersistenceError::ConnectionError(Box::new(error))
    } else {
        PersistenceError::UnknownError(Box::new(error))
    }
}

/// The row to append for `e`, whose metadata must carry its id and times
/// ([`NewEvent::stamp_metadata`]). ticketd's own writers (the command bus,
/// the import, the SLA watcher) call `projections::log::append` directly; this
/// path serves a caller of cqrs-es's `commit`.
fn new_event(aggregate_type: &str, e: &SerializedEvent) -> Result<NewEvent, sqlx::Error> {
    let (event_id, recorded_at, occurred_at) = NewEvent::stamp_from_metadata(&e.metadata)
        .ok_or_else(|| {
            sqlx::Error::Protocol("an event to store lacks its event id or times".into())
        })?;
    Ok(NewEvent {
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: e.aggregate_id.clone(),
        sequence: i64::try_from(e.sequence)
            .map_err(|err| sqlx::Error::Protocol(err.to_string()))?,
        event_type: e.event_type.clone(),
        event_version: e.event_version.clone(),
        payload: e.payload.clone(),
        metadata: e.metadata.clone(),
        event_id,
        recorded_at,
        occurred_at,
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
    let mut previous = hash_at_postgres(
        &mut tx,
        A::TYPE,
        &first.aggregate_id,
        first.sequence as i64 - 1,
    )
    .await?;
    for event in events {
        previous = insert_postgres(&mut tx, &new_event(A::TYPE, event)?, &previous).await?;
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
    let mut previous = hash_at_sqlite(
        &mut tx,
        A::TYPE,
        &first.aggregate_id,
        first.sequence as i64 - 1,
    )
    .await?;
    for event in events {
        previous = insert_sqlite(&mut tx, &new_event(A::TYPE, event)?, &previous).await?;
    }
    tx.commit().await
}

/// The stored events in the current shape of their types: an aggregate
/// is always loaded from the shapes its `apply` knows (`domain::schema`).
fn current(events: Vec<SerializedEvent>) -> Result<Vec<SerializedEvent>, PersistenceError> {
    events
        .into_iter()
        .map(|mut e| {
            if !domain::schema::is_current(&e.event_type, &e.event_version) {
                e.payload =
                    projections::log::current_value(&e.event_type, &e.event_version, e.payload)
                        .map_err(|err| PersistenceError::DeserializationError(Box::new(err)))?;
                e.event_version =
                    domain::schema::version_label(domain::schema::current_version(&e.event_type));
            }
            Ok(e)
        })
        .collect()
}

impl<R: PersistedEventRepository> PersistedEventRepository for SealedRepository<R> {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        current(self.reads.get_events::<A>(aggregate_id).await?)
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        current(
            self.reads
                .get_last_events::<A>(aggregate_id, last_sequence)
                .await?,
        )
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
            Pool::Postgres(pool) => write_postgres::<A>(pool, events).await,
            Pool::Sqlite(pool) => write_sqlite::<A>(pool, events).await,
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
