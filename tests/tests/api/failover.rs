//! Three `ticketd serve` processes on one PostgreSQL, under load from
//! clients spread across them; one is killed (SIGKILL) several times,
//! the projections' leader first, and restarted. Nothing acknowledged is
//! lost or applied twice, every projection's leadership moves to a live
//! process (the time is measured and printed), and a subscriber that loses
//! its replica resumes on another with no gap and no duplicate.

use std::time::{Duration, Instant};

use ticketd::rpc::pb;
use ticketd::rpc::pb::event_log_client::EventLogClient;
use tokio::sync::watch;
use tonic::transport::Channel;

use crate::crash::{
    assert_nothing_lost, follow_across_crashes, free_addr, spawn_child, wait_serving,
    write_acknowledged, write_token_file,
};
use crate::helpers::{as_role, random_below, Backend, TestServer};

const REPLICAS: usize = 3;
const KILLS: usize = 3;
/// Beyond this, leadership did not move at all (a liveness bound, not a
/// speed target: the measured times are printed, and the speed is
/// discussed in docs/DEPLOYMENT.md).
const GIVE_UP: Duration = Duration::from_secs(60);

async fn log_status(channel: &Channel) -> Option<pb::LogStatus> {
    EventLogClient::new(channel.clone())
        .get_log_status(as_role("integration", pb::GetLogStatusRequest {}))
        .await
        .ok()
        .map(tonic::Response::into_inner)
}

/// How long after a kill every projection passed `head`, asking a live
/// replica.
async fn until_projections_pass(channel: &Channel, head: u64, killed_at: Instant) -> Duration {
    loop {
        if let Some(status) = log_status(channel).await {
            if status.projections.iter().all(|p| p.position >= head) {
                return killed_at.elapsed();
            }
        }
        assert!(
            killed_at.elapsed() < GIVE_UP,
            "the projections did not pass {head} within {GIVE_UP:?} of the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn three_replicas_survive_sigkills_with_leadership_moving(backend: Backend) {
    let mut server = TestServer::without_server(backend).await;
    let tokens = write_token_file(server.dir());
    let addrs: Vec<_> = (0..REPLICAS).map(|_| free_addr()).collect();
    let mut children = Vec::new();
    // The first one up takes every projection's lead.
    for addr in &addrs {
        children.push(spawn_child(&server, *addr, &tokens));
        wait_serving(*addr).await;
    }
    server.served_at(addrs[0]);
    let channels: Vec<Channel> = addrs
        .iter()
        .map(|addr| {
            Channel::from_shared(format!("http://{addr}"))
                .expect("uri")
                .connect_lazy()
        })
        .collect();

    let (stop_tx, stop) = watch::channel(false);
    let (end_tx, end) = watch::channel(None);
    let subscriber = tokio::spawn(follow_across_crashes(channels.clone(), end));
    let writers: Vec<_> = (0..2 * REPLICAS)
        .map(|w| {
            tokio::spawn(write_acknowledged(
                channels[w % REPLICAS].clone(),
                format!("replica-{w}"),
                stop.clone(),
            ))
        })
        .collect();

    let mut takeovers = Vec::new();
    for kill in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(300 + random_below(700))).await;
        // First the projections' leader, then the subscriber's replica
        // (its first stream goes to the second), then any.
        let victim = match kill {
            0 | 1 => kill,
            _ => usize::try_from(random_below(REPLICAS as u64)).expect("small"),
        };
        let witness = &channels[(victim + 1) % REPLICAS];
        let head = log_status(witness)
            .await
            .expect("a live replica")
            .head_position;
        children[victim].kill().await.expect("SIGKILL a replica");
        let killed_at = Instant::now();
        takeovers.push((
            victim,
            until_projections_pass(witness, head, killed_at).await,
        ));
        children[victim] = spawn_child(&server, addrs[victim], &tokens);
        wait_serving(addrs[victim]).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_tx.send(true).expect("writers listen");
    let (acked, head, resumes) = assert_nothing_lost(&server, writers, subscriber, end_tx).await;
    eprintln!(
        "{backend:?}: {REPLICAS} replicas, {KILLS} kills (replica, time until every projection passed the head at the kill): {takeovers:?}; {} tickets, {head} events, subscriber resumed {resumes} times",
        acked.len()
    );
    for mut child in children {
        child.kill().await.expect("stop a replica");
    }
    server.stop().await;
}

crate::on_postgres!(three_replicas_survive_sigkills_with_leadership_moving);
