//! Reopen within the repair guarantee (002 五.4; 004 七.6): a same-fault
//! reopen within the guarantee is a free rework cycle; after it, the reopen
//! is refused naming the window, and the answer is a new ticket that refers
//! to the old one.

use super::fixtures::*;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::{TicketError, TicketEvent, TicketStatus};

/// An out-of-warranty repair (quoted 500.00, accepted, paid), delivered
/// now and closed: the customer paid for it.
fn closed_chargeable_repair() -> Vec<TicketEvent> {
    let mut events = chargeable_repair_until_qc_passed();
    events.extend([
        shipped(false),
        delivered(),
        invoiced(50_000),
        paid(50_000),
        revisited(true),
        closed(),
    ]);
    events
}

fn free_rework_diagnosed() -> Vec<TicketEvent> {
    let mut events = closed_chargeable_repair();
    events.extend([reopened(true, 2), diagnosed()]);
    events
}

#[test]
fn a_same_fault_reopen_of_a_paid_repair_makes_a_free_rework_cycle() {
    let mut events = closed_chargeable_repair();
    assert_eq!(state_after(events.clone()).chargeable(), Some(true));
    events.push(reopened(true, 2));
    let ticket = state_after(events);
    assert!(ticket.free_rework);
    assert_eq!(ticket.chargeable(), Some(false));
}

#[test]
fn a_free_rework_needs_no_quote() {
    framework()
        .given(free_rework_diagnosed())
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(quote_of(50_000)),
        ))
        .then_expect_error(TicketError::QuoteNotNeeded);
}

#[test]
fn a_free_rework_is_repaired_without_a_quote() {
    framework()
        .given(free_rework_diagnosed())
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .then_expect_events(vec![repaired()]);
}

#[test]
fn a_free_rework_is_not_invoiced() {
    let mut given = free_rework_diagnosed();
    given.extend([repaired(), qc_passed()]);
    framework()
        .given(given)
        .when(by(
            Role::Finance,
            TicketCommand::IssueInvoice(invoice(50_000)),
        ))
        .then_expect_error(TicketError::NotChargeable);
}

#[test]
fn a_customer_caused_fault_found_in_the_rework_is_charged() {
    let mut events = closed_chargeable_repair();
    events.extend([reopened(true, 2), diagnosed_misuse()]);
    assert_eq!(state_after(events).chargeable(), Some(true));
}

#[test]
fn a_reopen_for_another_fault_is_charged_as_before() {
    let mut events = closed_chargeable_repair();
    events.push(reopened(false, 2));
    let ticket = state_after(events);
    assert!(!ticket.free_rework);
    assert_eq!(ticket.chargeable(), Some(true));
}

#[test]
fn the_refusal_after_the_guarantee_names_the_window_and_the_new_ticket() {
    let error = TicketError::RepairGuaranteeEnded {
        delivered_on: date(2025, 12, 19),
        days: 90,
    };
    assert_eq!(
        error.to_string(),
        "the repair guarantee of 90 days after the repair reached the customer (delivered, \
         or fixed remotely) on 2025-12-19 has ended: the same fault is a new ticket \
         (ReceiveTicket with refers_to naming this one)"
    );
}

#[test]
fn a_new_ticket_refers_to_the_old_one() {
    let mut command = receive();
    command.refers_to = Some(label("T-1001"));
    framework()
        .given_no_previous_events()
        .when(by(
            Role::CustomerService,
            TicketCommand::ReceiveTicket(command.clone()),
        ))
        .then_expect_events(vec![received_event(command)]);
    let mut again = receive();
    again.refers_to = Some(label("T-1001"));
    let ticket = state_after(vec![received_event(again)]);
    assert_eq!(ticket.refers_to, Some(label("T-1001")));
    assert_eq!(ticket.status, TicketStatus::Received);
}
