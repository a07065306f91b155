//! Group commit: commands that arrive together share one transaction and
//! one fsync.
//!
//! Each command hands its sealed row to [`GroupCommit::append`] and waits.
//! A writer task takes every row waiting when it is free (no timer: a lone
//! command is written at once; under load the queue fills while the
//! previous batch is being made durable) and writes them in one
//! transaction:
//!
//! * PostgreSQL: one multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING`;
//!   a row the unique indexes refused (a taken version or a reused request
//!   id) is simply not returned, and only its command sees the conflict.
//! * SQLite: `BEGIN IMMEDIATE`, each row in its own savepoint, `COMMIT`.
//!
//! On both, a row whose stream does not end, in the store, with the event
//! it was chained to is refused like a taken version: a cached state the
//! store has lost never gets an event chained to a missing one.
//!
//! Invariant: a command is answered only after the `COMMIT` of its batch
//! returned, so an acknowledged event is durable (`synchronous_commit` on,
//! `synchronous=FULL`); a refused row never sinks the others.

use std::sync::Arc;

use projections::log::append::{
    hash_at_sqlite, insert_batch_postgres, insert_sqlite, is_unique_violation, NewEvent,
};
use projections::log::seal::event_hash;
use sqlx::{PgPool, SqlitePool};
use tokio::sync::{mpsc, oneshot, Mutex};
use tracing::Instrument;

use super::CommandError;
use crate::store::Pool;

/// Rows taken into one transaction at most.
const MAX_BATCH: usize = 256;

/// Rows waiting for a writer at most; a command beyond it waits to queue.
const QUEUE: usize = 4096;

/// PostgreSQL writer tasks: while one batch waits for its fsync, the next
/// one forms and is sent.
const POSTGRES_WRITERS: usize = 2;

/// Why a row was not appended. Nothing of it was written.
#[derive(Debug)]
pub(crate) enum AppendError {
    /// A unique index refused it: the version is taken or the request id
    /// was used. The caller finds out which.
    Taken,
    /// The store failed; the command gets this error.
    Failed(CommandError),
}

struct Pending {
    event: NewEvent,
    previous: String,
    done: oneshot::Sender<Result<String, AppendError>>,
    /// The command's span, which the batch's span links to.
    span: tracing::Span,
}

/// The queue in front of the writer tasks. Cheap to share.
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// Starts the writer tasks on the current runtime. They end when the
    /// last `GroupCommit` is dropped and the queue is drained.
    pub(crate) fn start(db: &Pool) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        match db {
            Pool::Postgres(pool) => {
                for _ in 0..POSTGRES_WRITERS {
                    tokio::spawn(postgres_writer(pool.clone(), receiver.clone()));
                }
            }
            Pool::Sqlite(pool) => {
                tokio::spawn(sqlite_writer(pool.clone(), receiver));
            }
        }
        Self { queue }
    }

    /// Appends `event` chained to `previous` once its batch is durable;
    /// returns its hash.
    pub(crate) async fn append(
        &self,
        event: NewEvent,
        previous: String,
    ) -> Result<String, AppendError> {
        let wait = tracing::info_span!("commit.wait");
        let (done, outcome) = oneshot::channel();
        let pending = Pending {
            event,
            previous,
            done,
            span: wait.clone(),
        };
        async {
            if self.queue.send(pending).await.is_err() {
                return Err(stopped());
            }
            // A writer that went away without answering wrote nothing it
            // acknowledged; the client may retry under the same request id.
            outcome.await.unwrap_or_else(|_| Err(stopped()))
        }
        .instrument(wait)
        .await
    }
}

fn stopped() -> AppendError {
    AppendError::Failed(CommandError::Unavailable(
        "the event writer stopped".to_owned(),
    ))
}

/// Waits for the first row, then takes every row already waiting; with
/// the batch's span, linked to each command's.
async fn next_batch(
    receiver: &Mutex<mpsc::Receiver<Pending>>,
) -> Option<(Vec<Pending>, tracing::Span)> {
    let mut receiver = receiver.lock().await;
    let first = receiver.recv().await?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match receiver.try_recv() {
            Ok(pending) => batch.push(pending),
            Err(_) => break,
        }
    }
    let span = tracing::info_span!("commit.batch", rows = batch.len());
    for pending in &batch {
        span.follows_from(&pending.span);
    }
    Some((batch, span))
}

fn failed(error: &sqlx::Error) -> AppendError {
    AppendError::Failed(CommandError::of_store(error))
}

async fn postgres_writer(pool: PgPool, receiver: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    while let Some((batch, span)) = next_batch(&receiver).await {
        postgres_batch(&pool, batch).instrument(span).await;
    }
}

/// Writes one batch and answers each of its commands.
async fn postgres_batch(pool: &PgPool, batch: Vec<Pending>) {
    let hashes: Vec<String> = batch
        .iter()
        .map(|p| event_hash(&p.previous, &p.event.sealed()))
        .collect();
    let rows: Vec<&NewEvent> = batch.iter().map(|p| &p.event).collect();
    let previous: Vec<String> = batch.iter().map(|p| p.previous.clone()).collect();
    let written = match pool.acquire().await {
        Ok(mut conn) => insert_batch_postgres(&mut conn, &rows, &hashes, &previous).await,
        Err(error) => Err(error),
    };
    match written {
        Ok(inserted) => {
            for ((pending, hash), ok) in batch.into_iter().zip(hashes).zip(inserted) {
                let outcome = if ok {
                    Ok(hash)
                } else {
                    Err(AppendError::Taken)
                };
                let _ = pending.done.send(outcome);
            }
        }
        // A failure of the statement as a whole (a deadlock with
        // another process's batch, say): each row alone, so that one
        // bad row does not fail the others.
        Err(error) if !crate::store::is_unavailable(&error) && batch.len() > 1 => {
            tracing::debug!(%error, rows = batch.len(), "batch failed; writing rows one by one");
            for (pending, hash) in batch.into_iter().zip(hashes) {
                let outcome = one_postgres(pool, &pending.event, hash, &pending.previous).await;
                let _ = pending.done.send(outcome);
            }
        }
        Err(error) => {
            for pending in batch {
                let _ = pending.done.send(Err(failed(&error)));
            }
        }
    }
}

async fn one_postgres(
    pool: &PgPool,
    event: &NewEvent,
    hash: String,
    previous: &str,
) -> Result<String, AppendError> {
    let written = match pool.acquire().await {
        Ok(mut conn) => {
            insert_batch_postgres(
                &mut conn,
                &[event],
                std::slice::from_ref(&hash),
                &[previous.to_owned()],
            )
            .await
        }
        Err(error) => Err(error),
    };
    match written {
        Ok(inserted) if inserted.first() == Some(&true) => Ok(hash),
        Ok(_) => Err(AppendError::Taken),
        Err(error) => Err(failed(&error)),
    }
}

async fn sqlite_writer(pool: SqlitePool, receiver: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    while let Some((batch, span)) = next_batch(&receiver).await {
        let outcomes = sqlite_batch(&pool, &batch).instrument(span).await;
        match outcomes {
            Ok(outcomes) => {
                for (pending, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = pending.done.send(outcome);
                }
            }
            Err(error) => {
                for pending in batch {
                    let _ = pending.done.send(Err(failed(&error)));
                }
            }
        }
    }
}

/// One transaction, one savepoint per row. `Err` only if the transaction
/// as a whole failed (then nothing of the batch was written).
async fn sqlite_batch(
    pool: &SqlitePool,
    batch: &[Pending],
) -> Result<Vec<Result<String, AppendError>>, sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for pending in batch {
        // Chained to the event the store holds just before it, or refused
        // (see `insert_batch_postgres`).
        let event = &pending.event;
        let stored = hash_at_sqlite(
            &mut tx,
            &event.aggregate_type,
            &event.aggregate_id,
            event.sequence - 1,
        )
        .await?;
        if stored != pending.previous {
            outcomes.push(Err(AppendError::Taken));
            continue;
        }
        sqlx::query("SAVEPOINT command").execute(&mut *tx).await?;
        match insert_sqlite(&mut tx, &pending.event, &pending.previous).await {
            Ok(hash) => outcomes.push(Ok(hash)),
            Err(error) => {
                sqlx::query("ROLLBACK TO command").execute(&mut *tx).await?;
                outcomes.push(Err(if is_unique_violation(&error) {
                    AppendError::Taken
                } else {
                    failed(&error)
                }));
            }
        }
        sqlx::query("RELEASE command").execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}
