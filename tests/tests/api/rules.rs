//! Lifecycle rules of issue #16 through the API, on both stores: the 三包
//! remedies and the refund path with its ledger line, no price cut without
//! approval, and assigning by the service manager. Every refusal writes
//! nothing.

use ticketd::rpc::pb;
use ticketd::rpc::pb::cost_ledger_client::CostLedgerClient;
use tonic::Code;

use crate::flow::{Flow, Reply};
use crate::helpers::{as_role, cny, expect_code, Backend, TestServer};

impl Flow {
    pub async fn approve_refund(&mut self, fen: i64, role: &str) -> Reply {
        let m = pb::ApproveRefundRequest {
            context: self.ctx(),
            amount: cny(fen),
            reason: "三包 return within 7 days".into(),
        };
        let r = self.client.approve_refund(as_role(role, m)).await;
        r.map(tonic::Response::into_inner)
    }

    pub async fn item_returned(&mut self) -> Reply {
        let m = pb::RecordItemReturnedRequest {
            context: self.ctx(),
        };
        let r = self
            .client
            .record_item_returned(as_role("customer_service", m))
            .await;
        r.map(tonic::Response::into_inner)
    }

    pub async fn pay_refund(&mut self) -> Reply {
        let m = pb::PayRefundRequest {
            context: self.ctx(),
            reference: "RF-1".into(),
        };
        let r = self.client.pay_refund(as_role("finance", m)).await;
        r.map(tonic::Response::into_inner)
    }

    pub async fn dispatch_to(&mut self, technician: &str, role: &str) -> Reply {
        let m = pb::DispatchTechnicianRequest {
            context: self.ctx(),
            technician_id: technician.into(),
            planned_arrival: Some(prost_types::Timestamp {
                seconds: chrono::Utc::now().timestamp() + 3_600,
                nanos: 0,
            }),
        };
        let r = self.client.dispatch_technician(as_role(role, m)).await;
        r.map(tonic::Response::into_inner)
    }

    /// The customer is told what will be done, by tomorrow.
    pub async fn contact(&mut self) -> Reply {
        let m = pb::ContactCustomerRequest {
            context: self.ctx(),
            commitment: "collected tomorrow, repaired within 7 days".into(),
            promised_on: crate::helpers::day_from_today(8),
        };
        let r = self
            .client
            .contact_customer(as_role("customer_service", m))
            .await;
        r.map(tonic::Response::into_inner)
    }

    pub async fn decline_dispatch(&mut self) -> Reply {
        let m = pb::DeclineDispatchRequest {
            context: self.ctx(),
            reason: "on leave that day".into(),
        };
        let r = self.client.decline_dispatch(as_role("technician", m)).await;
        r.map(tonic::Response::into_inner)
    }
}

/// Asserts `result` was refused with `code` and a message containing
/// `names`, and that nothing was written.
async fn refused(server: &TestServer, events: i64, result: Reply, code: Code, names: &str) {
    let status = expect_code(result, code);
    assert!(
        status.message().contains(names),
        "{:?} should name {names:?}",
        status.message()
    );
    assert_eq!(server.event_count().await, events, "a refusal wrote");
}

async fn ticket(server: &TestServer, flow: &Flow) -> pb::Ticket {
    let mut q = server.queries().await;
    let request = pb::GetTicketRequest {
        ticket_id: flow.id.clone(),
    };
    q.get_ticket(request).await.expect("ticket").into_inner()
}

async fn a_refund_within_7_days_is_approved_returned_and_paid(backend: Backend) {
    let server = TestServer::start(backend).await;
    // Bought three days ago, with a receipt: a return is open.
    let mut t = Flow::receive(&server, "refund-1", Some(3)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    assert_eq!(ticket(&server, &t).await.remedy(), pb::Remedy::Return);
    let r = t
        .diagnose(pb::RootCause::Manufacturing, pb::RepairPath::Refund)
        .await;
    t.ok(r, "FaultDiagnosed");
    // 2,999.00 is tier 2: the service manager may not approve it.
    let events = server.event_count().await;
    let r = t.approve_refund(299_900, "service_manager").await;
    refused(&server, events, r, Code::PermissionDenied, "tier 2").await;
    let r = t.approve_refund(299_900, "sales_vp").await;
    t.ok(r, "RefundApproved");
    // No refund is paid before the item is back.
    let r = t.pay_refund().await;
    refused(
        &server,
        events + 1,
        r,
        Code::FailedPrecondition,
        "refund_approved",
    )
    .await;
    let r = t.item_returned().await;
    t.ok(r, "ItemReturned");
    let r = t.pay_refund().await;
    t.ok(r, "RefundPaid");
    assert_eq!(
        ticket(&server, &t).await.status(),
        pb::TicketStatus::RefundPaid
    );
    let r = t.revisit(true).await;
    t.ok(r, "CustomerRevisited");
    let r = t.close().await;
    t.ok(r, "TicketClosed");

    // The refund is the company's ledger line.
    let mut c = CostLedgerClient::new(server.channel().await);
    let request = pb::GetTicketLedgerRequest {
        ticket_id: t.id.clone(),
    };
    let ledger = c
        .get_ticket_ledger(as_role("finance", request))
        .await
        .expect("ledger")
        .into_inner();
    let refund: Vec<_> = ledger
        .lines
        .iter()
        .filter(|l| l.line_kind() == pb::CostLineKind::Refund)
        .collect();
    assert_eq!(refund.len(), 1, "{:?}", ledger.lines);
    assert_eq!(refund[0].cost_bearer(), pb::CostBearer::Company);
    assert_eq!(
        refund[0].amount.as_ref().map(|m| m.minor_units),
        Some(299_900)
    );
    server.stop().await;
}

async fn a_refund_or_exchange_outside_its_window_is_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    // Bought 19 days ago: repair only.
    let mut t = Flow::receive(&server, "refund-19", Some(19)).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let events = server.event_count().await;
    let r = t
        .diagnose(pb::RootCause::Manufacturing, pb::RepairPath::Refund)
        .await;
    refused(
        &server,
        events,
        r,
        Code::FailedPrecondition,
        "within 7 days",
    )
    .await;
    let r = t
        .diagnose(pb::RootCause::Manufacturing, pb::RepairPath::Exchange)
        .await;
    refused(
        &server,
        events,
        r,
        Code::FailedPrecondition,
        "within 15 days",
    )
    .await;
    // Out of warranty (no receipt): repair only.
    let mut o = Flow::receive(&server, "refund-none", None).await;
    let r = o.determine_warranty().await;
    o.ok(r, "WarrantyDetermined");
    let events = server.event_count().await;
    let r = o
        .diagnose(pb::RootCause::Manufacturing, pb::RepairPath::Exchange)
        .await;
    refused(&server, events, r, Code::FailedPrecondition, "repair only").await;
    server.stop().await;
}

async fn an_invoice_is_the_accepted_quote_less_approved_waivers(backend: Backend) {
    let server = TestServer::start(backend).await;
    // Out of warranty (no receipt), quoted 1,500.00, 200.00 waived.
    let mut t = Flow::receive(&server, "price-cut", None).await;
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    let r = t.workshop_diagnosis().await;
    t.ok(r, "FaultDiagnosed");
    let r = t.quote(150_000).await;
    t.ok(r, "RepairQuoted");
    let r = t.approve_quote("sales_vp").await;
    t.ok(r, "QuoteApproved");
    let r = t.waive(20_000, "sales_vp").await;
    t.ok(r, "FeeWaiverApproved");
    let r = t.accept().await;
    t.ok(r, "QuoteAccepted");
    let r = t.repair().await;
    t.ok(r, "RepairRecorded");
    let r = t.pass_qc().await;
    t.ok(r, "QcPassed");
    let events = server.event_count().await;
    // 300.00 against 1,300.00 agreed: a price cut nobody approved.
    let r = t.invoice(30_000).await;
    refused(&server, events, r, Code::FailedPrecondition, "no price cut").await;
    // More than agreed needs a new quote.
    let r = t.invoice(160_000).await;
    refused(&server, events, r, Code::FailedPrecondition, "new quote").await;
    // The service manager may not waive in a tier-2 quote.
    let r = t.waive(100_000, "service_manager").await;
    refused(&server, events, r, Code::PermissionDenied, "tier 2").await;
    let r = t.waive(100_000, "sales_vp").await;
    t.ok(r, "FeeWaiverApproved");
    let r = t.invoice(30_000).await;
    t.ok(r, "InvoiceIssued");
    let view = ticket(&server, &t).await;
    assert_eq!(view.waived.map(|m| m.minor_units), Some(120_000));
    assert_eq!(view.outstanding.map(|m| m.minor_units), Some(30_000));
    server.stop().await;
}

async fn the_service_manager_assigns_and_the_technician_accepts_or_declines(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "assign-1", Some(60)).await;
    let events = server.event_count().await;
    // A technician dispatches no one, themselves included.
    let r = t.dispatch_to("technician-1", "technician").await;
    refused(
        &server,
        events,
        r,
        Code::PermissionDenied,
        "DispatchTechnician",
    )
    .await;
    // Offered to technician-2: technician-1 may not take it.
    let r = t.dispatch_to("technician-2", "service_manager").await;
    t.ok(r, "TechnicianDispatched");
    let r = t.accept_dispatch().await;
    refused(
        &server,
        events + 1,
        r,
        Code::PermissionDenied,
        "technician-2",
    )
    .await;
    // Given to technician-1, who declines: back in the queue.
    let r = t.dispatch_to("technician-1", "service_manager").await;
    t.ok(r, "TechnicianDispatched");
    let r = t.decline_dispatch().await;
    t.ok(r, "DispatchDeclined");
    assert_eq!(
        ticket(&server, &t).await.status(),
        pb::TicketStatus::Received
    );
    // Dispatched again and accepted, the technician arrives.
    let r = t.dispatch_to("technician-1", "service_manager").await;
    t.ok(r, "TechnicianDispatched");
    let r = t.accept_dispatch().await;
    t.ok(r, "DispatchAccepted");
    let r = t.arrive().await;
    t.ok(r, "TechnicianArrived");
    assert_eq!(ticket(&server, &t).await.status(), pb::TicketStatus::OnSite);
    server.stop().await;
}

async fn a_new_ticket_refers_to_an_existing_one_only(backend: Backend) {
    let server = TestServer::start(backend).await;
    let old = Flow::receive(&server, "old-1", Some(200)).await;
    let mut client = server.commands().await;
    let events = server.event_count().await;
    let mut request = crate::helpers::receive_request("new-1", Some(200));
    request.refers_to = "no-such-ticket".into();
    let r = client
        .receive_ticket(as_role("customer_service", request.clone()))
        .await
        .map(tonic::Response::into_inner);
    refused(&server, events, r, Code::InvalidArgument, "refers_to").await;
    request.refers_to = old.id.clone();
    let new = Flow::receive_with(&server, request).await;
    assert_eq!(ticket(&server, &new).await.refers_to, "old-1");
    server.stop().await;
}

crate::on_both_stores!(
    a_new_ticket_refers_to_an_existing_one_only,
    a_refund_within_7_days_is_approved_returned_and_paid,
    a_refund_or_exchange_outside_its_window_is_refused,
    an_invoice_is_the_accepted_quote_less_approved_waivers,
    the_service_manager_assigns_and_the_technician_accepts_or_declines,
);
