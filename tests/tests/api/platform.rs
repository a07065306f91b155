//! What every gRPC client relies on: health and reflection.

use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

use crate::helpers::{Backend, TestServer};

/// Every API service ticketd serves.
const SERVICES: &[&str] = &[
    "repair.v1.TicketCommands",
    "repair.v1.TicketQueries",
    "repair.v1.EventLog",
    "repair.v1.Audit",
    "repair.v1.CostLedger",
    "repair.v1.Fracas",
    "repair.v1.SlaDashboard",
    "repair.v1.TicketImport",
];

async fn health_reports_serving(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut health = HealthClient::new(server.channel().await);
    for service in [""].iter().chain(SERVICES) {
        let reply = health
            .check(HealthCheckRequest {
                service: (*service).to_owned(),
            })
            .await
            .expect("health")
            .into_inner();
        assert_eq!(reply.status(), ServingStatus::Serving, "{service}");
    }
    server.stop().await;
}

async fn reflection_lists_the_services(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut client = ServerReflectionClient::new(server.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .expect("reflection")
        .into_inner();
    let reply = replies.message().await.expect("stream").expect("one reply");
    let names: Vec<String> = match reply.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("unexpected reflection reply {other:?}"),
    };
    for expected in SERVICES.iter().copied().chain(["grpc.health.v1.Health"]) {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    server.stop().await;
}

crate::on_both_stores!(
    health_reports_serving,
    reflection_lists_the_services,
    metrics_count_each_rpc_by_status_code,
);

/// `ticketd token --json` prints one JSON object a script can read: the
/// token, its SHA-256 (what the token file keeps) and the entry to add.
/// Output that is not a terminal carries no colour codes.
#[tokio::test]
async fn token_json_is_machine_readable_and_output_has_no_colour_when_piped() {
    let out = crate::crash::ticketd_child()
        .args([
            "token",
            "--actor",
            "crm-1",
            "--role",
            "integration",
            "--json",
        ])
        .env("RUST_LOG", "info")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run ticketd-child");
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let token = json["token"].as_str().expect("token");
    assert_eq!(json["actor"], "crm-1");
    assert_eq!(json["role"], "integration");
    assert_eq!(json["sha256"], projections::log::seal::sha256_hex(token));
    let entry = json["token_file_entry"].as_str().expect("entry");
    assert!(
        entry.contains(&projections::log::seal::sha256_hex(token)),
        "{entry}"
    );
    assert!(!entry.contains(token), "the file keeps only the hash");

    // Logs go to stderr, without ANSI escapes when it is a pipe; stdout
    // keeps only what the command reports.
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").expect("write");
    let import = crate::crash::ticketd_child()
        .arg("import")
        .arg(&empty)
        .args(["--importer", "ops-7"])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "debug")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run ticketd-child");
    assert!(import.status.success(), "{import:?}");
    assert!(!import.stderr.is_empty(), "debug logs were written");
    let report = String::from_utf8_lossy(&import.stdout);
    assert_eq!(
        report.lines().count(),
        1,
        "only the report on stdout: {report}"
    );
    for stream in [&import.stdout, &import.stderr, &out.stderr] {
        assert!(
            !stream.contains(&0x1b),
            "{}",
            String::from_utf8_lossy(stream)
        );
    }
}

/// `/metrics` counts every RPC by the code its caller got, with a latency
/// histogram: an accepted and a refused receipt, and a query.
async fn metrics_count_each_rpc_by_status_code(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut commands = server.commands().await;
    commands
        .receive_ticket(crate::helpers::as_role(
            "customer_service",
            crate::helpers::receive_request("metrics-1", Some(10)),
        ))
        .await
        .expect("received");
    let mut bad = crate::helpers::receive_request("metrics-2", Some(10));
    bad.description = String::new();
    commands
        .receive_ticket(crate::helpers::as_role("customer_service", bad))
        .await
        .expect_err("no serial number");
    server
        .queries()
        .await
        .get_ticket(ticketd::rpc::pb::GetTicketRequest {
            ticket_id: "metrics-1".into(),
        })
        .await
        .expect("read");

    let text = crate::projections::scrape(server.metrics_addr.expect("metrics on")).await;
    for line in [
        "ticketd_rpc_requests_total{method=\"repair.v1.TicketCommands/ReceiveTicket\",code=\"OK\"} 1",
        "ticketd_rpc_requests_total{method=\"repair.v1.TicketCommands/ReceiveTicket\",code=\"INVALID_ARGUMENT\"} 1",
        "ticketd_rpc_requests_total{method=\"repair.v1.TicketQueries/GetTicket\",code=\"OK\"} 1",
        "ticketd_rpc_duration_seconds_count{method=\"repair.v1.TicketCommands/ReceiveTicket\"} 2",
        "ticketd_rpc_duration_seconds_bucket{method=\"repair.v1.TicketCommands/ReceiveTicket\",le=\"+Inf\"} 2",
        "ticketd_db_connections{state=\"idle\"}",
        "ticketd_aggregate_cache_lookups_total{result=\"miss\"}",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    server.stop().await;
}

/// The SLA files are settings read by the CLI (`--sla-policy`,
/// `--calendars`), not by the library: a missing file named on the command
/// line stops the program before anything is opened, naming the file.
#[tokio::test]
async fn a_missing_sla_policy_file_on_the_command_line_stops_the_program_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-sla.toml");
    let out = crate::crash::ticketd_child()
        .arg("--sla-policy")
        .arg(&missing)
        .arg("migrate")
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("TICKETD_SLA_POLICY")
        .env_remove("TICKETD_CALENDARS")
        .output()
        .await
        .expect("run ticketd-child");
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no-such-sla.toml"), "{stderr}");
    assert!(
        !dir.path().join("ticketd.db").exists(),
        "nothing was opened before the settings were checked"
    );
}
