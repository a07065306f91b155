//! The main path: received → diagnosed → quoted → approved → repaired →
//! QC passed → shipped → revisited → closed.

use super::fixtures::*;
use crate::money::Money;
use crate::policy::ApprovalTier;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::types::*;
use crate::ticket::{TicketError, TicketEvent, TicketStatus};
use crate::values::{Hours, Quantity};

#[test]
fn customer_service_receives_a_ticket() {
    framework()
        .given_no_previous_events()
        .when(by(
            Role::CustomerService,
            TicketCommand::ReceiveTicket(receive()),
        ))
        .then_expect_events(vec![received()]);
}

#[test]
fn a_ticket_cannot_be_received_twice() {
    framework()
        .given(vec![received()])
        .when(by(
            Role::CustomerService,
            TicketCommand::ReceiveTicket(receive()),
        ))
        .then_expect_error(TicketError::AlreadyReceived);
}

#[test]
fn sales_vp_approves_a_quote_of_5000() {
    framework()
        .given(vec![
            received(),
            out_of_warranty(),
            diagnosed(),
            quoted_event(500_000, ApprovalTier::Tier3),
        ])
        .when(by(Role::SalesVp, TicketCommand::ApproveQuote))
        .then_expect_events(vec![quote_approved(
            500_000,
            ApprovalTier::Tier3,
            Role::SalesVp,
        )]);
}

#[test]
fn repair_never_starts_before_the_customer_accepts_a_chargeable_quote() {
    framework()
        .given(chargeable_quote_approved(50_000, ApprovalTier::Tier1))
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .then_expect_error(TicketError::CustomerAcceptanceRequired {
            command: CommandKind::RecordRepair,
            status: TicketStatus::QuoteApproved,
        });
}

#[test]
fn nothing_but_reopen_follows_close() {
    framework()
        .given(closed_warranty_repair())
        .when(by(
            Role::CustomerService,
            TicketCommand::CancelTicket {
                reason: text("changed mind"),
            },
        ))
        .then_expect_error(TicketError::NotAllowed {
            command: CommandKind::CancelTicket,
            status: TicketStatus::Closed,
        });
}

#[test]
fn closing_after_a_resolved_revisit_records_ticket_closed() {
    let mut given = warranty_repair_until_qc_passed();
    given.extend([shipped(false), delivered(), revisited(true)]);
    framework()
        .given(given)
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_events(vec![TicketEvent::TicketClosed { at: now() }]);
}

#[test]
fn warranty_is_counted_from_the_purchase_date_on_the_receipt() {
    framework()
        .given(vec![received()])
        .when(by(
            Role::CustomerService,
            TicketCommand::DetermineWarranty(DetermineWarranty {
                service_contract: false,
            }),
        ))
        .then_expect_events(vec![in_warranty()]);
}

#[test]
fn technician_diagnoses_a_received_ticket() {
    framework()
        .given(vec![received(), in_warranty()])
        .when(by(
            Role::Technician,
            TicketCommand::DiagnoseFault(diagnose(
                RootCause::Manufacturing,
                false,
                RepairPath::WorkshopRepair,
            )),
        ))
        .then_expect_events(vec![diagnosed()]);
}

#[test]
fn technician_quotes_an_out_of_warranty_repair() {
    framework()
        .given(vec![received(), out_of_warranty(), diagnosed()])
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(quote_of(50_000)),
        ))
        .then_expect_events(vec![quoted_event(50_000, ApprovalTier::Tier1)]);
}

#[test]
fn quote_total_is_the_sum_of_every_line() {
    let lines = vec![
        QuoteLine::Parts {
            part_number: part("MTR-100"),
            quantity: Quantity::new(2).expect("qty"),
            unit_price: Money::cny(12_000),
        },
        QuoteLine::Labour {
            hours: Hours::from_minutes(90).expect("hours"),
            hourly_rate: Money::cny(8_000),
        },
        QuoteLine::Travel {
            amount: Money::cny(5_000),
        },
        QuoteLine::Shipping {
            amount: Money::cny(2_000),
        },
        QuoteLine::FactoryRepairFee {
            amount: Money::cny(10_000),
        },
        QuoteLine::ExpediteFee {
            amount: Money::cny(1_000),
        },
    ];
    framework()
        .given(vec![received(), out_of_warranty(), diagnosed()])
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(QuoteRepair {
                lines: lines.clone(),
                valid_until: date(2026, 4, 20),
            }),
        ))
        .then_expect_events(vec![TicketEvent::RepairQuoted {
            lines,
            total: Money::cny(24_000 + 12_000 + 5_000 + 2_000 + 10_000 + 1_000),
            tier: ApprovalTier::Tier1,
            valid_until: date(2026, 4, 20),
            rule: Some(rule(ApprovalTier::Tier1)),
            at: now(),
        }]);
}

#[test]
fn service_manager_approves_a_quote_of_500() {
    framework()
        .given(chargeable_quoted(50_000, ApprovalTier::Tier1))
        .when(by(Role::ServiceManager, TicketCommand::ApproveQuote))
        .then_expect_events(vec![quote_approved(
            50_000,
            ApprovalTier::Tier1,
            Role::ServiceManager,
        )]);
}

#[test]
fn customer_service_records_that_the_customer_accepts_the_quote() {
    framework()
        .given(chargeable_quote_approved(50_000, ApprovalTier::Tier1))
        .when(by(Role::CustomerService, TicketCommand::AcceptQuote))
        .then_expect_events(vec![accepted()]);
}

#[test]
fn technician_repairs_once_the_customer_accepted() {
    framework()
        .given(chargeable_accepted())
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .then_expect_events(vec![repaired()]);
}

#[test]
fn qc_inspector_passes_a_repaired_item() {
    let mut given = chargeable_accepted();
    given.push(repaired());
    framework()
        .given(given)
        .when(by(Role::QcInspector, TicketCommand::PassQc))
        .then_expect_events(vec![qc_passed()]);
}

#[test]
fn technician_ships_an_item_that_passed_qc() {
    framework()
        .given(chargeable_repair_until_qc_passed())
        .when(by(Role::Technician, TicketCommand::ShipItem(ship())))
        .then_expect_events(vec![shipped(false)]);
}

#[test]
fn customer_service_confirms_the_customer_signed_for_the_item() {
    let mut given = chargeable_repair_until_qc_passed();
    given.push(shipped(false));
    framework()
        .given(given)
        .when(by(Role::CustomerService, confirm_delivery()))
        .then_expect_events(vec![delivered()]);
}

#[test]
fn customer_service_records_a_resolved_revisit() {
    let mut given = warranty_repair_until_qc_passed();
    given.extend([shipped(false), delivered()]);
    framework()
        .given(given)
        .when(by(
            Role::CustomerService,
            TicketCommand::RecordRevisit(revisit(true)),
        ))
        .then_expect_events(vec![revisited(true)]);
}

#[test]
fn revisit_records_the_average_score_and_whether_the_customer_is_satisfied() {
    let mut given = warranty_repair_until_qc_passed();
    given.extend([shipped(false), delivered()]);
    let satisfaction = Satisfaction {
        attitude: SatisfactionLevel::Satisfied,
        skill: SatisfactionLevel::Satisfied,
        arrival_time: SatisfactionLevel::Fair,
        promises_kept: SatisfactionLevel::Satisfied,
    };
    framework()
        .given(given)
        .when(by(
            Role::CustomerService,
            TicketCommand::RecordRevisit(RecordRevisit {
                satisfaction,
                comment: Some(text("came late")),
                resolved: true,
            }),
        ))
        .then_expect_events(vec![TicketEvent::CustomerRevisited {
            by: id("cs-1"),
            satisfaction,
            average_score: 78,
            satisfied: false,
            comment: Some(text("came late").into()),
            resolved: true,
            at: now(),
        }]);
}

#[test]
fn a_paid_chargeable_repair_closes_after_a_resolved_revisit() {
    let mut given = chargeable_repair_until_qc_passed();
    given.extend([
        shipped(false),
        delivered(),
        invoiced(50_000),
        paid(50_000),
        revisited(true),
    ]);
    framework()
        .given(given)
        .when(by(Role::ServiceManager, TicketCommand::CloseTicket))
        .then_expect_events(vec![closed()]);
}
