//! The main path and every branch of DOMAIN.md §2, through the API.

use ticketd::rpc::pb;
use tonic::Code;

use crate::flow::Flow;
use crate::helpers::{expect_code, Backend, TestServer};

async fn status_of(server: &TestServer, flow: &Flow) -> pb::Ticket {
    let mut q = server.queries().await;
    let ticket = q
        .get_ticket(pb::GetTicketRequest {
            ticket_id: flow.id.clone(),
        })
        .await
        .expect("ticket exists")
        .into_inner();
    assert_eq!(ticket.version, flow.version, "GetTicket version");
    ticket
}

async fn chargeable_main_path(backend: Backend) {
    let server = TestServer::start(backend).await;
    // Bought 400 days ago: out of a 12-month warranty, customer pays.
    let mut t = Flow::receive(&server, "main-1", Some(400)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    let r = t.quote(50_000).await;
    t.ok(r, "RepairQuoted");
    let r = t.approve_quote("service_manager").await;
    t.ok(r, "QuoteApproved");
    let r = t.accept().await;
    t.ok(r, "QuoteAccepted");
    let r = t.repair().await;
    t.ok(r, "RepairRecorded");
    let r = t.pass_qc().await;
    t.ok(r, "QcPassed");
    let r = t.ship().await;
    t.ok(r, "ItemShipped");
    let r = t.deliver().await;
    t.ok(r, "ItemDelivered");
    let r = t.invoice(50_000).await;
    t.ok(r, "InvoiceIssued");
    let r = t.pay(50_000).await;
    t.ok(r, "PaymentRecorded");
    let r = t.revisit(true).await;
    t.ok(r, "CustomerRevisited");
    let r = t.close().await;
    t.ok(r, "TicketClosed");

    let ticket = status_of(&server, &t).await;
    assert_eq!(ticket.status(), pb::TicketStatus::Closed);
    assert_eq!(ticket.warranty_status(), pb::WarrantyStatus::OutOfWarranty);
    assert_eq!(ticket.chargeable, Some(true));
    assert_eq!(ticket.quote_total.map(|m| m.minor_units), Some(50_000));
    assert_eq!(ticket.outstanding.map(|m| m.minor_units), Some(0));
    assert_eq!((ticket.repairs, ticket.qc_passes), (1, 1));
    assert_eq!(server.event_count().await, 14);
    server.stop().await;
}

async fn in_warranty_repair_needs_no_quote(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "warranty-1", Some(60)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    expect_code(t.quote(50_000).await, Code::FailedPrecondition);
    let r = t.repair().await;
    t.ok(r, "RepairRecorded");
    let ticket = status_of(&server, &t).await;
    assert_eq!(ticket.chargeable, Some(false));
    assert_eq!(ticket.remedy(), pb::Remedy::Repair);
    server.stop().await;
}

async fn on_site_visit_then_remote_fix(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "onsite-1", Some(60)).await;
    let r = t.dispatch().await;
    t.ok(r, "TechnicianDispatched");
    // Nobody diagnoses before the technician has arrived, and nobody
    // arrives before the technician has accepted the job.
    expect_code(t.workshop_diagnosis().await, Code::FailedPrecondition);
    expect_code(t.arrive().await, Code::FailedPrecondition);
    let r = t.accept_dispatch().await;
    t.ok(r, "DispatchAccepted");
    let r = t.arrive().await;
    t.ok(r, "TechnicianArrived");
    let r = t
        .diagnose(pb::RootCause::NoFaultFound, pb::RepairPath::RemoteFix)
        .await;
    t.ok(r, "FaultDiagnosed");
    let r = t.resolve_remotely().await;
    t.ok(r, "ResolvedRemotely");
    let r = t.revisit(true).await;
    t.ok(r, "CustomerRevisited");
    let r = t.close().await;
    t.ok(r, "TicketClosed");
    assert_eq!(status_of(&server, &t).await.technician, "technician-1");
    server.stop().await;
}

async fn customer_declines_and_the_item_goes_back_unrepaired(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "decline-1", None).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    let r = t.quote(150_000).await;
    t.ok(r, "RepairQuoted");
    // 1,500.00 CNY is tier 2: above the service manager.
    expect_code(
        t.approve_quote("service_manager").await,
        Code::PermissionDenied,
    );
    let r = t.approve_quote("sales_vp").await;
    t.ok(r, "QuoteApproved");
    expect_code(t.repair().await, Code::FailedPrecondition);
    let r = t.decline().await;
    t.ok(r, "QuoteDeclined");
    let r = t.ship().await;
    t.ok(r, "ItemShipped");
    let r = t.deliver().await;
    t.ok(r, "ItemDelivered");
    let r = t.revisit(true).await;
    t.ok(r, "CustomerRevisited");
    let r = t.close().await;
    t.ok(r, "TicketClosed");
    assert_eq!(status_of(&server, &t).await.repairs, 0);
    server.stop().await;
}

async fn return_to_factory_with_each_outcome(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "factory-1", Some(60)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t
        .diagnose(pb::RootCause::Design, pb::RepairPath::ReturnToFactory)
        .await;
    t.ok(r, "FaultDiagnosed");
    let r = t.send_to_factory().await;
    t.ok(r, "SentToFactory");
    // The factory refuses: back to choosing a remedy.
    let r = t.receive_from_factory(pb::FactoryOutcome::Refused).await;
    t.ok(r, "ReturnedFromFactory");
    assert_eq!(
        status_of(&server, &t).await.status(),
        pb::TicketStatus::Diagnosed
    );
    let r = t.send_to_factory().await;
    t.ok(r, "SentToFactory");
    let r = t
        .receive_from_factory(pb::FactoryOutcome::ExchangeAgreed)
        .await;
    t.ok(r, "ReturnedFromFactory");
    let r = t.ship_exchange().await;
    t.ok(r, "ExchangeShipped");
    assert_eq!(
        status_of(&server, &t).await.status(),
        pb::TicketStatus::Shipped
    );

    let mut u = Flow::receive(&server, "factory-2", Some(60)).await;
    let r = u.determine_warranty().await;
    u.ok(r, "WarrantyDetermined");
    let r = u
        .diagnose(pb::RootCause::Design, pb::RepairPath::ReturnToFactory)
        .await;
    u.ok(r, "FaultDiagnosed");
    let r = u.send_to_factory().await;
    u.ok(r, "SentToFactory");
    let r = u.receive_from_factory(pb::FactoryOutcome::Repaired).await;
    u.ok(r, "ReturnedFromFactory");
    let r = u.pass_qc().await;
    u.ok(r, "QcPassed");
    server.stop().await;
}

async fn qc_failure_sends_the_item_back_for_counted_rework(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "rework-1", Some(60)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    let r = t.extend_cycle(20).await;
    t.ok(r, "RepairCycleExtended");
    for _ in 0..2 {
        let r = t.repair().await;
        t.ok(r, "RepairRecorded");
        expect_code(t.ship().await, Code::FailedPrecondition);
        let r = t.fail_qc().await;
        t.ok(r, "QcFailed");
    }
    let r = t.repair().await;
    t.ok(r, "RepairRecorded");
    let r = t.pass_qc().await;
    t.ok(r, "QcPassed");
    let ticket = status_of(&server, &t).await;
    assert_eq!(ticket.rework_count, 2);
    assert_eq!((ticket.repairs, ticket.qc_passes), (3, 1));
    assert_eq!(ticket.due_on, crate::helpers::day_from_today(20));
    server.stop().await;
}

async fn reopen_cancel_and_escalate(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "reopen-1", Some(60)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    let r = t.escalate().await;
    t.ok(r, "TicketEscalated");
    expect_code(t.escalate().await, Code::FailedPrecondition);
    let r = t.repair().await;
    t.ok(r, "RepairRecorded");
    let r = t.pass_qc().await;
    t.ok(r, "QcPassed");
    let r = t.ship().await;
    t.ok(r, "ItemShipped");
    let r = t.deliver().await;
    t.ok(r, "ItemDelivered");
    let r = t.revisit(false).await;
    t.ok(r, "CustomerRevisited");
    // Unresolved: cannot close, must reopen.
    expect_code(t.close().await, Code::FailedPrecondition);
    let r = t.reopen().await;
    t.ok(r, "TicketReopened");
    let ticket = status_of(&server, &t).await;
    assert_eq!((ticket.cycle, ticket.failed_repairs), (2, 1));
    let r = t.cancel().await;
    t.ok(r, "TicketCancelled");
    // Nothing follows a cancel, not even a reopen.
    let events = server.event_count().await;
    expect_code(t.reopen().await, Code::FailedPrecondition);
    expect_code(t.escalate().await, Code::FailedPrecondition);
    assert_eq!(server.event_count().await, events);
    server.stop().await;
}

async fn complaint_is_routed_replied_and_revisited(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut request = crate::helpers::receive_request("complaint-1", Some(30));
    request.kind = pb::TicketKind::Complaint as i32;
    let mut t = Flow::receive_with(&server, request).await;
    let r = t.route_complaint(pb::ComplaintCategory::StaffConduct).await;
    t.ok(r, "ComplaintRouted");
    let r = t.reply_to_complaint().await;
    t.ok(r, "ComplaintReplied");
    let r = t.revisit(true).await;
    t.ok(r, "CustomerRevisited");
    let r = t.close().await;
    t.ok(r, "TicketClosed");
    // A repair ticket is not a complaint.
    let mut repair = Flow::receive(&server, "complaint-2", Some(30)).await;
    expect_code(
        repair.route_complaint(pb::ComplaintCategory::Other).await,
        Code::FailedPrecondition,
    );
    server.stop().await;
}

async fn tier_3_waiver_needs_the_general_manager(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "waiver-1", None).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    let r = t.quote(500_000).await;
    t.ok(r, "RepairQuoted");
    let r = t.approve_quote("sales_vp").await;
    t.ok(r, "QuoteApproved");
    let events = server.event_count().await;
    expect_code(t.waive(500_000, "sales_vp").await, Code::PermissionDenied);
    assert_eq!(server.event_count().await, events);
    let r = t.waive(500_000, "general_manager").await;
    t.ok(r, "FeeWaiverApproved");
    let ticket = status_of(&server, &t).await;
    assert_eq!(ticket.quote_tier(), pb::ApprovalTier::Tier3);
    assert_eq!(ticket.waived.map(|m| m.minor_units), Some(500_000));
    server.stop().await;
}

crate::on_both_stores!(
    chargeable_main_path,
    in_warranty_repair_needs_no_quote,
    on_site_visit_then_remote_fix,
    customer_declines_and_the_item_goes_back_unrepaired,
    return_to_factory_with_each_outcome,
    qc_failure_sends_the_item_back_for_counted_rework,
    reopen_cancel_and_escalate,
    complaint_is_routed_replied_and_revisited,
    tier_3_waiver_needs_the_general_manager,
);
