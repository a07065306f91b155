//! ticketd on a PostgreSQL cluster it shares with other applications
//! (managed PostgreSQL usually is): what they do in their own databases
//! must not stop ticketd's log.

use std::time::Duration;

use sqlx::Connection;

use crate::flow::Flow;
use crate::helpers::{admin_url, Backend, TestServer};

/// Another application's transaction, holding a transaction id in another
/// database of the cluster: a command is acknowledged and reaches the log,
/// the read models and the subscribers within seconds, not when the
/// stranger commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_held_open_in_another_database_does_not_stop_the_log() {
    let server = TestServer::start(Backend::Postgres).await;
    let mut stranger = sqlx::PgConnection::connect(&admin_url())
        .await
        .expect("connect to another database of the cluster");
    sqlx::query("BEGIN")
        .execute(&mut stranger)
        .await
        .expect("begin");
    sqlx::query("SELECT txid_current()")
        .execute(&mut stranger)
        .await
        .expect("take a transaction id");
    Flow::receive(&server, "STRANGER-1", Some(30)).await;
    let status = server.caught_up_within(Duration::from_secs(5)).await;
    assert_eq!(status.head_position, 1);
    sqlx::query("ROLLBACK")
        .execute(&mut stranger)
        .await
        .expect("rollback");
    server.stop().await;
}

/// A transaction held open in ticketd's own database does hold the log
/// back (it could still write an event in front): `GetLogStatus` shows the
/// events waiting and the transaction, and the log moves on once it ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_holds_the_log_back_is_shown_with_the_events_it_holds() {
    let server = TestServer::start(Backend::Postgres).await;
    let mut holder = server.postgres().await;
    sqlx::query("BEGIN")
        .execute(&mut holder)
        .await
        .expect("begin");
    let pid: (i32,) = sqlx::query_as("SELECT pg_backend_pid()")
        .fetch_one(&mut holder)
        .await
        .expect("pid");
    sqlx::query("SELECT txid_current()")
        .execute(&mut holder)
        .await
        .expect("take a transaction id");
    Flow::receive(&server, "HELD-1", Some(30)).await;
    let mut log = server.events().await;
    let status = log
        .get_log_status(ticketd::rpc::pb::GetLogStatusRequest {})
        .await
        .expect("status")
        .into_inner();
    assert_eq!(
        (status.head_position, status.unsequenced),
        (0, 1),
        "{status:?}"
    );
    let blocking = status.oldest_blocking.expect("the holder is named");
    assert_eq!(blocking.pid, pid.0);
    assert_eq!(blocking.state, "idle in transaction");
    sqlx::query("ROLLBACK")
        .execute(&mut holder)
        .await
        .expect("rollback");
    let status = server.caught_up_within(Duration::from_secs(5)).await;
    assert_eq!((status.head_position, status.unsequenced), (1, 0));
    assert!(status.oldest_blocking.is_none(), "{status:?}");
    server.stop().await;
}

/// `Audit.Verify` of the whole log checks the events the log has not
/// reached yet too: before, an edited event among them was reported
/// intact while a transaction held the log back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_event_the_log_has_not_reached_is_found_by_verify() {
    let server = TestServer::start(Backend::Postgres).await;
    Flow::receive(&server, "LOGGED-1", Some(30)).await;
    server.caught_up_within(Duration::from_secs(5)).await;
    let mut holder = server.postgres().await;
    for sql in ["BEGIN", "SELECT txid_current()"] {
        sqlx::query(sql).execute(&mut holder).await.expect(sql);
    }
    Flow::receive(&server, "HELD-2", Some(30)).await;
    let verify = || async {
        server
            .audit()
            .await
            .verify(ticketd::rpc::pb::VerifyRequest::default())
            .await
            .expect("verify")
            .into_inner()
    };
    let intact = verify().await;
    assert!(intact.intact, "{intact:?}");
    assert_eq!(intact.events_checked, 2, "the unsequenced event is checked");
    server
        .exec(
            "UPDATE events SET metadata = replace(metadata::text, 'customer_service', 'finance')::json
              WHERE aggregate_id = 'HELD-2'",
        )
        .await;
    let found = verify().await;
    assert!(!found.intact, "{found:?}");
    let problem = found.first_problem.expect("the edit is named");
    assert_eq!((problem.ticket_id.as_str(), problem.version), ("HELD-2", 1));
    sqlx::query("ROLLBACK")
        .execute(&mut holder)
        .await
        .expect("rollback");
    server.stop().await;
}
