//! PostgreSQL: several ticketd processes on one database run each
//! projection exactly once between them, and hand it over when the one
//! running it goes away.

use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::flow::in_warranty_lifecycle;
use crate::helpers::{Backend, TestServer};
use crate::projections::{assert_rebuild_changes_nothing, assert_rows_at_stream_versions};
use crate::subscriptions::read_to;

/// The projection's session advisory lock as pg_locks shows a bigint key:
/// (classid, objid) = (high, low) 32 bits. The key is FNV-1a of the
/// projection's name, as in services/src/project.rs.
fn projection_lock() -> (i64, i64) {
    let hash = "ticket_summary"
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    (
        i64::try_from(hash >> 32).expect("32 bits"),
        i64::try_from(hash & 0xffff_ffff).expect("32 bits"),
    )
}

/// Backends of this test's database holding the projection lock.
async fn lock_holders(server: &TestServer) -> Vec<i32> {
    let (high, low) = projection_lock();
    sqlx::query_scalar(
        "SELECT pid FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND objsubid = 1
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND classid::bigint = $1 AND objid::bigint = $2",
    )
    .bind(high)
    .bind(low)
    .fetch_all(&mut server.postgres().await)
    .await
    .expect("read pg_locks")
}

/// Waits until exactly one backend, other than `not`, holds the lock.
async fn sole_leader(server: &TestServer, not: Option<i32>, within: Duration) -> i32 {
    let deadline = Instant::now() + within;
    loop {
        let holders = lock_holders(server).await;
        match holders.as_slice() {
            [one] if Some(*one) != not => return *one,
            _ => assert!(
                Instant::now() < deadline,
                "no single new leader within {within:?}: {holders:?} (before: {not:?})"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `writers` tasks on `server`, each driving `tickets` lifecycles.
async fn write(
    server: &TestServer,
    name: &str,
    writers: usize,
    tickets: usize,
) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    for w in 0..writers {
        let client = server.commands().await;
        let prefix = format!("{name}-{w}");
        tasks.push(tokio::spawn(async move {
            for t in 0..tickets {
                in_warranty_lifecycle(client.clone(), &format!("{prefix}-{t}")).await;
            }
        }));
    }
    tasks
}

async fn join(tasks: Vec<JoinHandle<()>>) {
    for task in tasks {
        task.await.expect("writer finishes");
    }
}

async fn a_standby_server_takes_over_the_projection_when_the_leader_stops(backend: Backend) {
    let mut first = TestServer::start(backend).await;
    let leader = sole_leader(&first, None, Duration::from_secs(5)).await;
    let second = first.start_beside().await;

    let mut writers = write(&first, "first", 2, 10).await;
    writers.extend(write(&second, "second", 2, 10).await);
    join(writers).await;
    second.caught_up().await;
    // The second server stands by: it never takes the lock while the first
    // holds it.
    for _ in 0..10 {
        assert_eq!(lock_holders(&second).await, vec![leader]);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Stop the leader while writes go on through the second server.
    let writers = write(&second, "takeover", 2, 15).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.shut_down().await;
    let stopped = Instant::now();
    sole_leader(&second, Some(leader), Duration::from_secs(5)).await;
    join(writers).await;
    second.caught_up_within(Duration::from_secs(10)).await;
    eprintln!("caught up {:?} after the leader stopped", stopped.elapsed());

    assert_eq!(second.summary_rows().await.len(), 70);
    // The two servers' sequencers built one gap-free log between them.
    let head = second.caught_up().await.head_position;
    let log = read_to(&mut second.events().await, Default::default(), head).await;
    assert!(
        log.iter().map(|e| e.position).eq(1..=head),
        "gaps in the log"
    );
    let mut ids: Vec<String> = log.into_iter().map(|e| e.event_id).collect();
    ids.sort();
    assert!(ids == second.event_ids().await, "log and store differ");
    assert_rows_at_stream_versions(&second).await;
    assert_rebuild_changes_nothing(&second).await;
    second.stop().await;
    first.stop().await;
}

async fn a_killed_lock_connection_passes_the_projection_to_exactly_one_runner(backend: Backend) {
    let first = TestServer::start(backend).await;
    let leader = sole_leader(&first, None, Duration::from_secs(5)).await;
    let second = first.start_beside().await;

    let mut writers = write(&first, "first", 2, 10).await;
    writers.extend(write(&second, "second", 2, 10).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // As if the leader's connection died: its lock goes, the old runner may
    // still finish a batch while a new one starts.
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(leader)
        .fetch_one(&mut first.postgres().await)
        .await
        .expect("terminate the leader's connection");
    assert!(killed);
    sole_leader(&first, Some(leader), Duration::from_secs(5)).await;
    join(writers).await;
    first.caught_up_within(Duration::from_secs(10)).await;

    assert_eq!(first.summary_rows().await.len(), 40);
    assert_rows_at_stream_versions(&first).await;
    assert_rebuild_changes_nothing(&first).await;
    second.stop().await;
    first.stop().await;
}

async fn a_restart_with_a_backlog_resumes_from_the_checkpoint(backend: Backend) {
    let mut server = TestServer::start(backend).await;
    join(write(&server, "early", 1, 3).await).await;
    server.caught_up().await;

    // Take the projection away from the server, as another process would:
    // end its lock connection and hold the lock ourselves (a session lock
    // takes no transaction id, so the log itself keeps moving).
    let (high, low) = projection_lock();
    let key = (high << 32) | low;
    let mut holder = server.postgres().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut holder)
            .await
            .expect("try the projection lock");
        if got {
            break;
        }
        for pid in lock_holders(&server).await {
            sqlx::query("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .execute(&mut holder)
                .await
                .expect("end the leader's lock connection");
        }
        assert!(Instant::now() < deadline, "cannot take the projection lock");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The server's runner notices its lost lock within a second.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    join(write(&server, "backlog", 4, 15).await).await;
    let mut log = server.events().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        let status = log
            .get_log_status(ticketd::rpc::pb::GetLogStatusRequest {})
            .await
            .expect("log status")
            .into_inner();
        if status.head_position == 630 {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "log never reached 630: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let summary = status
        .projections
        .iter()
        .find(|p| p.name == "ticket_summary")
        .map(|p| (p.position, p.lag));
    assert_eq!(
        summary,
        Some((30, 600)),
        "the server stood by while we held the lock: {status:?}"
    );

    // Stop with the backlog, give the lock back, start again.
    server.shut_down().await;
    let released: bool = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .fetch_one(&mut holder)
        .await
        .expect("release the projection lock");
    assert!(released);
    server.restart().await;
    server.caught_up_within(Duration::from_secs(10)).await;
    assert_eq!(server.summary_rows().await.len(), 63);
    assert_rows_at_stream_versions(&server).await;
    assert_rebuild_changes_nothing(&server).await;
    server.stop().await;
}

/// A checkpoint lock (`Tx::lock_checkpoint`): a second taker waits until
/// the first commits, then reads what it moved; and taking it gives the
/// transaction no transaction id, so a runner's batch does not hold the
/// sequencer's horizon (`log::sequence`) until it writes.
async fn a_checkpoint_lock_excludes_a_second_taker_and_takes_no_transaction_id(backend: Backend) {
    let server = TestServer::start(backend).await;
    let db = server.open_db().await;
    let mut first = db.begin().await.expect("begin");
    assert_eq!(first.lock_checkpoint("probe").await.expect("lock"), 0);
    let xid: Vec<(Option<String>,)> = first
        .fetch("SELECT pg_current_xact_id_if_assigned()::text", vec![])
        .await
        .expect("xid");
    assert_eq!(xid, vec![(None,)], "locking took a transaction id");

    let other = db.clone();
    let second = tokio::spawn(async move {
        let mut tx = other.begin().await.expect("begin");
        let at = tx.lock_checkpoint("probe").await.expect("lock");
        tx.commit().await.expect("commit");
        at
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the second taker did not wait");
    first.move_checkpoint("probe", 7).await.expect("move");
    first.commit().await.expect("commit");
    assert_eq!(second.await.expect("second"), 7);
    assert_eq!(db.checkpoint("probe").await.expect("read"), 7);
    db.close().await;
    server.stop().await;
}

crate::on_postgres!(
    a_checkpoint_lock_excludes_a_second_taker_and_takes_no_transaction_id,
    a_standby_server_takes_over_the_projection_when_the_leader_stops,
    a_killed_lock_connection_passes_the_projection_to_exactly_one_runner,
    a_restart_with_a_backlog_resumes_from_the_checkpoint,
);
