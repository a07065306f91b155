//! Rules without side doors (issue #34) through the API, on both stores:
//! an accepted quote is invoiced before the ticket closes, and periods end
//! as the Civil Code counts them. Every refusal writes nothing.

use ticketd::rpc::pb;
use ticketd::rpc::pb::event_payload::Event;
use tonic::Code;

use crate::flow::Flow;
use crate::helpers::{expect_code, receive_request, Backend, TestServer};
use crate::times::history;

/// Out of warranty (no receipt), 500.00 quoted, approved, accepted,
/// repaired, through QC, shipped, delivered, revisited.
async fn accepted_repair_ready_to_close(server: &TestServer, id: &str) -> Flow {
    let mut t = Flow::receive(server, id, None).await;
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
    let r = t.revisit(true).await;
    t.ok(r, "CustomerRevisited");
    t
}

async fn an_accepted_quote_is_invoiced_and_paid_before_the_ticket_closes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = accepted_repair_ready_to_close(&server, "uninvoiced").await;
    let events = server.event_count().await;
    let status = expect_code(t.close().await, Code::FailedPrecondition);
    assert!(
        status
            .message()
            .contains("500.00 CNY that was never invoiced"),
        "{:?}",
        status.message()
    );
    assert_eq!(server.event_count().await, events, "a refusal wrote");
    let r = t.invoice(50_000).await;
    t.ok(r, "InvoiceIssued");
    let status = expect_code(t.close().await, Code::FailedPrecondition);
    assert!(status.message().contains("outstanding"), "{status:?}");
    let r = t.pay(50_000).await;
    t.ok(r, "PaymentRecorded");
    let r = t.close().await;
    t.ok(r, "TicketClosed");
    server.stop().await;
}

async fn a_price_waived_in_full_at_its_tier_closes_without_an_invoice(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = accepted_repair_ready_to_close(&server, "waived").await;
    let r = t.waive(50_000, "service_manager").await;
    t.ok(r, "FeeWaiverApproved");
    let r = t.close().await;
    t.ok(r, "TicketClosed");
    server.stop().await;
}

async fn a_warranty_ending_on_a_sunday_covers_the_monday_after(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut request = receive_request("civil-code", Some(1));
    if let Some(product) = request.product.as_mut() {
        product.purchase_date = "2025-03-01".into();
    }
    let mut t = Flow::receive_with(&server, request).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let entries = history(&server, "civil-code").await;
    let decision = entries
        .iter()
        .find_map(
            |e| match e.payload.as_ref().and_then(|p| p.event.as_ref()) {
                Some(Event::WarrantyDetermined(w)) => w.decision.clone(),
                _ => None,
            },
        )
        .expect("a warranty decision");
    // Twelve months from 2025-03-01 end on Sunday 2026-03-01: Monday is
    // the last day covered.
    assert_eq!(decision.covered_until, "2026-03-02");
    assert_eq!(decision.status, pb::WarrantyStatus::OutOfWarranty as i32);
    server.stop().await;
}

crate::on_both_stores!(
    an_accepted_quote_is_invoiced_and_paid_before_the_ticket_closes,
    a_price_waived_in_full_at_its_tier_closes_without_an_invoice,
    a_warranty_ending_on_a_sunday_covers_the_monday_after,
);
