//! Runs beside the server (or alone, `ticketd project`): the log watcher
//! that extends the global log (PostgreSQL) and publishes its head, and the
//! projection runners.

use std::sync::Arc;
use std::time::Duration;

use domain::LocalTime;
use projections::cost::store::CostTarget;
use projections::cost::{self, COST_LEDGER};
use projections::fracas::store::FracasTarget;
use projections::fracas::{self, FRACAS};
use projections::log::{head_postgres, head_sqlite, sequence_postgres, sequence_sqlite};
use projections::runner::{run, BATCH};
use projections::sla::store::SlaTarget;
use projections::sla::{SlaConfig, SLA};
use projections::ticket_summary::Target;
use projections::{postgres, sqlite, ProjectionError, TICKET_SUMMARY};
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{watch, Notify};

use crate::store::Db;

/// How often the log is looked at when nothing in this process committed
/// (another process may have).
const WATCH_TICK: Duration = Duration::from_millis(50);

/// Extends the log with every committed event until nothing is left (or
/// another process holds the PostgreSQL sequencer: it will do the rest).
pub async fn sequence_all(db: &Db) -> Result<(), sqlx::Error> {
    loop {
        let appended = match db {
            Db::Postgres(pool) => sequence_postgres(pool, 5_000).await?,
            Db::Sqlite(pool) => sequence_sqlite(pool, 5_000).await?,
        };
        if appended == 0 {
            return Ok(());
        }
    }
}

/// Extends the log and publishes its head position until `stop`.
pub async fn watch_log(
    db: Db,
    committed: Arc<Notify>,
    head: watch::Sender<i64>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            break;
        }
        let step = match &db {
            Db::Postgres(pool) => match sequence_postgres(pool, 5_000).await {
                Ok(_) => head_postgres(pool).await,
                Err(e) => Err(e),
            },
            Db::Sqlite(pool) => match sequence_sqlite(pool, 5_000).await {
                Ok(_) => head_sqlite(pool).await,
                Err(e) => Err(e),
            },
        };
        match step {
            Ok(position) => {
                head.send_if_modified(|h| {
                    let moved = *h != position;
                    *h = position;
                    moved
                });
            }
            Err(error) => tracing::warn!(%error, "cannot read the log head; will retry"),
        }
        tokio::select! {
            _ = committed.notified() => {}
            _ = tokio::time::sleep(WATCH_TICK) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Advisory lock key for a projection's runner.
fn lock_key(projection: &str) -> i64 {
    // FNV-1a: stable across builds and processes.
    let hash = projection.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Waits until this process holds the projection's session lock, on a
/// connection taken out of the pool: if the process dies the connection
/// closes and the lock passes to a runner elsewhere.
async fn lead(
    pool: &PgPool,
    projection: &str,
    stop: &mut watch::Receiver<bool>,
) -> Option<PoolConnection<Postgres>> {
    loop {
        if *stop.borrow() {
            return None;
        }
        match pool.acquire().await {
            Ok(mut conn) => {
                let got: Result<bool, _> = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(lock_key(projection))
                    .fetch_one(&mut *conn)
                    .await;
                match got {
                    Ok(true) => {
                        tracing::info!(projection, "this process now runs the projection");
                        return Some(conn);
                    }
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(projection, %error, "cannot take the projection lock")
                    }
                }
                // Never return a connection that might hold the lock to the pool.
                drop(conn.detach());
            }
            Err(error) => tracing::warn!(projection, %error, "cannot reach the store"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Every projection the runner keeps, by checkpoint name.
pub const PROJECTIONS: &[&str] = &[TICKET_SUMMARY, COST_LEDGER, FRACAS, SLA];

type Batch = Pin<Box<dyn Future<Output = Result<usize, ProjectionError>> + Send>>;

/// One batch of `projection` on `db`.
fn batch(db: &Db, projection: &'static str, local: LocalTime) -> Batch {
    let db = db.clone();
    Box::pin(async move {
        match (&db, projection) {
            (Db::Postgres(pool), COST_LEDGER) => {
                cost::store::batch_postgres(pool, &CostTarget::LIVE, BATCH).await
            }
            (Db::Sqlite(pool), COST_LEDGER) => {
                cost::store::batch_sqlite(pool, &CostTarget::LIVE, BATCH).await
            }
            (Db::Postgres(pool), FRACAS) => {
                fracas::store::batch_postgres(pool, &FracasTarget::live(local), BATCH).await
            }
            (Db::Sqlite(pool), FRACAS) => {
                fracas::store::batch_sqlite(pool, &FracasTarget::live(local), BATCH).await
            }
            (Db::Postgres(pool), SLA) => {
                projections::sla::store::batch_postgres(
                    pool,
                    SlaConfig::current(),
                    &SlaTarget::LIVE,
                    BATCH,
                )
                .await
            }
            (Db::Sqlite(pool), SLA) => {
                projections::sla::store::batch_sqlite(
                    pool,
                    SlaConfig::current(),
                    &SlaTarget::LIVE,
                    BATCH,
                )
                .await
            }
            (Db::Postgres(pool), _) => {
                postgres::ticket_summary_batch(pool, &Target::live(), BATCH).await
            }
            (Db::Sqlite(pool), _) => {
                sqlite::ticket_summary_batch(pool, &Target::live(), BATCH).await
            }
        }
    })
}

/// Keeps one projection caught up until `stop` turns true. On PostgreSQL
/// exactly one process runs it; the others stand by.
async fn run_one(
    db: Db,
    projection: &'static str,
    local: LocalTime,
    head: watch::Receiver<i64>,
    mut stop: watch::Receiver<bool>,
) {
    match &db {
        Db::Postgres(pool) => {
            while let Some(lease) = lead(pool, projection, &mut stop).await {
                let mut lease = lease.detach();
                let (lost_tx, lost) = watch::channel(false);
                // Stop the runner when the process stops or the lease breaks.
                let mut outer = stop.clone();
                let watchdog = async {
                    loop {
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {
                                if sqlx::query("SELECT 1").execute(&mut lease).await.is_err() {
                                    tracing::warn!(projection, "lost the projection lock connection");
                                    break;
                                }
                            }
                            _ = outer.changed() => break,
                        }
                    }
                    let _ = lost_tx.send(true);
                };
                let runner = run(
                    projection,
                    || batch(&db, projection, local),
                    head.clone(),
                    lost,
                );
                tokio::join!(watchdog, runner);
                drop(lease);
            }
        }
        Db::Sqlite(_) => run(projection, || batch(&db, projection, local), head, stop).await,
    }
}

/// Keeps every projection caught up until `stop` turns true. `local` (the
/// policy's UTC offset) dates events where a read model needs days.
pub async fn run_projections(
    db: Db,
    local: LocalTime,
    head: watch::Receiver<i64>,
    stop: watch::Receiver<bool>,
) {
    let runners = PROJECTIONS
        .iter()
        .map(|name| run_one(db.clone(), name, local, head.clone(), stop.clone()));
    futures::future::join_all(runners).await;
}

/// The log watcher and all projections, until `stop`.
pub async fn run_all(
    db: Db,
    local: LocalTime,
    committed: Arc<Notify>,
    head: watch::Sender<i64>,
    stop: watch::Receiver<bool>,
) {
    let receiver = head.subscribe();
    tokio::join!(
        watch_log(db.clone(), committed, head, stop.clone()),
        run_projections(db, local, receiver, stop),
    );
}
