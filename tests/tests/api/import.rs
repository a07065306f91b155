//! History import through gRPC (`TicketImport.ImportTickets`) and through
//! the real `ticketd import` program, on both stores, with the example file
//! of docs/IMPORT.md.

use ticketd::rpc::pb;
use ticketd::rpc::pb::ticket_import_client::TicketImportClient;
use ticketd::store::StoreConfig;
use tonic::transport::Channel;
use tonic::Code;

use crate::helpers::{as_role, expect_code, Backend, TestServer};
use crate::on_both_stores;
use crate::times::history;

const EXAMPLE: &str = include_str!("../../../examples/import/history.jsonl");

async fn client(server: &TestServer) -> TicketImportClient<Channel> {
    TicketImportClient::new(server.channel().await)
}

fn lines(text: &str) -> Vec<pb::ImportLine> {
    ticketd::rpc::import::decode_json_lines(text)
        .expect("descriptors")
        .into_iter()
        .map(|(number, line)| {
            let mut line = line.unwrap_or_else(|e| panic!("line {number}: {e}"));
            line.line = number;
            line
        })
        .collect()
}

async fn import(server: &TestServer, text: &str) -> pb::ImportReport {
    client(server)
        .await
        .import_tickets(as_role("importer", tokio_stream::iter(lines(text))))
        .await
        .expect("import")
        .into_inner()
}

async fn the_example_imports_once_and_a_second_run_writes_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let first = import(&server, EXAMPLE).await;
    assert_eq!(
        (first.lines, first.events_written, first.duplicates),
        (14, 14, 0)
    );
    assert_eq!((first.tickets_imported, first.tickets_rejected), (3, 0));
    assert!(first.rejections.is_empty(), "{:?}", first.rejections);
    let events = server.event_count().await;

    let second = import(&server, EXAMPLE).await;
    assert_eq!(
        (
            second.events_written,
            second.duplicates,
            second.tickets_rejected
        ),
        (0, 14, 0)
    );
    assert_eq!(server.event_count().await, events);

    // Imported events are marked, keep their original times, and are
    // sealed and sequenced like any other.
    server.caught_up().await;
    let h = history(&server, "H-1001").await;
    assert_eq!(h.len(), 9);
    assert!(h
        .iter()
        .all(|e| e.channel == "import" && e.seal == 2 && e.log_position > 0));
    assert_eq!(
        h[0].occurred_at.as_ref().map(|t| t.seconds),
        Some(1_790_647_200)
    );
    assert_eq!(h[0].actor_id, "cs-01");
    // Who imported it is sealed beside the actor the line states.
    assert!(h
        .iter()
        .all(|e| e.imported_by == "importer-1" && e.imported_by_role == "importer"));
    let verified = server
        .audit()
        .await
        .verify(pb::VerifyRequest::default())
        .await
        .expect("verify")
        .into_inner();
    assert!(verified.intact, "{verified:?}");
    assert_eq!(verified.events_checked, 14);
    server.stop().await;
}

/// H-1003's diagnosis (line 14) is made by customer service, who may not
/// diagnose: nothing of H-1003 is written, the other tickets are.
async fn a_bad_ticket_is_reported_by_line_and_the_others_are_imported(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut text: Vec<String> = EXAMPLE.lines().map(str::to_owned).collect();
    text[13] = text[13].replace(
        r#""actor_id": "tech-09", "role": "technician""#,
        r#""actor_id": "cs-02", "role": "customer_service""#,
    );
    let report = import(&server, &text.join("\n")).await;
    assert_eq!((report.tickets_imported, report.tickets_rejected), (2, 1));
    assert_eq!(report.events_written, 11);
    let rejection = &report.rejections[..];
    assert_eq!(rejection.len(), 1, "{rejection:?}");
    assert_eq!(
        (rejection[0].line, rejection[0].ticket_id.as_str()),
        (14, "H-1003")
    );
    assert!(
        rejection[0].reason.contains("customer_service"),
        "{rejection:?}"
    );
    assert_eq!(server.event_count().await, 11);
    let nothing = server
        .audit()
        .await
        .get_history(pb::GetHistoryRequest {
            ticket_id: "H-1003".into(),
        })
        .await;
    expect_code(nothing, Code::NotFound);
    assert_eq!(history(&server, "H-1002").await.len(), 2);
    server.stop().await;
}

/// Two new tickets in one file with a request id in common: they are
/// written in the same transaction, the second collides on the unique
/// request id, is rolled back alone and then refused, naming the ticket
/// that holds the id.
async fn a_request_id_reused_by_another_ticket_rejects_only_that_ticket(backend: Backend) {
    let server = TestServer::start(backend).await;
    let text = EXAMPLE.replace("legacy-H-1003-1", "legacy-H-1002-1");
    let report = import(&server, &text).await;
    assert_eq!((report.tickets_imported, report.tickets_rejected), (2, 1));
    let rejection = &report.rejections[0];
    assert_eq!(
        (rejection.line, rejection.ticket_id.as_str()),
        (12, "H-1003")
    );
    assert!(
        rejection.reason.contains("already used for ticket H-1002"),
        "{rejection:?}"
    );
    assert_eq!(server.event_count().await, 11);
    server.stop().await;
}

async fn only_the_importer_role_imports_and_bad_lines_name_their_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    for role in ["technician", "integration", "general_manager"] {
        let status = expect_code(
            client(&server)
                .await
                .import_tickets(as_role(role, tokio_stream::iter(lines(EXAMPLE))))
                .await,
            Code::PermissionDenied,
        );
        assert!(status.message().contains(role), "{status:?}");
    }
    assert_eq!(server.event_count().await, 0);
    // A line without its original time is refused, naming the field.
    let mut line = lines(EXAMPLE).remove(9);
    if let Some(pb::import_line::Command::ReceiveTicket(m)) = line.command.as_mut() {
        if let Some(c) = m.context.as_mut() {
            c.occurred_at = None;
        }
    }
    let report = client(&server)
        .await
        .import_tickets(as_role("importer", tokio_stream::iter(vec![line])))
        .await
        .expect("import")
        .into_inner();
    assert_eq!(report.tickets_rejected, 1);
    assert!(
        report.rejections[0].reason.contains("context.occurred_at"),
        "{report:?}"
    );
    assert_eq!(server.event_count().await, 0);
    server.stop().await;
}

/// The real program: exit status 0 for the example, then 1 for a file with
/// a bad ticket, whose good tickets are still imported.
async fn ticketd_import_reports_by_line_and_exits_with_the_outcome(backend: Backend) {
    let server = TestServer::without_server(backend).await;
    let store = match &server.config {
        StoreConfig::Postgres { url } => vec!["--database-url".to_owned(), url.clone()],
        StoreConfig::Sqlite { path } => vec![
            "--data-dir".to_owned(),
            path.parent().expect("dir").display().to_string(),
        ],
    };
    let run = |file: std::path::PathBuf| {
        let store = store.clone();
        async move {
            crate::crash::ticketd_child()
                .arg("import")
                .arg(file)
                .args(["--importer", "ops-7"])
                .args(store)
                .env_remove("DATABASE_URL")
                .output()
                .await
                .expect("run ticketd import")
        }
    };
    let dir = tempfile::tempdir().expect("dir");
    let good = dir.path().join("history.jsonl");
    std::fs::write(&good, EXAMPLE).expect("write");
    let out = run(good.clone()).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("14 events written"), "{stdout}");
    let again = run(good).await;
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 events written, 14 already imported")
    );

    let bad = dir.path().join("bad.jsonl");
    let text = EXAMPLE
        .replace("H-1002", "H-2002")
        .replace(r#""reason": "customer withdrew""#, r#""reason": """#);
    std::fs::write(&bad, text).expect("write");
    let out = run(bad).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("line 11: ticket \"H-2002\""), "{stdout}");
    assert!(
        stdout.contains("2 tickets imported, 1 rejected"),
        "{stdout}"
    );
    assert!(stdout.contains("reason"), "{stdout}");
    server.stop().await;
}

/// A general manager's fee waiver written into a live ticket through the
/// import: refused to the integration role at the door, and refused to
/// the importer too, since the ticket has live events; nothing written.
async fn a_forged_waiver_on_a_live_ticket_through_the_import_is_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    crate::flow::Flow::receive(&server, "T-LIVE", Some(400)).await;
    let before = server.event_count().await;
    let waiver = r#"{"actor_id": "gm-01", "role": "general_manager", "approve_fee_waiver": {"context": {"request_id": "forged-1", "ticket_id": "T-LIVE", "occurred_at": "2026-09-29T02:00:00Z"}, "amount": {"currency": "CNY", "minor_units": 600000}, "reason": "goodwill"}}"#;
    let status = expect_code(
        client(&server)
            .await
            .import_tickets(as_role("integration", tokio_stream::iter(lines(waiver))))
            .await,
        Code::PermissionDenied,
    );
    assert!(status.message().contains("integration"), "{status:?}");
    let report = import(&server, waiver).await;
    assert_eq!((report.tickets_imported, report.tickets_rejected), (0, 1));
    assert!(
        report.rejections[0].reason.contains("recorded live"),
        "{report:?}"
    );
    // History for a ticket of its own still comes in beside it.
    let report = import(&server, EXAMPLE).await;
    assert_eq!((report.tickets_imported, report.tickets_rejected), (3, 0));
    assert_eq!(server.event_count().await, before + 14);
    assert_eq!(history(&server, "T-LIVE").await.len(), 1);
    server.stop().await;
}

on_both_stores!(
    the_example_imports_once_and_a_second_run_writes_nothing,
    a_bad_ticket_is_reported_by_line_and_the_others_are_imported,
    only_the_importer_role_imports_and_bad_lines_name_their_field,
    a_forged_waiver_on_a_live_ticket_through_the_import_is_refused,
    a_request_id_reused_by_another_ticket_rejects_only_that_ticket,
    ticketd_import_reports_by_line_and_exits_with_the_outcome,
);
