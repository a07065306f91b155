//! Store outage: PostgreSQL stops in the middle of the load and starts
//! again. Meanwhile ticketd answers UNAVAILABLE and keeps running; then it
//! recovers by itself, with nothing acknowledged lost.
//!
//! The test runs its own PostgreSQL cluster (initdb into a temporary
//! directory, on a free port) so that stopping it disturbs no other test.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ticketd::rpc::pb;
use ticketd::store::StoreConfig;
use tokio::sync::watch;
use tonic::Code;

use crate::crash::{free_addr, write_acknowledged};
use crate::flow::Flow;
use crate::helpers::{as_role, receive_request, TestServer};
use crate::projections::{assert_rebuild_changes_nothing, assert_rows_at_stream_versions};

/// A throwaway PostgreSQL cluster, stopped when dropped.
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a PostgreSQL server program; as the `postgres` user when we are
/// root (PostgreSQL refuses to run as root).
fn pg(bin: &Path, program: &str, args: &[&str]) {
    let program = bin.join(program);
    let status = if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&program)
            .args(args)
            .status()
    } else {
        Command::new(&program).args(args).status()
    }
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        status.success(),
        "{} {args:?} failed: {status}",
        program.display()
    );
}

impl Cluster {
    fn create() -> Self {
        let output = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .expect("pg_config (PostgreSQL's server package) must be installed");
        let bin = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        let dir = tempfile::tempdir().expect("temp dir");
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success());
        }
        let data = dir.path().join("data");
        let data_arg = data.to_str().expect("utf-8 path");
        pg(
            &bin,
            "initdb",
            &[
                "-D",
                data_arg,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        let cluster = Self {
            bin,
            data,
            port: free_addr().port(),
            _dir: dir,
        };
        cluster.start();
        cluster
    }

    fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.data.display()
        );
        let log = self.data.join("server.log");
        pg(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().expect("path"),
                "-o",
                &options,
                "-l",
                log.to_str().expect("path"),
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self) {
        pg(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().expect("path"),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(data) = self.data.to_str() {
            let _ = Command::new(if is_root() { "runuser" } else { "true" })
                .args(if is_root() {
                    vec!["-u", "postgres", "--"]
                } else {
                    vec![]
                })
                .arg(self.bin.join("pg_ctl"))
                .args(["-D", data, "-m", "immediate", "stop"])
                .status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_is_unavailable_then_recovers_with_nothing_lost() {
    let cluster = Cluster::create();
    let server = TestServer::start_on(StoreConfig::Postgres { url: cluster.url() }).await;
    let channel = server.channel().await;

    let (stop_tx, stop) = watch::channel(false);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            tokio::spawn(write_acknowledged(
                channel.clone(),
                format!("outage-{w}"),
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;

    cluster.stop();
    // While the store is down: UNAVAILABLE, for commands and for queries.
    let mut commands = server.commands().await;
    let refused = commands
        .receive_ticket(as_role(
            "customer_service",
            receive_request("during-outage", Some(10)),
        ))
        .await
        .expect_err("no store, no command");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    let refused = server
        .queries()
        .await
        .get_ticket(pb::GetTicketRequest {
            ticket_id: "outage-0-1".into(),
        })
        .await
        .expect_err("no store, no query");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;

    cluster.start();
    // Recovery without a restart of ticketd.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let attempt = commands
            .receive_ticket(as_role(
                "customer_service",
                receive_request("after-outage", Some(10)),
            ))
            .await;
        match attempt {
            Ok(_) => break,
            Err(status) => {
                assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                assert!(
                    Instant::now() < deadline,
                    "ticketd did not recover: {status:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_tx.send(true).expect("writers listen");
    let mut acked: HashMap<String, u64> = HashMap::new();
    for writer in writers {
        for (id, version) in writer.await.expect("writer") {
            let at = acked.entry(id).or_default();
            *at = (*at).max(version);
        }
    }
    let stored: HashMap<String, i64> = server.stream_versions().await.into_iter().collect();
    for (id, version) in &acked {
        let in_store = stored.get(id).copied().unwrap_or(0);
        assert!(
            in_store >= i64::try_from(*version).expect("small"),
            "{id} v{version} acknowledged, store has v{in_store}"
        );
    }
    // The projections and the log carried on.
    server.caught_up().await;
    assert_rows_at_stream_versions(&server).await;
    assert_rebuild_changes_nothing(&server).await;
    Flow::receive(&server, "after-all", Some(10)).await;
    server.stop().await;
    drop(cluster);
}
