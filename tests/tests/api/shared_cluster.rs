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
