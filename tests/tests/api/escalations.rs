//! Major faults reach the general manager, through the API on both
//! stores: a diagnosis marked major escalates by itself and the general
//! manager's list shows it until the ticket closes.

use ticketd::rpc::pb;
use ticketd::rpc::pb::ticket_queries_client::TicketQueriesClient;
use tonic::Code;

use crate::flow::Flow;
use crate::helpers::{as_role, expect_code, Backend, TestServer};

async fn list(server: &TestServer, role: &str) -> Result<Vec<pb::EscalatedTicket>, tonic::Status> {
    let mut q = TicketQueriesClient::new(server.channel().await);
    q.list_escalations(as_role(role, pb::ListEscalationsRequest {}))
        .await
        .map(|r| r.into_inner().tickets)
}

async fn a_major_diagnosis_reaches_the_general_managers_list(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "major-1", Some(60)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let m = pb::DiagnoseFaultRequest {
        context: t.ctx(),
        symptom: "smoke from the motor".into(),
        failure_mode: "MOTOR-FIRE".into(),
        failed_parts: vec!["MTR-100".into()],
        root_cause: pb::RootCause::Design as i32,
        customer_caused: false,
        responsible_department: pb::Department::Production as i32,
        path: pb::RepairPath::WorkshopRepair as i32,
        major: true,
    };
    let r = t
        .client
        .diagnose_fault(as_role("technician", m))
        .await
        .map(tonic::Response::into_inner);
    t.ok(r, "FaultDiagnosed");
    // An ordinary ticket stays off the list.
    Flow::receive(&server, "ordinary-1", Some(60)).await;

    let listed = list(&server, "general_manager").await.expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].ticket_id, "major-1");
    assert!(listed[0].major_fault);
    assert_eq!(listed[0].reason, "major fault MOTOR-FIRE");
    // Escalating it again by hand is refused: it already is; nothing is
    // written.
    let events = server.event_count().await;
    expect_code(t.escalate().await, Code::FailedPrecondition);
    assert_eq!(server.event_count().await, events, "a refusal wrote");
    // The list is for managers.
    expect_code(list(&server, "technician").await, Code::PermissionDenied);
    server.stop().await;
}

crate::on_both_stores!(a_major_diagnosis_reaches_the_general_managers_list);
