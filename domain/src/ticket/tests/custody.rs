//! Custody of the item: taken in against a receipt with its condition
//! noted, handed back when the receipt is reclaimed.

use super::fixtures::*;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::custody::Custody;
use crate::ticket::{TicketError, TicketStatus};

#[test]
fn customer_service_takes_the_item_in_against_a_receipt() {
    framework()
        .given(vec![received()])
        .when(by(
            Role::CustomerService,
            TicketCommand::TakeInItem(take_in()),
        ))
        .then_expect_events(vec![taken_in()]);
}

#[test]
fn an_item_already_in_custody_is_not_taken_in_again() {
    framework()
        .given(vec![received(), taken_in()])
        .when(by(
            Role::CustomerService,
            TicketCommand::TakeInItem(take_in()),
        ))
        .then_expect_error(TicketError::AlreadyInCustody {
            receipt_number: label("R-0001"),
        });
}

#[test]
fn the_item_is_handed_back_against_its_receipt_after_qc() {
    let mut given = warranty_repair_until_qc_passed();
    given.insert(1, taken_in());
    framework()
        .given(given)
        .when(by(Role::CustomerService, hand_back("R-0001")))
        .then_expect_events(vec![handed_back()]);
}

#[test]
fn another_receipt_does_not_reclaim_the_item() {
    let mut given = warranty_repair_until_qc_passed();
    given.insert(1, taken_in());
    framework()
        .given(given)
        .when(by(Role::CustomerService, hand_back("R-9999")))
        .then_expect_error(TicketError::ReceiptMismatch {
            given: label("R-9999"),
            issued: label("R-0001"),
        });
}

#[test]
fn an_item_not_taken_in_is_not_handed_back() {
    framework()
        .given(warranty_repair_until_qc_passed())
        .when(by(Role::CustomerService, hand_back("R-0001")))
        .then_expect_error(TicketError::NotInCustody);
}

#[test]
fn the_item_is_not_handed_back_in_the_middle_of_its_repair() {
    framework()
        .given(vec![received(), taken_in(), in_warranty(), diagnosed()])
        .when(by(Role::CustomerService, hand_back("R-0001")))
        .then_expect_error(TicketError::NotAllowed {
            command: CommandKind::HandBackItem,
            status: TicketStatus::Diagnosed,
        });
}

#[test]
fn a_cancelled_tickets_item_still_goes_back_to_its_owner() {
    framework()
        .given(vec![received(), taken_in(), cancelled()])
        .when(by(Role::CustomerService, hand_back("R-0001")))
        .then_expect_events(vec![handed_back()]);
}

#[test]
fn a_ticket_is_not_closed_while_the_item_is_in_custody() {
    let given = vec![
        received(),
        in_warranty(),
        diagnosed_with(crate::ticket::types::RepairPath::RemoteFix),
        taken_in(),
        resolved_remotely(),
        revisited(true),
    ];
    framework()
        .given(given)
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_error(TicketError::ItemInCustody {
            receipt_number: label("R-0001"),
        });
}

#[test]
fn custody_follows_the_item_to_the_factory_and_back_and_ends_when_shipped() {
    let at_factory = state_after(vec![
        received(),
        taken_in(),
        in_warranty(),
        diagnosed(),
        sent_to_factory(),
    ]);
    let custody = at_factory.custody.clone().expect("in custody");
    assert_eq!(custody.location, label("Ningbo plant"));
    assert_eq!(custody.since, now());
    let back = Custody::step(
        Some(custody),
        &returned_from_factory(crate::ticket::types::FactoryOutcome::Repaired),
    )
    .expect("still in custody");
    assert_eq!(back.location, label("Hangzhou service point"));
    assert_eq!(Custody::step(Some(back), &shipped(false)), None);
}
