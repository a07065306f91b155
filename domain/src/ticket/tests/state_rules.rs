//! State rules with their own error: warranty not determined, quote not
//! needed, customer acceptance required, ship before QC, quote expired,
//! not a remote fix, not a complaint.

use super::fixtures::*;
use crate::policy::{ApprovalTier, ComplaintCategory};
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::types::*;
use crate::ticket::{TicketError, TicketEvent, TicketStatus};

// --- state rules with their own error ---------------------------------------------

#[test]
fn a_quote_needs_the_warranty_determined_first() {
    framework()
        .given(vec![received(), diagnosed()])
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(quote_of(50_000)),
        ))
        .then_expect_error(TicketError::WarrantyNotDetermined {
            command: CommandKind::QuoteRepair,
            status: TicketStatus::Diagnosed,
        });
}

#[test]
fn a_repair_needs_the_warranty_determined_first() {
    framework()
        .given(vec![received(), diagnosed()])
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .then_expect_error(TicketError::WarrantyNotDetermined {
            command: CommandKind::RecordRepair,
            status: TicketStatus::Diagnosed,
        });
}

#[test]
fn sending_to_the_factory_needs_the_warranty_determined_first() {
    framework()
        .given(vec![received(), diagnosed()])
        .when(by(
            Role::Technician,
            TicketCommand::SendToFactory(send_to_factory()),
        ))
        .then_expect_error(TicketError::WarrantyNotDetermined {
            command: CommandKind::SendToFactory,
            status: TicketStatus::Diagnosed,
        });
}

#[test]
fn an_in_warranty_repair_needs_no_quote() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(quote_of(50_000)),
        ))
        .then_expect_error(TicketError::QuoteNotNeeded);
}

#[test]
fn a_service_contract_repair_needs_no_quote() {
    framework()
        .given(vec![received(), service_contract(), diagnosed()])
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(quote_of(50_000)),
        ))
        .then_expect_error(TicketError::QuoteNotNeeded);
}

#[test]
fn an_out_of_warranty_repair_needs_a_quote_first() {
    framework()
        .given(vec![received(), out_of_warranty(), diagnosed()])
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .then_expect_error(TicketError::CustomerAcceptanceRequired {
            command: CommandKind::RecordRepair,
            status: TicketStatus::Diagnosed,
        });
}

#[test]
fn repair_never_starts_on_a_quote_not_yet_approved() {
    framework()
        .given(chargeable_quoted(50_000, ApprovalTier::Tier1))
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .then_expect_error(TicketError::CustomerAcceptanceRequired {
            command: CommandKind::RecordRepair,
            status: TicketStatus::Quoted,
        });
}

#[test]
fn nothing_goes_to_the_factory_before_the_customer_accepts() {
    framework()
        .given(chargeable_quote_approved(50_000, ApprovalTier::Tier1))
        .when(by(
            Role::Technician,
            TicketCommand::SendToFactory(send_to_factory()),
        ))
        .then_expect_error(TicketError::CustomerAcceptanceRequired {
            command: CommandKind::SendToFactory,
            status: TicketStatus::QuoteApproved,
        });
}

fn ship_before_qc(given: Vec<TicketEvent>, status: TicketStatus) {
    framework()
        .given(given)
        .when(by(Role::Technician, TicketCommand::ShipItem(ship())))
        .then_expect_error(TicketError::ShipBeforeQc { status });
}

#[test]
fn a_repaired_item_does_not_ship_before_qc() {
    ship_before_qc(
        vec![received(), in_warranty(), diagnosed(), repaired()],
        TicketStatus::Repaired,
    );
}

#[test]
fn an_item_that_failed_qc_does_not_ship() {
    ship_before_qc(
        vec![
            received(),
            in_warranty(),
            diagnosed(),
            repaired(),
            qc_failed(1),
        ],
        TicketStatus::QcFailed,
    );
}

#[test]
fn a_received_item_does_not_ship_before_qc() {
    ship_before_qc(vec![received()], TicketStatus::Received);
}

#[test]
fn an_accepted_item_does_not_ship_before_repair_and_qc() {
    ship_before_qc(chargeable_accepted(), TicketStatus::Accepted);
}

#[test]
fn an_item_at_the_factory_does_not_ship() {
    ship_before_qc(at_factory(), TicketStatus::AtFactory);
}

#[test]
fn an_exchange_approved_item_ships_the_replacement_not_the_item() {
    ship_before_qc(
        back_from_factory(FactoryOutcome::ExchangeAgreed),
        TicketStatus::ExchangeApproved,
    );
}

#[test]
fn a_quote_that_expired_yesterday_cannot_be_accepted() {
    framework()
        .given(vec![
            received(),
            out_of_warranty(),
            diagnosed(),
            quoted_until(50_000, ApprovalTier::Tier1, date(2026, 3, 19)),
            quote_approved(50_000, ApprovalTier::Tier1, Role::ServiceManager),
        ])
        .when(by(Role::CustomerService, TicketCommand::AcceptQuote))
        .then_expect_error(TicketError::QuoteExpired {
            valid_until: date(2026, 3, 19),
        });
}

#[test]
fn a_quote_valid_until_today_can_still_be_accepted() {
    framework()
        .given(vec![
            received(),
            out_of_warranty(),
            diagnosed(),
            quoted_until(50_000, ApprovalTier::Tier1, date(2026, 3, 20)),
            quote_approved(50_000, ApprovalTier::Tier1, Role::ServiceManager),
        ])
        .when(by(Role::CustomerService, TicketCommand::AcceptQuote))
        .then_expect_events(vec![accepted()]);
}

#[test]
fn an_expired_quote_may_still_be_declined() {
    framework()
        .given(vec![
            received(),
            out_of_warranty(),
            diagnosed(),
            quoted_until(50_000, ApprovalTier::Tier1, date(2026, 3, 19)),
            quote_approved(50_000, ApprovalTier::Tier1, Role::ServiceManager),
        ])
        .when(by(Role::CustomerService, decline()))
        .then_expect_events(vec![declined()]);
}

#[test]
fn a_workshop_repair_is_not_resolved_remotely() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(Role::Technician, resolve_remotely()))
        .then_expect_error(TicketError::NotRemoteFix {
            path: RepairPath::WorkshopRepair,
        });
}

#[test]
fn a_factory_return_is_not_resolved_remotely() {
    framework()
        .given(vec![
            received(),
            in_warranty(),
            diagnosed_with(RepairPath::ReturnToFactory),
        ])
        .when(by(Role::Technician, resolve_remotely()))
        .then_expect_error(TicketError::NotRemoteFix {
            path: RepairPath::ReturnToFactory,
        });
}

#[test]
fn a_repair_ticket_is_not_routed_as_a_complaint() {
    framework()
        .given(vec![received()])
        .when(by(
            Role::CustomerService,
            TicketCommand::RouteComplaint {
                category: ComplaintCategory::Other,
            },
        ))
        .then_expect_error(TicketError::NotAComplaint {
            kind: TicketKind::Repair,
        });
}

#[test]
fn an_inquiry_is_not_routed_as_a_complaint() {
    let inquiry = received_event(receive_with(TicketKind::Inquiry, product(None, false)));
    framework()
        .given(vec![inquiry])
        .when(by(
            Role::CustomerService,
            TicketCommand::RouteComplaint {
                category: ComplaintCategory::Other,
            },
        ))
        .then_expect_error(TicketError::NotAComplaint {
            kind: TicketKind::Inquiry,
        });
}
