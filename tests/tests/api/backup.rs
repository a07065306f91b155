//! `ticketd backup` and a restore (issue #33 item 5): a copy of the SQLite
//! store taken while commands keep coming, restored in place of the store,
//! verifies whole, continues its log from its head, rebuilds to the same
//! read models, and keeps each named consumer's position. PostgreSQL is
//! sent to its own tools.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ticketd::backup::{backup, BackupError};
use ticketd::rpc::pb;
use ticketd::store::StoreConfig;

use crate::consumers::{ack, consumer, named, next, open, receive};
use crate::helpers::{as_role, receive_request, Backend, TestServer};

async fn verify_all(server: &TestServer) -> pb::VerifyResponse {
    server
        .audit()
        .await
        .verify(pb::VerifyRequest::default())
        .await
        .expect("verify")
        .into_inner()
}

/// Receives tickets `writer-N` until `stop`; counts the acknowledged ones.
async fn keep_writing(
    server: &TestServer,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<usize> {
    let mut commands = server.commands().await;
    tokio::spawn(async move {
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            let request = receive_request(&format!("writer-{n}"), Some(30));
            commands
                .receive_ticket(as_role("customer_service", request))
                .await
                .expect("a command during the backup");
            n += 1;
        }
        n
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_writes_restores_to_a_store_that_verifies_and_goes_on() {
    let server = TestServer::start(Backend::Sqlite).await;
    receive(&server, "before", 20).await;
    let mut stream = open(&server, named("erp")).await;
    let mut delivered = Vec::new();
    for _ in 0..5 {
        let e = next(&mut stream, Duration::from_secs(10))
            .await
            .expect("event");
        delivered.push(e.position);
    }
    ack(&server, "erp", delivered).await;
    drop(stream);

    // The copy is taken while a writer keeps going.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = keep_writing(&server, stop.clone()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let elsewhere = tempfile::tempdir().expect("dir");
    let target = elsewhere.path().join("ticketd-backup.db");
    let made = backup(&server.config, &target).await.expect("backed up");
    stop.store(true, Ordering::Relaxed);
    let written_meanwhile = writer.await.expect("writer");
    assert!(written_meanwhile > 0, "the writer wrote during the backup");
    assert!(made.events >= 20, "{made:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&target)
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "personal data: owner only");
    }
    // A second backup to the same file is refused and leaves it alone.
    let again = backup(&server.config, &target).await;
    assert!(matches!(again, Err(BackupError::Exists(_))), "{again:?}");
    server.stop().await;

    // Restore: a server on the copy.
    let restored = TestServer::start_on(StoreConfig::Sqlite {
        path: target.clone(),
    })
    .await;
    // Every copied event verifies, sequenced or not at the copy; those the
    // log had not reached yet are sequenced now, so the log's digest moves
    // on from the one the backup printed.
    let verified = verify_all(&restored).await;
    assert!(verified.intact, "{verified:?}");
    assert_eq!(verified.events_checked, made.events);
    let head = restored.caught_up().await.head_position;
    assert_eq!(head, made.events, "every copied event is in the log");
    let status = consumer(&restored, "erp").await;
    assert_eq!(
        status.acked_through, 5,
        "the named consumer keeps its place"
    );
    // The log continues from its head, gap-free.
    receive(&restored, "after", 3).await;
    let later = restored.caught_up().await.head_position;
    assert_eq!(later, head + 3);
    let verified = verify_all(&restored).await;
    assert!(verified.intact, "{verified:?}");
    assert_eq!(verified.events_checked, later);
    // The read models equal a rebuild from the restored log.
    let served = restored.summary_rows().await;
    let db = restored.open_db().await;
    crate::runtime::rebuild(&db, None).await.expect("rebuilt");
    db.close().await;
    assert_eq!(restored.summary_rows().await, served);
    let mut stream = open(&restored, named("erp")).await;
    let e = next(&mut stream, Duration::from_secs(10))
        .await
        .expect("event");
    assert_eq!(
        e.position, 6,
        "the consumer resumes after what it acknowledged"
    );
    drop(stream);
    restored.stop().await;
}

#[tokio::test]
async fn a_postgres_store_is_sent_to_pg_basebackup_and_nothing_is_written() {
    let server = TestServer::without_server(Backend::Postgres).await;
    let elsewhere = tempfile::tempdir().expect("dir");
    let target = elsewhere.path().join("pg.db");
    let refused = backup(&server.config, &target).await;
    match refused {
        Err(e @ BackupError::Postgres) => assert!(e.to_string().contains("pg_basebackup")),
        other => panic!("{other:?}"),
    }
    assert!(!target.exists(), "no file is left behind");
    server.stop().await;
}
