//! Audit through gRPC: replaying a ticket, tamper evidence checked against
//! raw SQL edits of the store, and exports verified offline.

use ticketd::rpc::pb;
use tonic::Code;

use crate::flow::{in_warranty_lifecycle, IN_WARRANTY_LIFECYCLE};
use crate::helpers::{as_role, expect_code, Backend, TestServer};
use crate::on_both_stores;

/// Ways a stored event can be altered behind ticketd's back.
#[derive(Debug, Clone, Copy)]
enum Tamper {
    /// Rewrite who diagnosed the fault (version 3).
    Change,
    /// Remove the repair (version 5) and its log entry.
    Delete,
    /// Swap versions 3 and 4.
    Reorder,
    /// Append a forged copy of the last event as version 11.
    Insert,
}

fn tamper_sql(backend: Backend, how: Tamper, id: &str) -> Vec<String> {
    let at =
        |v: i64| format!("aggregate_type = 'Ticket' AND aggregate_id = '{id}' AND sequence = {v}");
    match (how, backend) {
        (Tamper::Change, Backend::Postgres) => vec![format!(
            "UPDATE events SET metadata = replace(metadata::text, 'technician-1', 'technician-9')::json WHERE {}",
            at(3)
        )],
        (Tamper::Change, Backend::Sqlite) => vec![format!(
            "UPDATE events SET metadata = replace(metadata, 'technician-1', 'technician-9') WHERE {}",
            at(3)
        )],
        (Tamper::Delete, _) => vec![
            format!("DELETE FROM event_log WHERE event_position = (SELECT position FROM events WHERE {})", at(5)),
            format!("DELETE FROM events WHERE {}", at(5)),
        ],
        (Tamper::Reorder, _) => vec![
            format!("UPDATE events SET sequence = 1000 WHERE {}", at(3)),
            format!("UPDATE events SET sequence = 3 WHERE {}", at(4)),
            format!("UPDATE events SET sequence = 4 WHERE {}", at(1000)),
        ],
        (Tamper::Insert, backend) => {
            let (metadata, event_id) = match backend {
                Backend::Postgres => (
                    "jsonb_set(metadata::jsonb, '{request_id}', '\"forged\"')::json",
                    "gen_random_uuid()",
                ),
                Backend::Sqlite => (
                    "json_set(metadata, '$.request_id', 'forged')",
                    "lower(hex(randomblob(16)))",
                ),
            };
            vec![format!(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata,
                                     event_id, recorded_at, occurred_at, seal, hash)
                 SELECT aggregate_type, aggregate_id, 11, event_type, event_version, payload, {metadata},
                        {event_id}, recorded_at, occurred_at, seal, hash
                   FROM events WHERE {}",
                at(10)
            )]
        }
    }
}

async fn verify(server: &TestServer, ticket_id: &str) -> pb::VerifyResponse {
    server
        .audit()
        .await
        .verify(pb::VerifyRequest {
            ticket_id: ticket_id.to_owned(),
        })
        .await
        .expect("verify")
        .into_inner()
}

async fn history_shows_every_event_with_who_when_and_the_state_after(backend: Backend) {
    let server = TestServer::start(backend).await;
    let id = in_warranty_lifecycle(server.commands().await, "T-AUD-1")
        .await
        .id;
    let mut audit = server.audit().await;

    let history = audit
        .get_history(pb::GetHistoryRequest {
            ticket_id: id.clone(),
        })
        .await
        .expect("history")
        .into_inner();
    let types: Vec<&str> = history
        .entries
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(types, IN_WARRANTY_LIFECYCLE);
    for (i, entry) in history.entries.iter().enumerate() {
        assert_eq!(entry.version, i as u64 + 1);
        assert!(!entry.request_id.is_empty() && !entry.hash.is_empty());
        assert_eq!(
            entry.state_after.as_ref().map(|s| s.version),
            Some(entry.version)
        );
    }
    let diagnosis = &history.entries[2];
    assert_eq!(
        (diagnosis.actor_id.as_str(), diagnosis.actor_role.as_str()),
        ("technician-1", "technician")
    );
    let last = history
        .entries
        .last()
        .and_then(|e| e.state_after.clone())
        .expect("state");
    assert_eq!(last.status, pb::TicketStatus::Closed as i32);

    let at_five = audit
        .get_state_at(pb::GetStateAtRequest {
            ticket_id: id.clone(),
            at: Some(pb::get_state_at_request::At::Version(5)),
        })
        .await
        .expect("state at 5")
        .into_inner();
    assert_eq!(
        at_five,
        history.entries[4].state_after.clone().expect("state")
    );

    let diff = audit
        .diff(pb::DiffRequest {
            ticket_id: id.clone(),
            from_version: 5,
            to_version: 6,
        })
        .await
        .expect("diff")
        .into_inner();
    assert!(diff.changes.iter().any(|c| c.path == "status"), "{diff:?}");

    // Only roles that may audit read the trail; an unknown ticket is NOT_FOUND.
    expect_code(
        pb::audit_client::AuditClient::new(server.channel().await)
            .get_history(as_role(
                "technician",
                pb::GetHistoryRequest {
                    ticket_id: id.clone(),
                },
            ))
            .await,
        Code::PermissionDenied,
    );
    expect_code(
        audit
            .get_history(pb::GetHistoryRequest {
                ticket_id: "T-NOPE".into(),
            })
            .await,
        Code::NotFound,
    );
    server.stop().await;
}

async fn verify_names_the_first_altered_event_for_each_kind_of_tampering(backend: Backend) {
    let server = TestServer::start(backend).await;
    let cases = [
        (Tamper::Change, 3, "hash does not match"),
        (Tamper::Delete, 6, "expected version 5"),
        (Tamper::Reorder, 3, "hash does not match"),
        (Tamper::Insert, 11, "hash does not match"),
    ];
    let mut ids = Vec::new();
    for (i, _) in cases.iter().enumerate() {
        let t = in_warranty_lifecycle(server.commands().await, &format!("T-TMP-{i}")).await;
        ids.push(t.id);
    }
    server.caught_up().await;
    let whole = verify(&server, "").await;
    assert!(whole.intact, "{whole:?}");
    assert_eq!(whole.events_checked, 40);
    assert!(whole.first_problem.is_none());

    for ((how, version, reason), id) in cases.iter().zip(&ids) {
        assert!(verify(&server, id).await.intact, "{id} intact before");
        for sql in tamper_sql(backend, *how, id) {
            server.exec(&sql).await;
        }
        let report = verify(&server, id).await;
        assert!(!report.intact, "{how:?} not detected: {report:?}");
        let problem = report.first_problem.expect("a named problem");
        assert_eq!(
            (problem.ticket_id.as_str(), problem.version),
            (id.as_str(), *version),
            "{how:?}: {problem:?}"
        );
        assert!(problem.reason.contains(reason), "{how:?}: {problem:?}");
    }
    let whole = verify(&server, "").await;
    assert!(!whole.intact);
    let first = whole.first_problem.expect("problem");
    assert_eq!(
        (first.ticket_id.as_str(), first.version),
        (ids[0].as_str(), 3),
        "{first:?}"
    );
    server.stop().await;
}

async fn an_export_verifies_offline_and_an_edited_one_does_not(backend: Backend) {
    let server = TestServer::start(backend).await;
    let id = in_warranty_lifecycle(server.commands().await, "T-EXP-1")
        .await
        .id;
    let export = server
        .audit()
        .await
        .export(pb::ExportRequest {
            ticket_id: id.clone(),
        })
        .await
        .expect("export")
        .into_inner();
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join(&export.file_name);
    std::fs::write(&file, &export.content).expect("write export");
    let head = verify(&server, &id).await.digest;
    server.stop().await;

    // Offline: the server and its store are gone.
    let text = std::fs::read_to_string(&file).expect("read export");
    assert_eq!(ticketd::audit::verify_export(&text), Ok((10, head)));

    let edited = text.replacen("technician-1", "technician-9", 1);
    assert_ne!(edited, text);
    let problem = ticketd::audit::verify_export(&edited).expect_err("edited export must fail");
    assert_eq!(problem.version, 3, "{problem:?}");

    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    doc["events"].as_array_mut().expect("events").pop();
    let truncated =
        ticketd::audit::verify_export(&doc.to_string()).expect_err("truncated export must fail");
    assert!(truncated.reason.contains("head hash"), "{truncated:?}");
}

/// Every stored column a reader uses, and how to change it in place.
const COLUMNS: [&str; 12] = [
    "event_id",
    "recorded_at",
    "occurred_at",
    "actor_id",
    "actor_role",
    "request_id",
    "channel",
    "event_type",
    "event_version",
    "payload",
    "seal",
    "hash",
];

fn column_edit(backend: Backend, column: &str) -> String {
    let meta = |key: &str| match backend {
        Backend::Postgres => {
            format!("metadata = jsonb_set(metadata::jsonb, '{{{key}}}', '\"forged\"')::json")
        }
        Backend::Sqlite => format!("metadata = json_set(metadata, '$.{key}', 'forged')"),
    };
    match (column, backend) {
        ("event_id", Backend::Postgres) => "event_id = gen_random_uuid()".into(),
        ("event_id", Backend::Sqlite) => "event_id = lower(hex(randomblob(16)))".into(),
        ("recorded_at" | "occurred_at", Backend::Postgres) => {
            format!("{column} = {column} - interval '2 days'")
        }
        ("recorded_at" | "occurred_at", Backend::Sqlite) => {
            format!("{column} = strftime('%Y-%m-%dT%H:%M:%f', {column}, '-2 days') || '000Z'")
        }
        ("actor_id" | "actor_role" | "request_id" | "channel", _) => meta(column),
        ("event_type", _) => "event_type = 'QcFailed'".into(),
        ("event_version", _) => "event_version = '9.9'".into(),
        ("payload", Backend::Postgres) => {
            "payload = (payload::jsonb || '{\"note\": 1}')::json".into()
        }
        ("payload", Backend::Sqlite) => "payload = json_set(payload, '$.note', 1)".into(),
        ("seal", _) => "seal = 1".into(),
        ("hash", _) => "hash = md5(hash) || md5(hash)".into(),
        (other, _) => panic!("no edit for {other}"),
    }
}

/// Each column of version 4 of its own ticket is edited in turn; both the
/// ticket's and the whole log's verification name that event.
async fn changing_any_sealed_column_of_an_event_is_detected_and_named(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut ids = Vec::new();
    for column in COLUMNS {
        let id = format!("T-COL-{column}");
        in_warranty_lifecycle(server.commands().await, &id).await;
        ids.push(id);
    }
    server.caught_up().await;
    for (column, id) in COLUMNS.iter().zip(&ids) {
        let hash = match (backend, *column) {
            (Backend::Sqlite, "hash") => "hash = hex(randomblob(32))".to_owned(),
            _ => column_edit(backend, column),
        };
        server
            .exec(&format!(
                "UPDATE events SET {hash} WHERE aggregate_type = 'Ticket' AND aggregate_id = '{id}' AND sequence = 4"
            ))
            .await;
        let report = verify(&server, id).await;
        assert!(!report.intact, "{column}: {report:?}");
        let problem = report.first_problem.expect("a problem");
        assert_eq!(
            (problem.ticket_id.as_str(), problem.version),
            (id.as_str(), 4),
            "{column}"
        );
    }
    // The whole log: the first edited event in log order is named.
    let whole = verify(&server, "").await;
    let problem = whole.first_problem.expect("the log is not intact");
    assert_eq!(problem.version, 4, "{problem:?}");
    assert!(ids.contains(&problem.ticket_id), "{problem:?}");
    server.stop().await;
}

/// The same edits made to an export: `verify-export` names the event.
async fn changing_any_sealed_field_of_an_export_is_detected_and_named(backend: Backend) {
    let server = TestServer::start(backend).await;
    let id = in_warranty_lifecycle(server.commands().await, "T-EXP-COL")
        .await
        .id;
    let export = server
        .audit()
        .await
        .export(pb::ExportRequest { ticket_id: id })
        .await
        .expect("export")
        .into_inner();
    server.stop().await;
    let text = String::from_utf8(export.content).expect("utf-8");
    assert!(ticketd::audit::verify_export(&text).is_ok());
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    let edits: [(&str, serde_json::Value); 12] = [
        ("/event_id", "0b6f0d1e-0000-4000-8000-000000000001".into()),
        ("/recorded_at", "2026-01-01T00:00:00Z".into()),
        ("/occurred_at", "2026-01-01T00:00:00Z".into()),
        ("/metadata/actor_id", "forged".into()),
        ("/metadata/actor_role", "forged".into()),
        ("/metadata/request_id", "forged".into()),
        ("/metadata/channel", "forged".into()),
        ("/event_type", "QcFailed".into()),
        ("/event_version", "9.9".into()),
        ("/payload", serde_json::json!({"RepairRecorded": {}})),
        ("/seal", 1.into()),
        ("/aggregate_type", "SlaClock".into()),
    ];
    for (path, value) in edits {
        let mut edited = doc.clone();
        *edited
            .pointer_mut(&format!("/events/3{path}"))
            .unwrap_or_else(|| panic!("export has {path}")) = value;
        let problem = ticketd::audit::verify_export(&edited.to_string())
            .expect_err("an edited export must fail");
        assert_eq!(problem.version, 4, "{path}: {problem:?}");
    }
}

on_both_stores!(
    history_shows_every_event_with_who_when_and_the_state_after,
    changing_any_sealed_column_of_an_event_is_detected_and_named,
    changing_any_sealed_field_of_an_export_is_detected_and_named,
    verify_names_the_first_altered_event_for_each_kind_of_tampering,
    an_export_verifies_offline_and_an_edited_one_does_not,
);
