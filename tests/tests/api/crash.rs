//! Crash safety: ticketd runs as a child process under load and is killed
//! with SIGKILL at random points, then restarted. Every acknowledged
//! command must be in the log, the read models must equal a rebuild, and a
//! subscriber that resumes after each crash must see every event exactly
//! once, in order.
//!
//! CI runs `CRASH_KILLS` kills per store; the long form sets
//! `TICKETD_CRASH_KILLS=20` (see docs/RELIABILITY.md).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use ticketd::rpc::pb;
use ticketd::rpc::pb::event_log_client::EventLogClient;
use ticketd::rpc::pb::subscribe_response::Message;
use ticketd::rpc::pb::ticket_commands_client::TicketCommandsClient;
use ticketd::store::StoreConfig;
use tokio::sync::watch;
use tonic::transport::Channel;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::flow::{step, Flow, IN_WARRANTY_LIFECYCLE};
use crate::helpers::{
    as_role, domain_roles, random_below, receive_request, token, Backend, TestServer,
};
use crate::projections::{assert_rebuild_changes_nothing, assert_rows_at_stream_versions};

const CRASH_KILLS: usize = 5;
const WRITERS: usize = 4;

fn kills() -> usize {
    std::env::var("TICKETD_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CRASH_KILLS)
}

/// A token file with the test tokens of every role, hashed.
pub fn write_token_file(dir: &Path) -> PathBuf {
    let mut text = String::new();
    for role in domain_roles() {
        text.push_str(&format!(
            "[[token]]\nactor = \"{role}-1\"\nrole = \"{role}\"\nsha256 = \"{}\"\n\n",
            projections::log::seal::sha256_hex(&token(role))
        ));
    }
    let path = dir.join("tokens.toml");
    std::fs::write(&path, text).expect("write token file");
    path
}

/// A free port on loopback (bound, then released for the child to take).
pub fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

/// `ticketd serve` as a child process on `addr` over `server`'s store.
pub fn spawn_child(server: &TestServer, addr: SocketAddr, tokens: &Path) -> tokio::process::Child {
    child_command(server, addr, tokens)
        .spawn()
        .expect("start ticketd-child")
}

/// The `ticketd` program as a child process, with this test process's
/// master key (docs/PRIVACY.md): what it seals, the in-process servers and
/// keyrings of the tests open, and it never makes a key file of its own.
pub fn ticketd_child() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ticketd-child"));
    command.env("TICKETD_MASTER_KEY", crate::helpers::master_key().to_hex());
    command
}

/// The command line of [`spawn_child`], for a test to add to.
pub fn child_command(
    server: &TestServer,
    addr: SocketAddr,
    tokens: &Path,
) -> tokio::process::Command {
    let mut command = ticketd_child();
    command
        .args([
            "serve",
            "--no-metrics",
            "--no-console",
            "--listen",
            &addr.to_string(),
            "--auth-file",
        ])
        .arg(tokens)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    match &server.config {
        StoreConfig::Sqlite { path } => {
            let dir = path.parent().expect("the SQLite file has a directory");
            command
                .arg("--data-dir")
                .arg(dir)
                .env_remove("DATABASE_URL");
        }
        StoreConfig::Postgres { url } => {
            command.args(["--database-url", url]);
        }
    }
    command
}

/// Waits until the server at `addr` reports SERVING.
pub async fn wait_serving(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(channel) = Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect()
            .await
        {
            let reply = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await;
            if reply.is_ok_and(|r| r.into_inner().status() == ServingStatus::Serving) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "ticketd at {addr} did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A refusal while the server is being killed must be about the server
/// going away, never a domain or input error.
pub fn assert_outage(status: &tonic::Status) {
    assert!(
        !matches!(
            status.code(),
            Code::InvalidArgument
                | Code::FailedPrecondition
                | Code::PermissionDenied
                | Code::NotFound
                | Code::AlreadyExists
                | Code::Unauthenticated
        ),
        "refused for another reason than an outage: {status:?}"
    );
}

/// Runs lifecycles until `stop`; returns every (ticket, version) the server
/// acknowledged.
pub async fn write_acknowledged(
    channel: Channel,
    prefix: String,
    stop: watch::Receiver<bool>,
) -> Vec<(String, u64)> {
    let mut acked = Vec::new();
    let mut n = 0;
    while !*stop.borrow() {
        n += 1;
        let id = format!("{prefix}-{n}");
        let mut client = TicketCommandsClient::new(channel.clone());
        match client
            .receive_ticket(as_role("customer_service", receive_request(&id, Some(60))))
            .await
        {
            Ok(r) => acked.push((id.clone(), r.into_inner().version)),
            Err(status) => {
                assert_outage(&status);
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        }
        let mut t = Flow::at(client, &id, 1);
        for event_type in &IN_WARRANTY_LIFECYCLE[1..] {
            match step(&mut t, event_type).await {
                Ok(r) => {
                    assert_eq!(
                        (r.version, r.event_type.as_str()),
                        (t.version + 1, *event_type)
                    );
                    t.version = r.version;
                    acked.push((id.clone(), r.version));
                }
                Err(status) => {
                    assert_outage(&status);
                    break;
                }
            }
        }
    }
    acked
}

/// Follows the log from 0 through any number of crashes, resuming from the
/// last position seen (on the next of `channels` each time: another
/// replica), until `end` holds a position it has reached. Asserts on the
/// way that each event is the one right after the last.
pub async fn follow_across_crashes(
    channels: Vec<Channel>,
    end: watch::Receiver<Option<u64>>,
) -> (Vec<pb::LoggedEvent>, usize) {
    let mut attempts = 0_usize;
    let mut seen: Vec<pb::LoggedEvent> = Vec::new();
    let mut resumes = 0;
    loop {
        let last = seen.last().map_or(0, |e| e.position);
        if end.borrow().is_some_and(|end| last >= end) {
            return (seen, resumes);
        }
        let request = pb::SubscribeRequest {
            from_position: last,
            heartbeat_seconds: 1,
            ..Default::default()
        };
        attempts += 1;
        let channel = channels[attempts % channels.len()].clone();
        let mut stream = match EventLogClient::new(channel)
            .subscribe(as_role("integration", request))
            .await
        {
            Ok(stream) => stream.into_inner(),
            Err(status) => {
                assert_outage(&status);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        resumes += 1;
        loop {
            let last = seen.last().map_or(0, |e| e.position);
            if end.borrow().is_some_and(|end| last >= end) {
                break;
            }
            match stream.message().await {
                Ok(Some(pb::SubscribeResponse {
                    message: Some(Message::Event(event)),
                })) => {
                    assert_eq!(
                        event.position,
                        last + 1,
                        "gap or duplicate after {last}: {event:?}"
                    );
                    seen.push(event);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(status) => {
                    assert_outage(&status);
                    break;
                }
            }
        }
    }
}

type Writer = tokio::task::JoinHandle<Vec<(String, u64)>>;
type Subscriber = tokio::task::JoinHandle<(Vec<pb::LoggedEvent>, usize)>;

/// After the kills, with the writers told to stop: every acknowledged
/// command is in the store, the subscriber saw the whole log once and in
/// order, the read models equal a rebuild and every chain verifies.
/// Returns each ticket's highest acknowledged version, the head and how
/// often the subscriber resumed.
pub async fn assert_nothing_lost(
    server: &TestServer,
    writers: Vec<Writer>,
    subscriber: Subscriber,
    end_tx: watch::Sender<Option<u64>>,
) -> (HashMap<String, u64>, u64, usize) {
    let mut acked: HashMap<String, u64> = HashMap::new();
    for writer in writers {
        for (id, version) in writer.await.expect("writer") {
            let at = acked.entry(id).or_default();
            *at = (*at).max(version);
        }
    }
    assert!(
        acked.len() >= WRITERS,
        "too little was acknowledged: {acked:?}"
    );

    // Every acknowledged command is in the log.
    let stored: HashMap<String, i64> = server.stream_versions().await.into_iter().collect();
    for (id, version) in &acked {
        let in_store = stored.get(id).copied().unwrap_or(0);
        assert!(
            in_store >= i64::try_from(*version).expect("small"),
            "{id} v{version} was acknowledged, store has v{in_store}"
        );
    }

    // The subscriber saw the whole log once, in order, across the crashes.
    let head = server.caught_up().await.head_position;
    end_tx.send(Some(head)).expect("subscriber listens");
    let (seen, resumes) = subscriber.await.expect("subscriber");
    assert_eq!(seen.len() as u64, head);
    let mut seen_ids: Vec<String> = seen.into_iter().map(|e| e.event_id).collect();
    seen_ids.sort();
    assert_eq!(seen_ids, server.event_ids().await);
    assert!(resumes > 1, "the subscriber never had to resume");
    // Read models equal a rebuild; the hash chains survived every crash.
    assert_rows_at_stream_versions(server).await;
    assert_rebuild_changes_nothing(server).await;
    let verified = server
        .audit()
        .await
        .verify(pb::VerifyRequest::default())
        .await
        .expect("verify")
        .into_inner();
    assert!(verified.intact, "{verified:?}");
    assert_eq!(verified.events_checked, head);

    (acked, head, resumes)
}

async fn kill_9_under_load_loses_nothing_acknowledged_and_applies_nothing_twice(backend: Backend) {
    let mut server = TestServer::without_server(backend).await;
    let tokens = write_token_file(server.dir());
    let addr = free_addr();
    let mut child = spawn_child(&server, addr, &tokens);
    wait_serving(addr).await;
    server.served_at(addr);
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect_lazy();

    let (stop_tx, stop) = watch::channel(false);
    let (end_tx, end) = watch::channel(None);
    let subscriber = tokio::spawn(follow_across_crashes(vec![channel.clone()], end));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            tokio::spawn(write_acknowledged(
                channel.clone(),
                format!("crash-{w}"),
                stop.clone(),
            ))
        })
        .collect();

    for _ in 0..kills() {
        tokio::time::sleep(Duration::from_millis(200 + random_below(800))).await;
        child.kill().await.expect("SIGKILL ticketd");
        child = spawn_child(&server, addr, &tokens);
        wait_serving(addr).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_tx.send(true).expect("writers listen");
    let (acked, head, resumes) = assert_nothing_lost(&server, writers, subscriber, end_tx).await;
    eprintln!(
        "{backend:?}: {} kills, {} tickets, {} acknowledged commands, {head} events, subscriber resumed {resumes} times",
        kills(),
        acked.len(),
        acked.values().sum::<u64>()
    );
    child.kill().await.expect("stop ticketd");
    server.stop().await;
}

crate::on_both_stores!(kill_9_under_load_loses_nothing_acknowledged_and_applies_nothing_twice);
