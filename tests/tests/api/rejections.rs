//! Bad input gets the right status, names the field, and writes nothing.

use ticketd::rpc::pb;
use tonic::{Code, Request};
use tonic_types::StatusExt;

use crate::flow::Flow;
use crate::helpers::{as_role, cny, context, expect_code, receive_request, Backend, TestServer};

/// Asserts INVALID_ARGUMENT with a BadRequest violation on `field`.
pub fn expect_invalid<T: std::fmt::Debug>(result: Result<T, tonic::Status>, field: &str) {
    let status = expect_code(result, Code::InvalidArgument);
    let details = status.get_error_details();
    let violations = details
        .bad_request()
        .map(|b| b.field_violations.clone())
        .unwrap_or_default();
    assert!(
        violations
            .iter()
            .any(|v| v.field == field && !v.description.is_empty()),
        "expected a violation on {field}, got {violations:?} ({})",
        status.message()
    );
}

async fn bad_input_is_refused_with_the_field_named_and_nothing_written(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut client = server.commands().await;
    let mut t = Flow::receive(&server, "bad-1", Some(400)).await;
    let before = server.event_count().await;

    let mut empty_serial = receive_request("bad-2", Some(10));
    if let Some(p) = empty_serial.product.as_mut() {
        p.serial_number = "   ".into();
    }
    expect_invalid(
        client
            .receive_ticket(as_role("customer_service", empty_serial))
            .await,
        "product.serial_number",
    );

    let mut unknown_enum = receive_request("bad-3", Some(10));
    unknown_enum.channel = 99;
    expect_invalid(
        client
            .receive_ticket(as_role("customer_service", unknown_enum))
            .await,
        "channel",
    );

    let mut unspecified_enum = receive_request("bad-4", Some(10));
    unspecified_enum.priority = 0;
    expect_invalid(
        client
            .receive_ticket(as_role("customer_service", unspecified_enum))
            .await,
        "priority",
    );

    let mut oversized = receive_request("bad-5", Some(10));
    oversized.description = "故障".repeat(5_000);
    expect_invalid(
        client
            .receive_ticket(as_role("customer_service", oversized))
            .await,
        "description",
    );

    let mut future_purchase = receive_request("bad-6", Some(-3));
    future_purchase.context = context("bad-6");
    expect_invalid(
        client
            .receive_ticket(as_role("customer_service", future_purchase))
            .await,
        "product.purchase_date",
    );

    let negative_quantity = pb::RecordRepairRequest {
        context: context(&t.id),
        labour_minutes: 30,
        parts: vec![pb::PartUsed {
            part_number: "MTR-100".into(),
            quantity: -2,
            unit_cost: cny(100),
            old_part: pb::OldPartDisposition::Scrapped as i32,
        }],
        notes: String::new(),
    };
    expect_invalid(
        client
            .record_repair(as_role("technician", negative_quantity))
            .await,
        "parts[0].quantity",
    );

    let negative_money = pb::QuoteRepairRequest {
        context: context(&t.id),
        lines: vec![pb::QuoteLine {
            line: Some(pb::quote_line::Line::Travel(pb::Money {
                currency: "CNY".into(),
                minor_units: -1,
            })),
        }],
        valid_until: crate::helpers::day_from_today(5),
    };
    expect_invalid(
        client
            .quote_repair(as_role("technician", negative_money))
            .await,
        "lines[0].travel.minor_units",
    );

    let too_many_lines = pb::FailQcRequest {
        context: context(&t.id),
        defects: vec!["x".into(); 201],
    };
    expect_invalid(
        client
            .fail_qc(as_role("qc_inspector", too_many_lines))
            .await,
        "defects",
    );

    let long_bin = pb::TakeInItemRequest {
        context: context(&t.id),
        receipt_number: "R-1".into(),
        condition: "as sent".into(),
        location: "Hangzhou service point".into(),
        bin: "B".repeat(1_000),
    };
    expect_invalid(
        client
            .take_in_item(as_role("customer_service", long_bin))
            .await,
        "bin",
    );

    let no_context = pb::PassQcRequest { context: None };
    expect_invalid(
        client.pass_qc(as_role("qc_inspector", no_context)).await,
        "context",
    );

    let no_request_id = pb::PassQcRequest {
        context: Some(pb::CommandContext {
            ticket_id: t.id.clone(),
            ..Default::default()
        }),
    };
    expect_invalid(
        client.pass_qc(as_role("qc_inspector", no_request_id)).await,
        "context.request_id",
    );

    assert_eq!(
        server.event_count().await,
        before,
        "a refused command wrote an event"
    );
    // The ticket still accepts good commands afterwards.
    let r = t.determine_warranty().await;
    t.ok(r, "WarrantyDetermined");
    server.stop().await;
}

async fn unknown_ticket_is_not_found(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut client = server.commands().await;
    let m = pb::PassQcRequest {
        context: context("no-such-ticket"),
    };
    expect_code(
        client.pass_qc(as_role("qc_inspector", m)).await,
        Code::NotFound,
    );
    let mut q = server.queries().await;
    expect_code(
        q.get_ticket(pb::GetTicketRequest {
            ticket_id: "no-such-ticket".into(),
        })
        .await,
        Code::NotFound,
    );
    assert_eq!(server.event_count().await, 0);
    server.stop().await;
}

async fn state_and_role_refusals(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut t = Flow::receive(&server, "refuse-1", Some(400)).await;
    let before = server.event_count().await;
    let status = expect_code(t.pass_qc().await, Code::FailedPrecondition);
    assert!(
        status.message().contains("received"),
        "names the state: {}",
        status.message()
    );

    // A technician may not approve a quote; an auditor may change nothing.
    let m = pb::ApproveQuoteRequest {
        context: context(&t.id),
    };
    expect_code(
        t.client.approve_quote(as_role("technician", m)).await,
        Code::PermissionDenied,
    );
    let m = pb::CancelTicketRequest {
        context: context(&t.id),
        reason: "x".into(),
    };
    expect_code(
        t.client.cancel_ticket(as_role("auditor", m)).await,
        Code::PermissionDenied,
    );

    // No actor at all.
    let m = pb::CancelTicketRequest {
        context: context(&t.id),
        reason: "x".into(),
    };
    expect_code(
        t.client.cancel_ticket(Request::new(m)).await,
        Code::Unauthenticated,
    );

    // The same ticket id cannot be received twice.
    let again = receive_request(&t.id, Some(400));
    expect_code(
        t.client
            .receive_ticket(as_role("customer_service", again))
            .await,
        Code::AlreadyExists,
    );

    // A stale expected version is a conflict.
    let mut ctx = context(&t.id);
    if let Some(c) = ctx.as_mut() {
        c.expected_version = Some(7);
    }
    let m = pb::DetermineWarrantyRequest {
        context: ctx,
        service_contract: false,
    };
    expect_code(
        t.client
            .determine_warranty(as_role("customer_service", m))
            .await,
        Code::Aborted,
    );

    assert_eq!(server.event_count().await, before);
    server.stop().await;
}

crate::on_both_stores!(
    bad_input_is_refused_with_the_field_named_and_nothing_written,
    unknown_ticket_is_not_found,
    state_and_role_refusals,
);
