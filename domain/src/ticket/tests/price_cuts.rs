//! No price cut without approval (DOMAIN.md §5; 000 第四篇 十): the invoice
//! equals the accepted quote less the cycle's approved waivers.

use super::fixtures::*;
use crate::money::Money;
use crate::policy::ApprovalTier;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::{TicketError, TicketEvent};
use crate::values::Problem;

fn issue(fen: u32) -> Authored<TicketCommand> {
    by(Role::Finance, TicketCommand::IssueInvoice(invoice(fen)))
}

/// An out-of-warranty repair quoted at 1,500.00 (tier 2), approved,
/// accepted, repaired and through QC.
fn accepted_1500_through_qc() -> Vec<TicketEvent> {
    let mut events = chargeable_quote_approved(150_000, ApprovalTier::Tier2);
    events.extend([accepted(), repaired(), qc_passed()]);
    events
}

fn waived(fen: u32) -> TicketEvent {
    waiver_approved(fen, ApprovalTier::Tier2, Role::SalesVp)
}

#[test]
fn an_invoice_of_the_accepted_quote_less_the_waiver_is_issued() {
    let mut given = accepted_1500_through_qc();
    given.push(waived(20_000));
    framework()
        .given(given)
        .when(issue(130_000))
        .then_expect_events(vec![invoiced(130_000)]);
}

#[test]
fn an_invoice_of_300_against_a_1500_quote_with_200_waived_is_refused() {
    let mut given = accepted_1500_through_qc();
    given.push(waived(20_000));
    framework()
        .given(given)
        .when(issue(30_000))
        .then_expect_error(TicketError::PriceCutWithoutApproval {
            amount: Money::cny(30_000),
            expected: Money::cny(130_000),
            difference: Money::cny(100_000),
        });
}

#[test]
fn an_invoice_above_the_accepted_quote_is_refused() {
    framework()
        .given(accepted_1500_through_qc())
        .when(issue(160_000))
        .then_expect_error(TicketError::InvoiceAboveQuote {
            amount: Money::cny(160_000),
            expected: Money::cny(150_000),
        });
}

#[test]
fn waivers_of_one_cycle_add_up() {
    let mut given = accepted_1500_through_qc();
    given.extend([waived(20_000), waived(100_000)]);
    framework()
        .given(given)
        .when(issue(30_000))
        .then_expect_events(vec![invoiced(30_000)]);
}

#[test]
fn a_fee_is_waived_after_qc_before_the_invoice() {
    framework()
        .given(accepted_1500_through_qc())
        .when(by(
            Role::SalesVp,
            TicketCommand::ApproveFeeWaiver(waive(100_000)),
        ))
        .then_expect_events(vec![waived(100_000)]);
}

#[test]
fn waivers_together_may_not_exceed_the_quoted_total() {
    let mut given = accepted_1500_through_qc();
    given.push(waived(100_000));
    framework()
        .given(given)
        .when(by(
            Role::SalesVp,
            TicketCommand::ApproveFeeWaiver(waive(60_000)),
        ))
        .then_expect_error(TicketError::Invalid(
            Problem::Malformed(
                "must not exceed 500.00 CNY, the quoted total 1500.00 CNY less the waivers \
                 already approved"
                    .into(),
            )
            .at("amount"),
        ));
}

#[test]
fn no_fee_is_waived_once_the_cycle_is_invoiced() {
    let mut given = accepted_1500_through_qc();
    given.push(invoiced(150_000));
    framework()
        .given(given)
        .when(by(
            Role::SalesVp,
            TicketCommand::ApproveFeeWaiver(waive(10_000)),
        ))
        .then_expect_error(TicketError::AlreadyInvoiced);
}

#[test]
fn the_agreed_price_is_none_until_the_customer_accepts() {
    let quoted = state_after(chargeable_quote_approved(150_000, ApprovalTier::Tier2));
    assert_eq!(quoted.agreed_price(), None);
    let mut events = accepted_1500_through_qc();
    events.push(waived(20_000));
    assert_eq!(
        state_after(events).agreed_price(),
        Some(Money::cny(130_000))
    );
}
