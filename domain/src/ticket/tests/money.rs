//! Invoices, payments and the balance that must be settled before close.

use cqrs_es::Aggregate;

use super::fixtures::*;
use crate::money::Money;
use crate::policy::ApprovalTier;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::types::*;
use crate::ticket::{TicketError, TicketEvent, TicketStatus};
use crate::values::Problem;

fn malformed(field: &str, message: &str) -> TicketError {
    TicketError::Invalid(Problem::Malformed(message.into()).at(field))
}

fn issue(fen: u32) -> Authored<TicketCommand> {
    by(Role::Finance, TicketCommand::IssueInvoice(invoice(fen)))
}

fn pay(fen: u32) -> Authored<TicketCommand> {
    by(Role::Finance, TicketCommand::RecordPayment(payment(fen)))
}

/// An accepted 500.00 repair, delivered and invoiced in full.
fn invoiced_and_delivered() -> Vec<TicketEvent> {
    let mut events = chargeable_repair_until_qc_passed();
    events.extend([shipped(false), delivered(), invoiced(50_000)]);
    events
}

// --- IssueInvoice ------------------------------------------------------------------

#[test]
fn finance_invoices_a_chargeable_repair_once_qc_passed() {
    framework()
        .given(chargeable_repair_until_qc_passed())
        .when(issue(50_000))
        .then_expect_events(vec![invoiced(50_000)]);
}

#[test]
fn finance_invoices_after_delivery() {
    let mut given = chargeable_repair_until_qc_passed();
    given.extend([shipped(false), delivered()]);
    framework()
        .given(given)
        .when(issue(50_000))
        .then_expect_events(vec![invoiced(50_000)]);
}

#[test]
fn finance_invoices_an_inspection_fee_after_a_declined_quote() {
    let mut given = chargeable_quote_approved(50_000, ApprovalTier::Tier1);
    given.push(declined());
    framework()
        .given(given)
        .when(issue(5_000))
        .then_expect_events(vec![invoiced(5_000)]);
}

#[test]
fn finance_invoices_an_out_of_warranty_remote_fix_in_the_policy_currency() {
    framework()
        .given(vec![
            received(),
            out_of_warranty(),
            diagnosed_with(RepairPath::RemoteFix),
            resolved_remotely(),
        ])
        .when(issue(8_000))
        .then_expect_events(vec![invoiced(8_000)]);
}

#[test]
fn an_in_warranty_repair_is_not_invoiced() {
    framework()
        .given(warranty_repair_until_qc_passed())
        .when(issue(50_000))
        .then_expect_error(TicketError::NotChargeable);
}

#[test]
fn a_remote_fix_without_a_warranty_decision_is_not_invoiced() {
    framework()
        .given(vec![
            received(),
            diagnosed_with(RepairPath::RemoteFix),
            resolved_remotely(),
        ])
        .when(issue(8_000))
        .then_expect_error(TicketError::WarrantyNotDetermined {
            command: CommandKind::IssueInvoice,
            status: TicketStatus::ResolvedRemotely,
        });
}

#[test]
fn a_ticket_is_invoiced_once_per_cycle() {
    framework()
        .given(invoiced_and_delivered())
        .when(issue(10_000))
        .then_expect_error(TicketError::AlreadyInvoiced);
}

#[test]
fn a_reopened_ticket_may_be_invoiced_again() {
    let mut given = invoiced_and_delivered();
    given.extend([
        paid(50_000),
        revisited(true),
        closed(),
        reopened(false, 2),
        diagnosed_misuse(),
    ]);
    given.extend([
        quoted_event(20_000, ApprovalTier::Tier1),
        quote_approved(20_000, ApprovalTier::Tier1, Role::SalesVp),
    ]);
    given.extend([accepted(), repaired(), qc_passed()]);
    framework()
        .given(given)
        .when(issue(20_000))
        .then_expect_events(vec![invoiced(20_000)]);
}

#[test]
fn an_invoice_is_not_issued_before_the_repair() {
    framework()
        .given(chargeable_accepted())
        .when(issue(50_000))
        .then_expect_error(TicketError::NotAllowed {
            command: CommandKind::IssueInvoice,
            status: TicketStatus::Accepted,
        });
}

#[test]
fn an_invoice_of_nothing_is_refused() {
    framework()
        .given(chargeable_repair_until_qc_passed())
        .when(issue(0))
        .then_expect_error(malformed("amount", "must be greater than zero"));
}

#[test]
fn an_invoice_in_another_currency_than_the_quote_is_refused() {
    framework()
        .given(chargeable_repair_until_qc_passed())
        .when(by(
            Role::Finance,
            TicketCommand::IssueInvoice(IssueInvoice {
                invoice_number: label("INV-2026-0001"),
                amount: usd(50_000),
            }),
        ))
        .then_expect_error(malformed("amount", "cannot combine USD with CNY"));
}

// --- RecordPayment ---------------------------------------------------------------

#[test]
fn finance_records_a_partial_payment() {
    framework()
        .given(invoiced_and_delivered())
        .when(pay(30_000))
        .then_expect_events(vec![paid(30_000)]);
}

#[test]
fn finance_records_the_rest_of_the_payment() {
    let mut given = invoiced_and_delivered();
    given.push(paid(30_000));
    framework()
        .given(given)
        .when(pay(20_000))
        .then_expect_events(vec![paid(20_000)]);
}

#[test]
fn no_payment_is_recorded_before_an_invoice() {
    framework()
        .given(chargeable_repair_until_qc_passed())
        .when(pay(50_000))
        .then_expect_error(TicketError::NotInvoiced {
            status: TicketStatus::QcPassed,
        });
}

#[test]
fn a_payment_of_nothing_is_refused() {
    framework()
        .given(invoiced_and_delivered())
        .when(pay(0))
        .then_expect_error(malformed("amount", "must be greater than zero"));
}

#[test]
fn a_payment_in_another_currency_is_refused() {
    framework()
        .given(invoiced_and_delivered())
        .when(by(
            Role::Finance,
            TicketCommand::RecordPayment(RecordPayment {
                amount: usd(50_000),
                reference: label("WX-0001"),
            }),
        ))
        .then_expect_error(malformed("amount", "cannot combine USD with CNY"));
}

#[test]
fn a_payment_over_the_outstanding_balance_is_refused() {
    let mut given = invoiced_and_delivered();
    given.push(paid(30_000));
    framework()
        .given(given)
        .when(pay(20_001))
        .then_expect_error(malformed(
            "amount",
            "must not exceed the outstanding 200.00 CNY",
        ));
}

#[test]
fn nothing_more_is_paid_once_settled() {
    let mut given = invoiced_and_delivered();
    given.push(paid(50_000));
    framework()
        .given(given)
        .when(pay(1))
        .then_expect_error(malformed(
            "amount",
            "must not exceed the outstanding 0.00 CNY",
        ));
}

// --- CloseTicket ---------------------------------------------------------------------

#[test]
fn a_ticket_with_an_outstanding_balance_does_not_close() {
    let mut given = invoiced_and_delivered();
    given.extend([paid(30_000), revisited(true)]);
    framework()
        .given(given)
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_error(TicketError::OutstandingBalance {
            outstanding: Money::cny(20_000),
        });
}

#[test]
fn a_ticket_closes_once_the_invoice_is_paid() {
    let mut given = invoiced_and_delivered();
    given.extend([paid(30_000), paid(20_000), revisited(true)]);
    framework()
        .given(given)
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_events(vec![closed()]);
}

#[test]
fn an_accepted_quote_never_invoiced_does_not_close() {
    let mut given = chargeable_repair_until_qc_passed();
    given.extend([shipped(false), delivered(), revisited(true)]);
    framework()
        .given(given)
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_error(TicketError::AcceptedQuoteNotInvoiced {
            agreed: Money::cny(50_000),
        });
}

#[test]
fn an_accepted_quote_partly_waived_still_needs_its_invoice_before_close() {
    let mut given = chargeable_repair_until_qc_passed();
    given.extend([
        waiver_approved(20_000, ApprovalTier::Tier1, Role::ServiceManager),
        shipped(false),
        delivered(),
        revisited(true),
    ]);
    framework()
        .given(given)
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_error(TicketError::AcceptedQuoteNotInvoiced {
            agreed: Money::cny(30_000),
        });
}

#[test]
fn an_accepted_quote_waived_in_full_by_its_tier_closes_without_an_invoice() {
    let mut given = chargeable_repair_until_qc_passed();
    given.extend([
        waiver_approved(50_000, ApprovalTier::Tier1, Role::ServiceManager),
        shipped(false),
        delivered(),
        revisited(true),
    ]);
    framework()
        .given(given)
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_events(vec![closed()]);
}

#[test]
fn a_payment_may_be_recorded_after_the_revisit() {
    let mut given = invoiced_and_delivered();
    given.push(revisited(true));
    framework()
        .given(given)
        .when(pay(50_000))
        .then_expect_events(vec![paid(50_000)]);
}

#[test]
fn an_unresolved_revisit_does_not_close() {
    let mut given = warranty_repair_until_qc_passed();
    given.extend([shipped(false), delivered(), revisited(false)]);
    framework()
        .given(given)
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_error(TicketError::UnresolvedRevisit);
}

/// Close refuses an unpaid balance, but cancel, the other end state, does
/// not: a reopened ticket with an unpaid invoice can be cancelled, and then
/// no payment can ever be recorded against it.
#[test]
fn a_ticket_with_an_outstanding_balance_is_not_cancelled() {
    let mut given = invoiced_and_delivered();
    given.extend([revisited(false), reopened(true, 2)]);
    framework()
        .given(given)
        .when(by(Role::CustomerService, cancel()))
        .then_expect_error(TicketError::OutstandingBalance {
            outstanding: Money::cny(50_000),
        });
}

// --- waivers against the current quote ---------------------------------------------------

/// A waiver was approved against one quote, then the repair was re-quoted
/// lower. The waiver must be dropped or re-checked: otherwise it exceeds the
/// quote it now applies to, which `ApproveFeeWaiver` itself never allows.
#[test]
fn a_lower_requote_does_not_leave_a_waiver_larger_than_the_quote() {
    let mut given = chargeable_quote_approved(80_000, ApprovalTier::Tier1);
    given.push(waiver_approved(
        60_000,
        ApprovalTier::Tier1,
        Role::ServiceManager,
    ));
    let mut ticket = state_after(given);
    let requoted = ticket
        .decide(
            by(
                Role::Technician,
                TicketCommand::QuoteRepair(quote_of(30_000)),
            ),
            now(),
            &Default::default(),
            &crate::timing::TimingPolicy::STANDARD,
        )
        .expect("a re-quote is allowed while approved");
    ticket.apply(requoted);
    let total = ticket
        .quote
        .as_ref()
        .map(|q| q.total.minor())
        .expect("quoted");
    let waived = ticket.waiver.as_ref().map_or(0, Money::minor);
    assert!(
        waived <= total,
        "waiver {waived} exceeds quote total {total}"
    );
}
