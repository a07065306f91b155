//! The typed event catalogue (issue #18) through real gRPC: a subscriber
//! and GetHistory get each event's `payload` oneof with its fields typed,
//! and an event that cannot be decoded comes with the oneof unset instead
//! of ending the stream.

use ticketd::rpc::pb;
use ticketd::rpc::pb::event_payload::Event;
use ticketd::rpc::pb::fracas_client::FracasClient;

use crate::flow::Flow;
use crate::helpers::{as_role, day_from_today, Backend, TestServer};
use crate::subscriptions::read_to;

const TYPES: [&str; 5] = [
    "TicketReceived",
    "WarrantyDetermined",
    "FaultDiagnosed",
    "RepairRecorded",
    "QcFailed",
];

/// Receives, diagnoses and repairs a ticket, then fails its QC.
async fn repaired_then_failed_qc(server: &TestServer, id: &str) {
    let mut t = Flow::receive(server, id, Some(60)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    let r = t.repair().await;
    t.ok(r, "RepairRecorded");
    let r = t.fail_qc().await;
    t.ok(r, "QcFailed");
}

/// Asserts the typed payloads of [`repaired_then_failed_qc`]'s events.
fn assert_typed(what: &str, id: &str, payloads: Vec<Option<pb::EventPayload>>) {
    let events: Vec<Event> = payloads
        .into_iter()
        .map(|p| p.and_then(|p| p.event).expect("every event is typed"))
        .collect();
    assert_eq!(events.len(), TYPES.len(), "{what}");
    let Event::TicketReceived(received) = &events[0] else {
        panic!("{what}: first is {:?}", events[0]);
    };
    let product = received.product.as_ref().expect("product");
    assert_eq!(
        (product.model.as_str(), product.serial_number.as_str()),
        ("WM-800", format!("SN-{id}").as_str()),
        "{what}"
    );
    let customer = received.customer.as_ref().expect("customer");
    // A subscriber sees the customer in clear; the audit history keeps
    // personal fields sealed (docs/PRIVACY.md): empty, with the id.
    let name = if what == "history" { "" } else { "Li Lei" };
    assert_eq!(customer.name, name, "{what}");
    assert!(!customer.customer_id.is_empty(), "{what}");
    assert_eq!(received.kind, pb::TicketKind::Repair as i32, "{what}");
    assert!(!received.personal_data_erased, "{what}");
    let Event::WarrantyDetermined(warranty) = &events[1] else {
        panic!("{what}: second is {:?}", events[1]);
    };
    let decision = warranty.decision.as_ref().expect("decision");
    assert_eq!(decision.status, pb::WarrantyStatus::InWarranty as i32);
    let Event::FaultDiagnosed(diagnosis) = &events[2] else {
        panic!("{what}: third is {:?}", events[2]);
    };
    assert_eq!(diagnosis.root_cause, pb::RootCause::Manufacturing as i32);
    let Event::RepairRecorded(repair) = &events[3] else {
        panic!("{what}: fourth is {:?}", events[3]);
    };
    assert_eq!(repair.labour_minutes, 90, "{what}");
    let unit_cost = repair.parts[0].unit_cost.as_ref().map(|m| m.minor_units);
    assert_eq!(unit_cost, Some(35_000), "{what}");
    let Event::QcFailed(failed) = &events[4] else {
        panic!("{what}: fifth is {:?}", events[4]);
    };
    assert_eq!(failed.failed_checks, ["noise at spin"], "{what}");
    assert_eq!(
        (failed.inspector.as_str(), failed.rework),
        ("qc_inspector-1", 1)
    );
}

async fn subscribers_and_history_get_each_event_typed(backend: Backend) {
    let server = TestServer::start(backend).await;
    let id = "typed-1";
    repaired_then_failed_qc(&server, id).await;
    let head = server.caught_up().await.head_position;
    let request = pb::SubscribeRequest {
        ticket_ids: vec![id.to_owned()],
        ..Default::default()
    };
    let mut log = server.events().await;
    let events = read_to(&mut log, request.clone(), head).await;
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, TYPES);
    assert_typed(
        "subscriber",
        id,
        events.iter().map(|e| e.payload.clone()).collect(),
    );

    let history = server
        .audit()
        .await
        .get_history(pb::GetHistoryRequest {
            ticket_id: id.to_owned(),
        })
        .await
        .expect("history")
        .into_inner();
    assert_typed(
        "history",
        id,
        history.entries.iter().map(|e| e.payload.clone()).collect(),
    );

    // A stored event no build of ticketd can decode still reaches the
    // subscriber, with its JSON and without a typed payload.
    server
        .exec(&format!(
            "UPDATE events SET payload = '{{\"NoSuchEvent\":{{}}}}' \
             WHERE aggregate_type = 'Ticket' AND aggregate_id = '{id}' AND sequence = 5"
        ))
        .await;
    let again = read_to(&mut log, request, head).await;
    assert_eq!(again.len(), TYPES.len(), "the stream goes on");
    assert!(again[..4].iter().all(|e| e.payload.is_some()));
    assert_eq!(again[4].payload, None);
    assert!(again[4].payload_json.contains("NoSuchEvent"));
    server.stop().await;
}

fn action_context(action_id: &str) -> Option<pb::ActionContext> {
    Some(pb::ActionContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        action_id: action_id.to_owned(),
        ..Default::default()
    })
}

async fn a_corrective_actions_events_come_typed_to_a_subscriber(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut fracas = FracasClient::new(server.channel().await);
    let re = "reliability_engineer";
    let open = pb::OpenCorrectiveActionRequest {
        context: action_context("CA-T"),
        title: "motor winding opens".into(),
        failure_modes: vec!["MOTOR-OPEN".into()],
        product_models: vec!["WM-800".into()],
        verification_window_days: 30,
    };
    fracas
        .open_corrective_action(as_role(re, open))
        .await
        .expect("opened");
    let plan = pb::PlanActionStepRequest {
        context: action_context("CA-T"),
        discipline: "d3_containment".into(),
        owner_id: "eng-7".into(),
        due_on: day_from_today(5),
    };
    fracas
        .plan_action_step(as_role(re, plan))
        .await
        .expect("planned");
    let head = server.caught_up().await.head_position;
    let request = pb::SubscribeRequest {
        ticket_ids: vec!["CA-T".to_owned()],
        ..Default::default()
    };
    let events = read_to(&mut server.events().await, request, head).await;
    let typed: Vec<Option<Event>> = events
        .into_iter()
        .map(|e| e.payload.and_then(|p| p.event))
        .collect();
    let [Some(Event::CorrectiveActionOpened(opened)), Some(Event::StepPlanned(planned))] =
        typed.as_slice()
    else {
        panic!("expected the opening and the plan typed, got {typed:?}");
    };
    assert_eq!(
        (opened.models.as_slice(), opened.verification_window_days),
        (&["WM-800".to_owned()][..], 30)
    );
    assert_eq!(opened.role, pb::Role::ReliabilityEngineer as i32);
    assert_eq!(
        planned.discipline,
        pb::EightDDiscipline::D3Containment as i32
    );
    assert_eq!(planned.due_on, day_from_today(5));
    server.stop().await;
}

crate::on_both_stores!(
    subscribers_and_history_get_each_event_typed,
    a_corrective_actions_events_come_typed_to_a_subscriber,
);
