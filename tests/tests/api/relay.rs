//! `ticketd relay` against a real, private `nats-server -js`: the stream
//! mirrors the log exactly (sequence = position, one message per event)
//! through NATS restarts, relay crashes and a lost checkpoint.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use async_nats::jetstream;
use ticketd::relay::{RelayError, RelaySettings};
use ticketd::store::Pool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::crash::free_addr;
use crate::helpers::{as_role, receive_request, Backend, TestServer};

/// A `nats-server -js` of the test's own, on a free port, keeping its
/// stream files in the test's directory across restarts.
struct PrivateNats {
    addr: SocketAddr,
    dir: PathBuf,
    child: Option<tokio::process::Child>,
}

impl PrivateNats {
    async fn start(dir: PathBuf) -> Self {
        let mut nats = Self {
            addr: free_addr(),
            dir,
            child: None,
        };
        nats.restart().await;
        nats
    }

    fn url(&self) -> String {
        format!("nats://{}", self.addr)
    }

    async fn restart(&mut self) {
        let child = tokio::process::Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.addr.port().to_string())
            .arg("-sd")
            .arg(&self.dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server must be installed (.ci/run installs it)");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nats-server did not start on {}", self.addr);
    }

    /// SIGKILL: no goodbye to clients, nothing flushed on purpose.
    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill nats-server");
        }
    }
}

fn settings(nats: &PrivateNats) -> RelaySettings {
    RelaySettings {
        window: 16,
        ..RelaySettings::new(nats.url())
    }
}

/// A relay task and the sender that stops it.
fn start_relay(db: &Pool, settings: &RelaySettings) -> (watch::Sender<bool>, JoinHandle<()>) {
    let (stop, stopped) = watch::channel(false);
    // Nobody announces commits: the relay looks at the log every tick.
    let (_, head) = watch::channel(0);
    let run = ticketd::relay::run(db.clone(), settings.clone(), head, stopped);
    let task = tokio::spawn(async move {
        run.await.expect("the relay never diverges here");
    });
    (stop, task)
}

async fn receive(server: &TestServer, from: usize, count: usize) {
    let mut commands = server.commands().await;
    for n in from..from + count {
        commands
            .receive_ticket(as_role(
                "customer_service",
                receive_request(&format!("relay-{n}"), Some(30)),
            ))
            .await
            .expect("received");
    }
}

async fn stream(nats: &PrivateNats) -> jetstream::stream::Stream {
    let client = async_nats::connect(nats.url()).await.expect("connect");
    jetstream::new(client)
        .get_stream("REPAIR")
        .await
        .expect("the relay made the stream")
}

/// Waits until the stream holds as many messages as the log has events.
async fn mirrored(server: &TestServer, nats: &PrivateNats) -> u64 {
    let head = server.caught_up().await.head_position;
    for _ in 0..400 {
        if let Ok(client) = async_nats::connect(nats.url()).await {
            if let Ok(mut s) = jetstream::new(client).get_stream("REPAIR").await {
                if let Ok(info) = s.info().await {
                    if info.state.last_sequence >= head {
                        return head;
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the stream did not reach the log head {head}");
}

/// Message `n` of the stream is the log's event `n`, and there is nothing
/// else.
async fn assert_mirror(server: &TestServer, nats: &PrivateNats, head: u64) {
    let db = server.open_db().await;
    let events = db.read(0, 100_000).await.expect("read the log");
    assert_eq!(events.len() as u64, head, "every event is in the log");
    let mut s = stream(nats).await;
    let info = s.info().await.expect("stream info").clone();
    assert_eq!(
        (
            info.state.messages,
            info.state.first_sequence,
            info.state.last_sequence
        ),
        (head, 1, head),
        "one message per event, numbered as the log"
    );
    for e in &events {
        let m = s
            .get_raw_message(u64::try_from(e.log_position).expect("position"))
            .await
            .expect("message at the event's position");
        let id = m
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .map(|v| v.as_str().to_owned());
        assert_eq!(id.as_deref(), Some(e.event_id.as_str()));
        assert_eq!(
            m.subject.as_str(),
            format!("repair.{}.{}", e.aggregate_type, e.event_type)
        );
        let body: serde_json::Value = serde_json::from_slice(&m.payload).expect("JSON body");
        assert_eq!(body["position"], e.log_position);
        assert_eq!(body["ticket_id"], e.ticket_id.as_str());
        let payload: serde_json::Value = serde_json::from_str(&e.payload).expect("payload");
        assert_eq!(body["payload"], payload, "the event's data, unchanged");
    }
    let said = ticketd::relay::checkpoint(&db, "nats:REPAIR")
        .await
        .expect("checkpoint");
    assert_eq!(
        said,
        i64::try_from(head).expect("head"),
        "checkpoint at the head"
    );
    db.close().await;
}

async fn the_stream_mirrors_the_log_through_nats_restarts_and_relay_crashes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut nats = PrivateNats::start(server.dir().join("nats")).await;
    let db = server.open_db().await;
    let settings = settings(&nats);
    receive(&server, 0, 20).await;
    let (stop, relay) = start_relay(&db, &settings);
    let head = mirrored(&server, &nats).await;
    assert_eq!(head, 20);

    // NATS dies while commands go on; it comes back with its files.
    nats.kill().await;
    receive(&server, 20, 15).await;
    nats.restart().await;
    mirrored(&server, &nats).await;

    // The relay crashes mid-flight, and its checkpoint is lost as well:
    // it must resume from what the stream holds, not publish again.
    let writer = {
        let server_commands = server.commands().await;
        tokio::spawn(async move {
            let mut commands = server_commands;
            for n in 35..60 {
                commands
                    .receive_ticket(as_role(
                        "customer_service",
                        receive_request(&format!("relay-{n}"), Some(30)),
                    ))
                    .await
                    .expect("received");
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    relay.abort();
    let _ = relay.await;
    drop(stop);
    writer.await.expect("writer");
    server
        .exec("UPDATE relay_checkpoints SET position = 0")
        .await;
    let (stop, relay) = start_relay(&db, &settings);
    let head = mirrored(&server, &nats).await;
    assert_eq!(head, 60);
    assert_mirror(&server, &nats, head).await;

    stop.send(true).expect("stop");
    relay.await.expect("relay stops");
    nats.kill().await;
    db.close().await;
    server.stop().await;
}

/// Someone else published on the relay's subjects: resuming after their
/// message would break the mirror, so the relay stops and says why.
async fn a_foreign_message_in_the_stream_stops_the_relay(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut nats = PrivateNats::start(server.dir().join("nats")).await;
    let db = server.open_db().await;
    receive(&server, 0, 3).await;
    server.caught_up().await;
    let settings = settings(&nats);
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let js = jetstream::new(client);
    js.get_or_create_stream(jetstream::stream::Config {
        name: "REPAIR".to_owned(),
        subjects: vec!["repair.>".to_owned()],
        ..Default::default()
    })
    .await
    .expect("stream");
    js.publish("repair.ticket.Forged", "{}".into())
        .await
        .expect("sent")
        .await
        .expect("stored");

    let (_, head) = watch::channel(0);
    let (_stop, stopped) = watch::channel(false);
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        ticketd::relay::run(db.clone(), settings, head, stopped),
    )
    .await
    .expect("the relay gives up instead of retrying forever");
    match outcome {
        Err(RelayError::Diverged { stream, message }) => {
            assert_eq!(stream, "REPAIR");
            assert!(message.contains("not ours"), "{message}");
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
    let mut s = stream(&nats).await;
    assert_eq!(
        s.info().await.expect("info").state.messages,
        1,
        "nothing published after the foreign message"
    );
    nats.kill().await;
    db.close().await;
    server.stop().await;
}

crate::on_both_stores!(
    the_stream_mirrors_the_log_through_nats_restarts_and_relay_crashes,
    a_foreign_message_in_the_stream_stops_the_relay,
);
