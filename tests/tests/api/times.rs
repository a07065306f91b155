//! Two times per event through gRPC: a command's stated `occurred_at` is
//! what the business rules judge; each back-dating rule is refused naming
//! the field, with nothing written; the audit answers "as it stood then"
//! and "as ticketd knew it then".

use chrono::{DateTime, Duration, Utc};
use ticketd::rpc::pb;
use ticketd::rpc::pb::sla_dashboard_client::SlaDashboardClient;
use tonic::Code;

use crate::flow::Flow;
use crate::helpers::{as_role, expect_code, receive_request, Backend, TestServer};
use crate::on_both_stores;

pub fn utc(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("instant")
        .with_timezone(&Utc)
}

pub fn timestamp(t: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).expect("nanos"),
    })
}

fn from_timestamp(t: &Option<prost_types::Timestamp>) -> DateTime<Utc> {
    let t = t.as_ref().expect("timestamp set");
    DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).expect("nanos")).expect("instant")
}

/// A context for `ticket_id` stating that the command happened at `at`.
pub fn context_at(ticket_id: &str, at: DateTime<Utc>) -> Option<pb::CommandContext> {
    Some(pb::CommandContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        ticket_id: ticket_id.to_owned(),
        occurred_at: timestamp(at),
        ..Default::default()
    })
}

fn diagnosis(ticket_id: &str, at: DateTime<Utc>) -> pb::DiagnoseFaultRequest {
    pb::DiagnoseFaultRequest {
        context: context_at(ticket_id, at),
        symptom: "drum does not turn".into(),
        failure_mode: "MOTOR-OPEN".into(),
        failed_parts: vec!["MTR-100".into()],
        root_cause: pb::RootCause::Manufacturing as i32,
        customer_caused: false,
        responsible_department: pb::Department::Production as i32,
        path: pb::RepairPath::WorkshopRepair as i32,
        major: false,
    }
}

/// A ticket's audit history, read as the auditor.
pub async fn history(server: &TestServer, id: &str) -> Vec<pb::HistoryEntry> {
    server
        .audit()
        .await
        .get_history(pb::GetHistoryRequest {
            ticket_id: id.to_owned(),
        })
        .await
        .expect("history")
        .into_inner()
        .entries
}

async fn state_at(server: &TestServer, id: &str, at: pb::get_state_at_request::At) -> pb::Ticket {
    server
        .audit()
        .await
        .get_state_at(pb::GetStateAtRequest {
            ticket_id: id.to_owned(),
            at: Some(at),
        })
        .await
        .expect("state at")
        .into_inner()
}

/// Bought on 2026-09-25, reported four days later, diagnosed the day
/// before the National Day holiday (1–7 October): everything entered
/// weeks later with the times it happened.
async fn back_dated_commands_get_the_rules_of_the_time_they_happened(backend: Backend) {
    let ten_years = domain::TimingPolicy {
        backdate_window: Duration::days(3_650),
        ..domain::TimingPolicy::STANDARD
    };
    let server = TestServer::start_with_timing(backend, ten_years).await;
    let mut client = server.commands().await;
    let id = "T-ND-1";
    let mut receive = receive_request(id, None);
    receive.context = context_at(id, utc("2026-09-29T02:00:00Z"));
    if let Some(product) = receive.product.as_mut() {
        product.purchase_date = "2026-09-25".into();
        product.proof_of_purchase = true;
    }
    client
        .receive_ticket(as_role("customer_service", receive))
        .await
        .expect("receive");
    let warranty = pb::DetermineWarrantyRequest {
        context: context_at(id, utc("2026-09-29T02:05:00Z")),
        service_contract: false,
    };
    client
        .determine_warranty(as_role("customer_service", warranty))
        .await
        .expect("warranty");
    // The parcel is taken in that morning (a mail-in repair cycle waits
    // for the item).
    let take_in = pb::TakeInItemRequest {
        context: context_at(id, utc("2026-09-29T02:10:00Z")),
        receipt_number: "R-ND-1".into(),
        condition: "as sent".into(),
        location: "Hangzhou service point".into(),
        bin: String::new(),
    };
    client
        .take_in_item(as_role("customer_service", take_in))
        .await
        .expect("taken in");
    // The customer is first told what will be done an hour late, as the
    // diagnosis is made.
    let contact = pb::ContactCustomerRequest {
        context: context_at(id, utc("2026-09-30T03:00:00Z")),
        commitment: "repaired after the holiday".into(),
        promised_on: "2026-10-15".into(),
    };
    client
        .contact_customer(as_role("customer_service", contact))
        .await
        .expect("contacted");
    client
        .diagnose_fault(as_role(
            "technician",
            diagnosis(id, utc("2026-09-30T03:00:00Z")),
        ))
        .await
        .expect("diagnosis");
    server.caught_up().await;

    // 三包: four days after the sale a refund is open (DOMAIN §4); judged
    // on the day it was entered it would be repair only.
    let ticket = server
        .queries()
        .await
        .get_ticket(pb::GetTicketRequest {
            ticket_id: id.into(),
        })
        .await
        .expect("ticket")
        .into_inner();
    assert_eq!(
        ticket.warranty_status,
        pb::WarrantyStatus::InWarranty as i32
    );
    assert_eq!(ticket.remedy, pb::Remedy::Return as i32);

    let clocks = SlaDashboardClient::new(server.channel().await)
        .list_open_clocks(as_role(
            "service_manager",
            pb::OpenClocksRequest {
                ticket_id: id.into(),
                ..Default::default()
            },
        ))
        .await
        .expect("clocks")
        .into_inner()
        .clocks;
    let clock = |name: &str| {
        clocks
            .iter()
            .find(|c| c.clock == name)
            .unwrap_or_else(|| panic!("no {name} clock in {clocks:?}"))
    };
    // Service commitment: 24 calendar hours from the report; it stopped at
    // the first contact an hour late.
    let commitment = clock("service_commitment");
    assert_eq!(
        from_timestamp(&commitment.started_at),
        utc("2026-09-29T02:00:00Z")
    );
    assert_eq!(
        from_timestamp(&commitment.deadline),
        utc("2026-09-30T02:00:00Z")
    );
    assert_eq!(
        from_timestamp(&commitment.stopped_at),
        utc("2026-09-30T03:00:00Z")
    );
    // Repair cycle: 7 working days of 8 hours from 11:00 on 30 September
    // (Beijing): 6 h that day, none 1–7 October, 8 h on the 8th, 9th and
    // the make-up Saturday the 10th, the 12th, 13th and 14th, 2 h on the
    // 15th: due 2026-10-15 11:00 +08:00.
    let cycle = clock("repair_cycle");
    assert_eq!(
        from_timestamp(&cycle.started_at),
        utc("2026-09-30T03:00:00Z")
    );
    assert_eq!(from_timestamp(&cycle.deadline), utc("2026-10-15T03:00:00Z"));

    // History keeps both times: when it happened, when it was entered.
    let entries = history(&server, id).await;
    let occurred: Vec<DateTime<Utc>> = entries
        .iter()
        .map(|e| from_timestamp(&e.occurred_at))
        .collect();
    assert_eq!(
        occurred,
        [
            utc("2026-09-29T02:00:00Z"),
            utc("2026-09-29T02:05:00Z"),
            utc("2026-09-29T02:10:00Z"),
            utc("2026-09-30T03:00:00Z"),
            utc("2026-09-30T03:00:00Z")
        ]
    );
    for e in &entries {
        assert!(from_timestamp(&e.recorded_at) > Utc::now() - Duration::minutes(10));
        assert_eq!(e.seal, 2);
        assert_eq!(e.channel, "grpc");
    }
    server.stop().await;
}

async fn each_back_dating_rule_is_refused_naming_the_field_and_writing_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut client = server.commands().await;
    let now = Utc::now();

    // Older than the 72-hour window: refused even for a role that may
    // back-date.
    let mut old = receive_request("T-BD-1", Some(60));
    old.context = context_at("T-BD-1", now - Duration::hours(80));
    let before = server.event_count().await;
    let status = expect_code(
        client
            .receive_ticket(as_role("customer_service", old))
            .await,
        Code::InvalidArgument,
    );
    assert!(
        status.message().contains("context.occurred_at"),
        "{status:?}"
    );
    assert!(status.message().contains("72 hours"), "{status:?}");
    assert_eq!(server.event_count().await, before);

    // Within the window: accepted.
    let mut recent = receive_request("T-BD-1", Some(60));
    recent.context = context_at("T-BD-1", now - Duration::hours(48));
    client
        .receive_ticket(as_role("customer_service", recent))
        .await
        .expect("a receipt entered two days late");

    // In the future beyond the skew.
    let before = server.event_count().await;
    let future = pb::DetermineWarrantyRequest {
        context: context_at("T-BD-1", now + Duration::minutes(30)),
        service_contract: false,
    };
    let status = expect_code(
        client
            .determine_warranty(as_role("customer_service", future))
            .await,
        Code::InvalidArgument,
    );
    assert!(
        status.message().contains("context.occurred_at"),
        "{status:?}"
    );
    assert!(status.message().contains("future"), "{status:?}");

    // Before the ticket's previous event.
    let earlier = pb::DetermineWarrantyRequest {
        context: context_at("T-BD-1", now - Duration::hours(50)),
        service_contract: false,
    };
    let status = expect_code(
        client
            .determine_warranty(as_role("customer_service", earlier))
            .await,
        Code::InvalidArgument,
    );
    assert!(
        status.message().contains("context.occurred_at"),
        "{status:?}"
    );
    assert!(status.message().contains("previous event"), "{status:?}");
    assert_eq!(server.event_count().await, before);

    // A role that may not back-date: approvals are dated when recorded.
    let mut t = Flow::receive(&server, "T-BD-2", Some(400)).await;
    t.determine_warranty().await.expect("warranty");
    t.workshop_diagnosis().await.expect("diagnosis");
    t.quote(50_000).await.expect("quote");
    let before = server.event_count().await;
    let approve = pb::ApproveQuoteRequest {
        context: context_at("T-BD-2", now - Duration::hours(1)),
    };
    let status = expect_code(
        client
            .approve_quote(as_role("general_manager", approve))
            .await,
        Code::PermissionDenied,
    );
    assert!(
        status.message().contains("context.occurred_at"),
        "{status:?}"
    );
    assert!(status.message().contains("general_manager"), "{status:?}");
    assert_eq!(server.event_count().await, before);
    server.stop().await;
}

/// A technician's arrival entered hours after it happened: the ticket's
/// state at a business instant after the arrival includes it; the state
/// as ticketd knew it just before it was entered does not.
async fn state_as_it_was_and_as_it_was_known_differ_for_a_late_entry(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut client = server.commands().await;
    // Stored times keep microseconds.
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    let id = "T-LATE-1";
    let mut receive = receive_request(id, Some(60));
    receive.context = context_at(id, now - Duration::hours(30));
    receive.service_mode = pb::ServiceMode::OnSite as i32;
    client
        .receive_ticket(as_role("customer_service", receive))
        .await
        .expect("receive");
    let dispatch = pb::DispatchTechnicianRequest {
        context: context_at(id, now - Duration::hours(29)),
        technician_id: "technician-1".into(),
        planned_arrival: timestamp(now - Duration::hours(27)),
    };
    client
        .dispatch_technician(as_role("service_manager", dispatch))
        .await
        .expect("dispatch");
    let accept = pb::AcceptDispatchRequest {
        context: context_at(id, now - Duration::hours(28)),
    };
    client
        .accept_dispatch(as_role("technician", accept))
        .await
        .expect("accepted");
    // Entered now, back in the van: the arrival happened 26 hours ago.
    let arrived_at = now - Duration::hours(26);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    client
        .record_arrival(as_role(
            "technician",
            pb::RecordArrivalRequest {
                context: context_at(id, arrived_at),
            },
        ))
        .await
        .expect("arrival entered late");

    let entries = history(&server, id).await;
    assert_eq!(entries.len(), 4);
    let arrival = &entries[3];
    assert_eq!(arrival.event_type, "TechnicianArrived");
    assert_eq!(from_timestamp(&arrival.occurred_at), arrived_at);
    let entered = from_timestamp(&arrival.recorded_at);
    assert!(entered > arrived_at + Duration::hours(25));

    use pb::get_state_at_request::At;
    // As it stood an hour after the arrival: on site.
    let then = state_at(
        &server,
        id,
        At::Instant(timestamp(arrived_at + Duration::hours(1)).expect("ts")),
    )
    .await;
    assert_eq!(then.version, 4);
    assert_eq!(then.status, pb::TicketStatus::OnSite as i32);
    // As ticketd knew it at that same instant of recording time: only
    // dispatched and accepted, for nobody had entered the arrival yet.
    let known = state_at(
        &server,
        id,
        At::KnownAt(timestamp(entered - Duration::microseconds(1)).expect("ts")),
    )
    .await;
    assert_eq!(known.version, 3);
    assert_eq!(known.status, pb::TicketStatus::DispatchAccepted as i32);
    // Once entered, both agree.
    let known_after = state_at(&server, id, At::KnownAt(timestamp(entered).expect("ts"))).await;
    assert_eq!(known_after.version, 4);
    // Before it was received there is no state to show.
    let received_at = from_timestamp(&entries[0].occurred_at);
    let status = server
        .audit()
        .await
        .get_state_at(pb::GetStateAtRequest {
            ticket_id: id.to_owned(),
            at: Some(At::Instant(
                timestamp(received_at - Duration::seconds(1)).expect("ts"),
            )),
        })
        .await
        .expect_err("no state before the ticket existed");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    server.stop().await;
}

/// Corrective-action commands state their time under the same rules.
async fn a_corrective_action_step_with_a_refused_time_writes_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut fracas = ticketd::rpc::pb::fracas_client::FracasClient::new(server.channel().await);
    let open = |at: DateTime<Utc>| pb::OpenCorrectiveActionRequest {
        context: Some(pb::ActionContext {
            request_id: uuid::Uuid::new_v4().to_string(),
            action_id: "CA-T-1".into(),
            occurred_at: timestamp(at),
            ..Default::default()
        }),
        title: "motor winding opens".into(),
        failure_modes: vec!["MOTOR-OPEN".into()],
        product_models: vec!["WM-800".into()],
        verification_window_days: 30,
    };
    let now = Utc::now();
    let status = expect_code(
        fracas
            .open_corrective_action(as_role(
                "reliability_engineer",
                open(now + Duration::hours(1)),
            ))
            .await,
        Code::InvalidArgument,
    );
    assert!(
        status.message().contains("context.occurred_at"),
        "{status:?}"
    );
    let status = expect_code(
        fracas
            .open_corrective_action(as_role(
                "reliability_engineer",
                open(now - Duration::hours(5)),
            ))
            .await,
        Code::PermissionDenied,
    );
    assert!(
        status.message().contains("context.occurred_at"),
        "{status:?}"
    );
    assert_eq!(server.event_count().await, 0);
    fracas
        .open_corrective_action(as_role("reliability_engineer", open(now)))
        .await
        .expect("a step stated at now is accepted");
    assert_eq!(server.event_count().await, 1);
    server.stop().await;
}

on_both_stores!(
    a_corrective_action_step_with_a_refused_time_writes_nothing,
    back_dated_commands_get_the_rules_of_the_time_they_happened,
    each_back_dating_rule_is_refused_naming_the_field_and_writing_nothing,
    state_as_it_was_and_as_it_was_known_differ_for_a_late_entry,
);
