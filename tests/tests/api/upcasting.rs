//! Events stored in an older shape (tests/fixtures/older-shapes.json, as
//! ticketd wrote them before `domain::schema::CHANGES`) are read in the
//! current shape by every reader, on both stores: the aggregate (a command
//! after them), the projections, the custody list, subscribers, the audit
//! history and export; and they still verify, because the stored bytes are
//! never rewritten.

use ::projections::db::Val;
use ::projections::log::append::NewEvent;
use serde_json::Value;
use ticketd::rpc::pb;

use crate::flow::Flow;
use crate::helpers::{Backend, TestServer};
use crate::subscriptions::read_to;

const FIXTURES: &str = include_str!("../../fixtures/older-shapes.json");

/// The fixture stored under `event_type`, as stored then.
fn fixture(event_type: &str) -> (String, Value) {
    let all: Value = serde_json::from_str(FIXTURES).expect("fixture JSON");
    let e = all["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["event_type"] == event_type)
        .unwrap_or_else(|| panic!("no fixture for {event_type}"));
    let version = e["event_version"].as_str().expect("version").to_owned();
    (version, e["payload"].clone())
}

/// Appends the fixture of `event_type` to `ticket_id` at `sequence`,
/// sealed and chained as ticketd's writer stored it then.
async fn store_old(server: &TestServer, ticket_id: &str, sequence: i64, event_type: &str) {
    let (event_version, payload) = fixture(event_type);
    let now = ::projections::log::append::to_micros(chrono::Utc::now());
    let event_id = uuid::Uuid::new_v4().to_string();
    let mut metadata = serde_json::Map::new();
    metadata.insert("actor_id".into(), "cs-1".into());
    metadata.insert("actor_role".into(), "customer_service".into());
    NewEvent::stamp_metadata(&mut metadata, &event_id, now, now);
    let event = NewEvent {
        aggregate_type: "Ticket".into(),
        aggregate_id: ticket_id.into(),
        sequence,
        event_type: event_type.into(),
        event_version,
        payload,
        metadata: metadata.into(),
        event_id,
        recorded_at: now,
        occurred_at: now,
    };
    let db = server.open_db().await;
    let mut tx = db.begin_write().await.expect("begin");
    let previous: Vec<(String,)> = tx
        .fetch(
            "SELECT COALESCE(hash, '') FROM events
              WHERE aggregate_type = 'Ticket' AND aggregate_id = $1 AND sequence = $2",
            vec![Val::Text(ticket_id.into()), Val::Int(sequence - 1)],
        )
        .await
        .expect("previous hash");
    tx.append(&event, &previous[0].0).await.expect("insert");
    tx.commit().await.expect("commit");
    db.close().await;
}

fn payload(e: &pb::LoggedEvent) -> Value {
    serde_json::from_str(&e.payload_json).expect("payload JSON")
}

async fn old_shapes_are_read_in_the_current_shape_everywhere(backend: Backend) {
    let mut server = TestServer::start(backend).await;
    let id = "old-shape-1";
    let t = Flow::receive(&server, id, Some(60)).await;
    // Given: an intake stored in its v1 shape ("site / bin" in one field)...
    store_old(&server, id, 2, "ItemTakenIn").await;
    let mut t = Flow::at(t.client, id, 2);
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    let r = t.repair().await;
    t.ok(r, "RepairRecorded");
    // ...and a QC failure stored in its v1 shape (`defects`).
    store_old(&server, id, 6, "QcFailed").await;
    // A fresh process: nothing cached, every state comes from the store.
    server.restart().await;

    // When the ticket is loaded for a command, then the v1 QC failure
    // counts: the repair is recorded again, as after any failed QC.
    let mut t = Flow::at(server.commands().await, id, 6);
    let r = t.repair().await;
    t.ok(r, "RepairRecorded");

    // Then the projections read past both (they would stall otherwise).
    let head = server.caught_up().await.head_position;

    // Then the custody list shows the site of the split location.
    let held = server
        .queries()
        .await
        .list_items_in_custody(pb::ListItemsInCustodyRequest {
            location: "Hangzhou service point".into(),
        })
        .await
        .expect("custody list")
        .into_inner()
        .items;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].receipt_number, "R-OLD-1");

    // Then a subscriber gets both in the current shape, at version 2.
    let mut log = server.events().await;
    let events = read_to(
        &mut log,
        pb::SubscribeRequest {
            ticket_ids: vec![id.into()],
            ..Default::default()
        },
        head,
    )
    .await;
    let of = |name: &str| {
        events
            .iter()
            .find(|e| e.event_type == name)
            .unwrap_or_else(|| panic!("{name} delivered"))
    };
    let taken_in = of("ItemTakenIn");
    assert_eq!(taken_in.event_version, "2.0");
    let fields = &payload(taken_in)["ItemTakenIn"];
    assert_eq!(fields["site"], "Hangzhou service point");
    assert_eq!(fields["bin"], "B3");
    assert!(fields.get("location").is_none(), "{fields}");
    let failed = of("QcFailed");
    assert_eq!(failed.event_version, "2.0");
    let fields = &payload(failed)["QcFailed"];
    assert_eq!(
        fields["failed_checks"],
        serde_json::json!(["drum wobbles at spin", "door seal leaks"])
    );
    assert!(fields.get("defects").is_none(), "{fields}");

    // Then the stored bytes are untouched and the chains verify.
    let mut audit = server.audit().await;
    let verified = audit
        .verify(pb::VerifyRequest {
            ticket_id: id.into(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert!(verified.intact, "{verified:?}");
    let whole = audit
        .verify(pb::VerifyRequest::default())
        .await
        .expect("verify the log")
        .into_inner();
    assert!(whole.intact, "{whole:?}");

    // Then the history replays them (the state after the QC failure is
    // back in repair) and keeps the stored shape as stored.
    let history = audit
        .get_history(pb::GetHistoryRequest {
            ticket_id: id.into(),
        })
        .await
        .expect("history")
        .into_inner();
    let entry = &history.entries[5];
    assert_eq!(
        (entry.event_type.as_str(), entry.event_version.as_str()),
        ("QcFailed", "1.0")
    );
    assert!(
        entry.payload_json.contains("\"defects\""),
        "{}",
        entry.payload_json
    );
    assert_eq!(history.entries.len(), 7);

    // Then the export carries both shapes and verifies offline.
    let export = audit
        .export(pb::ExportRequest {
            ticket_id: id.into(),
        })
        .await
        .expect("export")
        .into_inner();
    let text = String::from_utf8(export.content).expect("UTF-8");
    assert_eq!(
        ticketd::audit::verify_export(&text),
        Ok((7, verified.digest.clone()))
    );
    let exported: Value = serde_json::from_str(&text).expect("export JSON");
    let qc = &exported["events"][5];
    assert_eq!(qc["event_version"], "1.0");
    assert_eq!(qc["current"]["event_version"], "2.0");
    assert!(qc["current"]["payload"]["QcFailed"]["failed_checks"].is_array());
    server.stop().await;
}

crate::on_both_stores!(old_shapes_are_read_in_the_current_shape_everywhere);
