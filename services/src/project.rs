//! Runs beside the server (or alone, `ticketd project`): the log watcher
//! that extends the global log (PostgreSQL) and publishes its head, and the
//! projection runners.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use projections::engine::{self, Context, Projection, Target, REGISTRY};
use projections::log::{self, recent::Recent};
use projections::runner::{run, CATCH_UP};
use projections::ProjectionError;
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use tokio::sync::{watch, Notify};

use crate::store::Pool;

/// How often the log is looked at when nothing in this process committed
/// (another process may have).
const WATCH_TICK: Duration = Duration::from_millis(50);

/// Extends the log with every committed event until nothing is left (or
/// another process holds the PostgreSQL sequencer: it will do the rest).
pub async fn sequence_all(db: &Pool) -> Result<(), sqlx::Error> {
    loop {
        let appended = db.sequence(5_000).await?.appended;
        if appended == 0 {
            return Ok(());
        }
    }
}

/// How often the log watcher looks for events waiting on a transaction,
/// and how old that transaction must be to be warned about.
const BACKLOG_LOOK: std::time::Duration = std::time::Duration::from_secs(5);

/// Logs a warning when stored events wait for a transaction of this
/// database older than [`BACKLOG_LOOK`] (an idle-in-transaction session).
async fn warn_of_backlog(db: &Pool) {
    match log::backlog::backlog(db).await {
        Ok(log::backlog::Backlog {
            unsequenced,
            blocker: Some(b),
        }) if b.age_seconds >= BACKLOG_LOOK.as_secs() as i64 => tracing::warn!(
            unsequenced,
            pid = b.pid,
            database = %b.database,
            age_seconds = b.age_seconds,
            state = %b.state,
            "events wait to enter the log for a transaction still open in this database"
        ),
        Ok(_) => {}
        Err(error) => tracing::debug!(%error, "cannot look at the log's backlog"),
    }
}

/// Extends the log and publishes its head position until `stop`.
pub async fn watch_log(
    db: Pool,
    committed: Arc<Notify>,
    head: watch::Sender<i64>,
    mut stop: watch::Receiver<bool>,
) {
    let mut looked = tokio::time::Instant::now();
    loop {
        if *stop.borrow() {
            break;
        }
        if looked.elapsed() >= BACKLOG_LOOK {
            looked = tokio::time::Instant::now();
            warn_of_backlog(&db).await;
        }
        // The sequencer's turn says where the head is; only when another
        // process took the turn is it read.
        let step = match db.sequence(5_000).await {
            Ok(log::Sequenced {
                head: Some(head), ..
            }) => Ok(head),
            Ok(_) => db.head().await,
            Err(e) => Err(e),
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
                    .bind(projections::db::lock_key(projection))
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

type Batch = Pin<Box<dyn Future<Output = Result<usize, ProjectionError>> + Send>>;

/// Log events the runners of this process keep for each other: ten
/// catch-up batches, so that read models catching up at different speeds
/// still read each stretch of the log once.
const SHARED_WINDOW: usize = 10 * CATCH_UP as usize;

/// Events a runner applies between refreshes of its tables' planner
/// statistics. A read model catching up from empty grows its tables far
/// faster than autovacuum re-analyzes them; planned on the statistics of
/// an empty table, its per-batch lookups scan whole tables, ever slower.
const ANALYZE_EVERY: usize = 100_000;

/// One batch of `p` on `db`, at its live tables; every [`ANALYZE_EVERY`]
/// events applied (counted in `applied`), its tables are analyzed.
fn batch(
    db: &Pool,
    p: &'static dyn Projection,
    cx: Context,
    shared: Arc<Recent>,
    applied: Arc<AtomicUsize>,
    limit: i64,
) -> Batch {
    let db = db.clone();
    Box::pin(async move {
        let n = engine::batch(&db, p, &Target::live(p), &cx, limit, Some(&shared)).await?;
        if applied.fetch_add(n, Ordering::Relaxed) + n >= ANALYZE_EVERY {
            applied.store(0, Ordering::Relaxed);
            for table in p.tables() {
                if let Err(error) = db.execute(&format!("ANALYZE {table}")).await {
                    tracing::warn!(projection = p.name(), table, %error, "cannot analyze");
                }
            }
        }
        Ok(n)
    })
}

/// Runs `work` while this process leads `key`, until `stop` turns true or
/// `work` finishes with `Some`. On PostgreSQL exactly one process leads a
/// key (a session advisory lock on a connection of its own); `work` gets a
/// receiver that turns true when that lease breaks, must then return
/// `None`, and runs again once the lease is won back. On SQLite (one
/// process) `work` runs once with `stop`.
pub async fn while_leading<T, F, Fut>(
    db: &Pool,
    key: &str,
    mut stop: watch::Receiver<bool>,
    mut work: F,
) -> Option<T>
where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let Pool::Postgres(pool) = db else {
        return work(stop).await;
    };
    while let Some(lease) = lead(pool, key, &mut stop).await {
        let mut lease = lease.detach();
        let (lost_tx, lost) = watch::channel(false);
        // Stop the work when the process stops or the lease breaks.
        let mut outer = stop.clone();
        let (done_tx, mut done) = watch::channel(false);
        let watchdog = async {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {
                        if sqlx::query("SELECT 1").execute(&mut lease).await.is_err() {
                            tracing::warn!(key, "lost the leadership connection");
                            break;
                        }
                    }
                    _ = outer.changed() => break,
                    _ = done.changed() => break,
                }
            }
            let _ = lost_tx.send(true);
        };
        let working = async {
            let finished = work(lost).await;
            // Wakes the watchdog when the work ends by itself.
            let _ = done_tx.send(true);
            finished
        };
        let ((), finished) = tokio::join!(watchdog, working);
        drop(lease);
        if finished.is_some() {
            return finished;
        }
    }
    None
}

/// Keeps one projection caught up until `stop` turns true. On PostgreSQL
/// exactly one process runs it; the others stand by.
async fn run_one(
    db: Pool,
    p: &'static dyn Projection,
    cx: Context,
    shared: Arc<Recent>,
    head: watch::Receiver<i64>,
    stop: watch::Receiver<bool>,
) {
    let projection = p.name();
    let applied = Arc::new(AtomicUsize::new(0));
    while_leading(&db, projection, stop, |lost| {
        let runner = run(
            projection,
            |limit| batch(&db, p, cx, shared.clone(), applied.clone(), limit),
            head.clone(),
            lost,
        );
        async move {
            runner.await;
            None::<()>
        }
    })
    .await;
}

/// Keeps every projection caught up until `stop` turns true, computing
/// with `cx` (the policy's UTC offset dates events where a read model
/// needs days; the SLA configuration).
pub async fn run_projections(
    db: Pool,
    cx: Context,
    head: watch::Receiver<i64>,
    stop: watch::Receiver<bool>,
) {
    let shared = Arc::new(Recent::new(SHARED_WINDOW));
    let runners = REGISTRY.iter().map(|p| {
        run_one(
            db.clone(),
            *p,
            cx,
            shared.clone(),
            head.clone(),
            stop.clone(),
        )
    });
    futures::future::join_all(runners).await;
}

/// The log watcher and all projections, until `stop`.
pub async fn run_all(
    db: Pool,
    cx: Context,
    committed: Arc<Notify>,
    head: watch::Sender<i64>,
    stop: watch::Receiver<bool>,
) {
    let receiver = head.subscribe();
    tokio::join!(
        watch_log(db.clone(), committed, head, stop.clone()),
        run_projections(db, cx, receiver, stop),
    );
}
