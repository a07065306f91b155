//! First contact and commitment (000 第二篇 四(四); 002 五): contacting the
//! customer records what was promised and by when.

use super::fixtures::*;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::{Commitment, TicketError};
use crate::values::Problem;

#[test]
fn customer_service_records_the_contact_and_the_commitment_given() {
    framework()
        .given(vec![received()])
        .when(by(
            Role::CustomerService,
            TicketCommand::ContactCustomer(contact()),
        ))
        .then_expect_events(vec![customer_contacted()]);
}

#[test]
fn a_technician_may_record_the_contact_too() {
    let mut event = customer_contacted();
    if let crate::ticket::TicketEvent::CustomerContacted { by, .. } = &mut event {
        *by = id("tech-1");
    }
    framework()
        .given(vec![received()])
        .when(by(
            Role::Technician,
            TicketCommand::ContactCustomer(contact()),
        ))
        .then_expect_events(vec![event]);
}

#[test]
fn a_commitment_dated_before_today_is_refused() {
    let mut command = contact();
    command.promised_on = date(2026, 3, 19);
    framework()
        .given(vec![received()])
        .when(by(
            Role::CustomerService,
            TicketCommand::ContactCustomer(command),
        ))
        .then_expect_error(TicketError::Invalid(
            Problem::Malformed("must not be before 2026-03-20".into()).at("promised_on"),
        ));
}

#[test]
fn a_qc_inspector_does_not_make_commitments_to_customers() {
    framework()
        .given(vec![received()])
        .when(by(
            Role::QcInspector,
            TicketCommand::ContactCustomer(contact()),
        ))
        .then_expect_error(TicketError::Forbidden {
            role: Role::QcInspector,
            command: CommandKind::ContactCustomer,
        });
}

#[test]
fn the_ticket_keeps_the_latest_commitment_and_its_status() {
    let ticket = state_after(vec![received(), customer_contacted()]);
    assert_eq!(
        ticket.commitment,
        Some(Commitment {
            text: text("collect on Monday, repaired within 7 days"),
            promised_on: date(2026, 3, 27),
        })
    );
    assert_eq!(ticket.status, crate::ticket::TicketStatus::Received);
}
