//! The short flows through the API, on both stores (issue #16.9): an
//! inquiry answered and closed; an installation scheduled, installed,
//! accepted and closed; a maintenance visit recorded and closed; a
//! diagnosis on an inquiry refused with nothing written; none of them in
//! FRACAS, while a repair of the same model is.

use chrono::{DateTime, Duration, Utc};
use ticketd::rpc::pb;
use ticketd::rpc::pb::fracas_client::FracasClient;
use tonic::Code;

use crate::flow::{Flow, Reply};
use crate::helpers::{as_role, day_from_today, expect_code, receive_request, Backend, TestServer};

/// Model of every ticket here, so the FRACAS filter sees only them.
const MODEL: &str = "SF-100";

fn ts(t: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_micros() * 1_000).expect("nanos"),
    })
}

async fn receive(server: &TestServer, id: &str, kind: pb::TicketKind) -> Flow {
    let mut request = receive_request(id, Some(30));
    request.kind = kind as i32;
    if let Some(product) = request.product.as_mut() {
        product.model = MODEL.into();
    }
    Flow::receive_with(server, request).await
}

impl Flow {
    async fn answer_inquiry(&mut self) -> Reply {
        let m = pb::AnswerInquiryRequest {
            context: self.ctx(),
            answer: "clean the filter monthly; manual page 12".into(),
        };
        let r = self
            .client
            .answer_inquiry(as_role("customer_service", m))
            .await;
        r.map(tonic::Response::into_inner)
    }

    async fn schedule_installation(&mut self) -> Reply {
        let start = Utc::now() + Duration::days(1);
        let m = pb::ScheduleInstallationRequest {
            context: self.ctx(),
            technician_id: "technician-1".into(),
            window_start: ts(start),
            window_end: ts(start + Duration::hours(4)),
        };
        let r = self
            .client
            .schedule_installation(as_role("service_manager", m))
            .await;
        r.map(tonic::Response::into_inner)
    }

    async fn record_installation(&mut self) -> Reply {
        let m = pb::RecordInstallationRequest {
            context: self.ctx(),
            installed_at: ts(Utc::now()),
            serial_number: "SN-INSTALLED-1".into(),
            notes: "levelled, water and drain connected, test wash run".into(),
        };
        let r = self
            .client
            .record_installation(as_role("technician", m))
            .await;
        r.map(tonic::Response::into_inner)
    }

    async fn accept_installation(&mut self) -> Reply {
        let m = pb::AcceptInstallationRequest {
            context: self.ctx(),
            signed_by: "Li Lei".into(),
            comment: "clean work".into(),
        };
        let r = self
            .client
            .accept_installation(as_role("customer_service", m))
            .await;
        r.map(tonic::Response::into_inner)
    }

    async fn record_maintenance_visit(&mut self) -> Reply {
        let m = pb::RecordMaintenanceVisitRequest {
            context: self.ctx(),
            visited_at: ts(Utc::now()),
            findings: "door seal worn; replace at the next visit".into(),
            parts_checked: vec!["SEAL-20".into(), "FLT-7".into()],
            next_due_on: day_from_today(180),
        };
        let r = self
            .client
            .record_maintenance_visit(as_role("technician", m))
            .await;
        r.map(tonic::Response::into_inner)
    }
}

/// The status the ticket summary shows for `id`.
async fn summary_status(server: &TestServer, id: &str) -> String {
    server.caught_up().await;
    server
        .summary_rows()
        .await
        .into_iter()
        .find(|r| r.ticket_id == id)
        .map(|r| r.status)
        .unwrap_or_else(|| panic!("no summary row for {id}"))
}

/// The FRACAS failure reports of the model used here.
async fn failures_of_model(server: &TestServer) -> Vec<pb::FailureReport> {
    server.caught_up().await;
    let mut c = FracasClient::new(server.channel().await);
    c.list_failures(as_role(
        "auditor",
        pb::ListFailuresRequest {
            filter: Some(pb::FailureFilter {
                product_model: MODEL.into(),
                ..Default::default()
            }),
            page_size: 100,
            page_token: String::new(),
        },
    ))
    .await
    .expect("failures")
    .into_inner()
    .failures
}

async fn the_short_flows_close_without_a_repair_and_stay_out_of_fracas(backend: Backend) {
    let server = TestServer::start(backend).await;

    // Inquiry: a diagnosis is refused naming the rule, nothing written;
    // then answered and closed.
    let mut inquiry = receive(&server, "sf-inquiry", pb::TicketKind::Inquiry).await;
    let events = server.event_count().await;
    let status = expect_code(inquiry.workshop_diagnosis().await, Code::FailedPrecondition);
    assert!(
        status
            .message()
            .contains("inquiry tickets have no DiagnoseFault"),
        "{status:?}"
    );
    assert_eq!(server.event_count().await, events);
    let status = expect_code(inquiry.close().await, Code::FailedPrecondition);
    assert!(
        status
            .message()
            .contains("inquiry tickets close only after AnswerInquiry"),
        "{status:?}"
    );
    assert_eq!(server.event_count().await, events);
    let r = inquiry.answer_inquiry().await;
    inquiry.ok(r, "InquiryAnswered");
    assert_eq!(
        summary_status(&server, "sf-inquiry").await,
        "inquiry_answered"
    );
    let r = inquiry.close().await;
    inquiry.ok(r, "TicketClosed");

    // Installation: scheduled, installed, not closed before the customer
    // accepts, accepted, closed.
    let mut install = receive(&server, "sf-install", pb::TicketKind::Installation).await;
    let r = install.schedule_installation().await;
    install.ok(r, "InstallationScheduled");
    let r = install.record_installation().await;
    install.ok(r, "ItemInstalled");
    assert_eq!(summary_status(&server, "sf-install").await, "installed");
    let events = server.event_count().await;
    let status = expect_code(install.close().await, Code::FailedPrecondition);
    assert!(
        status
            .message()
            .contains("installation tickets close only after AcceptInstallation"),
        "{status:?}"
    );
    assert_eq!(server.event_count().await, events);
    let r = install.accept_installation().await;
    install.ok(r, "InstallationAccepted");
    let r = install.close().await;
    install.ok(r, "TicketClosed");

    // Maintenance: a short-flow step of another kind is refused; the visit
    // recorded, then closed.
    let mut visit = receive(&server, "sf-visit", pb::TicketKind::Maintenance).await;
    let events = server.event_count().await;
    let status = expect_code(visit.answer_inquiry().await, Code::FailedPrecondition);
    assert!(
        status
            .message()
            .contains("AnswerInquiry is for inquiry tickets"),
        "{status:?}"
    );
    assert_eq!(server.event_count().await, events);
    let r = visit.record_maintenance_visit().await;
    visit.ok(r, "MaintenanceVisitDone");
    assert_eq!(
        summary_status(&server, "sf-visit").await,
        "maintenance_done"
    );
    let r = visit.close().await;
    visit.ok(r, "TicketClosed");
    for id in ["sf-inquiry", "sf-install", "sf-visit"] {
        assert_eq!(summary_status(&server, id).await, "closed", "{id}");
    }

    // None of them is in FRACAS; a repair of the same model is.
    assert!(failures_of_model(&server).await.is_empty());
    let mut repair = receive(&server, "sf-repair", pb::TicketKind::Repair).await;
    let r = repair.workshop_diagnosis().await;
    repair.ok(r, "FaultDiagnosed");
    let got: Vec<String> = failures_of_model(&server)
        .await
        .into_iter()
        .map(|f| f.ticket_id)
        .collect();
    assert_eq!(got, vec!["sf-repair".to_owned()]);
    server.stop().await;
}

async fn bad_short_flow_input_names_the_field_and_writes_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut install = receive(&server, "sf-bad", pb::TicketKind::Installation).await;
    let events = server.event_count().await;
    // A technician does not schedule.
    let m = pb::ScheduleInstallationRequest {
        context: install.ctx(),
        technician_id: "technician-1".into(),
        window_start: ts(Utc::now() + Duration::days(1)),
        window_end: ts(Utc::now() + Duration::days(1) + Duration::hours(4)),
    };
    let r = install
        .client
        .schedule_installation(as_role("technician", m))
        .await;
    expect_code(r, Code::PermissionDenied);
    // A window that ends before it starts.
    let start = Utc::now() + Duration::days(1);
    let m = pb::ScheduleInstallationRequest {
        context: install.ctx(),
        technician_id: "technician-1".into(),
        window_start: ts(start),
        window_end: ts(start - Duration::hours(1)),
    };
    let r = install
        .client
        .schedule_installation(as_role("service_manager", m))
        .await;
    let status = expect_code(r, Code::InvalidArgument);
    assert!(status.message().contains("window_end"), "{status:?}");
    // Installed before it is scheduled.
    let status = expect_code(
        install.record_installation().await,
        Code::FailedPrecondition,
    );
    assert!(
        status.message().contains("RecordInstallation"),
        "{status:?}"
    );
    assert_eq!(server.event_count().await, events);
    server.stop().await;
}

crate::on_both_stores!(
    the_short_flows_close_without_a_repair_and_stay_out_of_fracas,
    bad_short_flow_input_names_the_field_and_writes_nothing,
);
