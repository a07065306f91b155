//! Approval tiers (DOMAIN.md §5) for quoted prices and fee waivers, at the
//! exact boundaries 999.99 / 1,000.00 / 4,999.99 / 5,000.00 CNY.

use super::fixtures::*;
use crate::policy::ApprovalTier;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::TicketError;

fn approves_quote(fen: u32, tier: ApprovalTier, role: Role) {
    framework()
        .given(chargeable_quoted(fen, tier))
        .when(by(role, TicketCommand::ApproveQuote))
        .then_expect_events(vec![quote_approved(fen, tier, role)]);
}

fn may_not_approve_quote(fen: u32, tier: ApprovalTier, role: Role) {
    framework()
        .given(chargeable_quoted(fen, tier))
        .when(by(role, TicketCommand::ApproveQuote))
        .then_expect_error(TicketError::InsufficientAuthority {
            role,
            command: CommandKind::ApproveQuote,
            tier,
        });
}

/// A waiver of `waived` fen on a quote of `quoted` fen, approved by the
/// sales VP and not yet answered by the customer.
fn waives(quoted: u32, tier: ApprovalTier, waived: u32, role: Role) {
    framework()
        .given(chargeable_quote_approved(quoted, tier))
        .when(by(role, TicketCommand::ApproveFeeWaiver(waive(waived))))
        .then_expect_events(vec![waiver_approved(waived, tier, role)]);
}

fn may_not_waive(quoted: u32, tier: ApprovalTier, waived: u32, role: Role) {
    framework()
        .given(chargeable_quote_approved(quoted, tier))
        .when(by(role, TicketCommand::ApproveFeeWaiver(waive(waived))))
        .then_expect_error(TicketError::InsufficientAuthority {
            role,
            command: CommandKind::ApproveFeeWaiver,
            tier,
        });
}

// --- the quote's tier ------------------------------------------------------------

fn quoted_in_tier(fen: u32, tier: ApprovalTier) {
    framework()
        .given(vec![received(), out_of_warranty(), diagnosed()])
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(quote_of(fen)),
        ))
        .then_expect_events(vec![quoted_event(fen, tier)]);
}

#[test]
fn a_quote_of_999_99_is_tier_1() {
    quoted_in_tier(99_999, ApprovalTier::Tier1);
}

#[test]
fn a_quote_of_1000_is_tier_2() {
    quoted_in_tier(100_000, ApprovalTier::Tier2);
}

#[test]
fn a_quote_of_4999_99_is_tier_2() {
    quoted_in_tier(499_999, ApprovalTier::Tier2);
}

#[test]
fn a_quote_of_5000_is_tier_3() {
    quoted_in_tier(500_000, ApprovalTier::Tier3);
}

// --- approving the price ------------------------------------------------------------

#[test]
fn service_manager_approves_a_quote_of_999_99() {
    approves_quote(99_999, ApprovalTier::Tier1, Role::ServiceManager);
}

#[test]
fn service_manager_may_not_approve_a_quote_of_1000() {
    may_not_approve_quote(100_000, ApprovalTier::Tier2, Role::ServiceManager);
}

#[test]
fn service_manager_may_not_approve_a_quote_of_5000() {
    may_not_approve_quote(500_000, ApprovalTier::Tier3, Role::ServiceManager);
}

#[test]
fn sales_vp_approves_a_quote_of_999_99() {
    approves_quote(99_999, ApprovalTier::Tier1, Role::SalesVp);
}

#[test]
fn sales_vp_approves_a_quote_of_1000() {
    approves_quote(100_000, ApprovalTier::Tier2, Role::SalesVp);
}

#[test]
fn sales_vp_approves_a_quote_of_4999_99() {
    approves_quote(499_999, ApprovalTier::Tier2, Role::SalesVp);
}

#[test]
fn general_manager_approves_a_quote_of_999_99() {
    approves_quote(99_999, ApprovalTier::Tier1, Role::GeneralManager);
}

#[test]
fn general_manager_approves_a_quote_of_5000() {
    approves_quote(500_000, ApprovalTier::Tier3, Role::GeneralManager);
}

// --- waiving the fee ---------------------------------------------------------------

#[test]
fn service_manager_waives_a_fee_on_a_quote_of_999_99() {
    waives(99_999, ApprovalTier::Tier1, 99_999, Role::ServiceManager);
}

#[test]
fn waiver_on_a_quote_of_1000_needs_the_sales_vp() {
    may_not_waive(100_000, ApprovalTier::Tier2, 10_000, Role::ServiceManager);
}

#[test]
fn sales_vp_waives_a_fee_on_a_quote_of_1000() {
    waives(100_000, ApprovalTier::Tier2, 100_000, Role::SalesVp);
}

#[test]
fn sales_vp_waives_a_fee_on_a_quote_of_4999_99() {
    waives(499_999, ApprovalTier::Tier2, 499_999, Role::SalesVp);
}

#[test]
fn service_manager_may_not_waive_a_fee_on_a_quote_of_4999_99() {
    may_not_waive(499_999, ApprovalTier::Tier2, 10_000, Role::ServiceManager);
}

#[test]
fn waiver_of_5000_needs_general_manager() {
    may_not_waive(500_000, ApprovalTier::Tier3, 500_000, Role::SalesVp);
}

#[test]
fn even_a_small_waiver_on_a_quote_of_5000_needs_general_manager() {
    may_not_waive(500_000, ApprovalTier::Tier3, 100, Role::SalesVp);
}

#[test]
fn service_manager_may_not_waive_a_fee_on_a_quote_of_5000() {
    may_not_waive(500_000, ApprovalTier::Tier3, 10_000, Role::ServiceManager);
}

#[test]
fn general_manager_waives_a_fee_on_a_quote_of_5000() {
    waives(500_000, ApprovalTier::Tier3, 500_000, Role::GeneralManager);
}

#[test]
fn general_manager_waives_a_fee_on_a_quote_of_999_99() {
    waives(99_999, ApprovalTier::Tier1, 50_000, Role::GeneralManager);
}

// --- when a waiver may be approved -------------------------------------------------

#[test]
fn a_fee_may_be_waived_before_the_quote_is_approved() {
    framework()
        .given(chargeable_quoted(50_000, ApprovalTier::Tier1))
        .when(by(
            Role::ServiceManager,
            TicketCommand::ApproveFeeWaiver(waive(10_000)),
        ))
        .then_expect_events(vec![waiver_approved(
            10_000,
            ApprovalTier::Tier1,
            Role::ServiceManager,
        )]);
}

#[test]
fn a_fee_may_be_waived_after_the_customer_accepted() {
    framework()
        .given(chargeable_accepted())
        .when(by(
            Role::ServiceManager,
            TicketCommand::ApproveFeeWaiver(waive(10_000)),
        ))
        .then_expect_events(vec![waiver_approved(
            10_000,
            ApprovalTier::Tier1,
            Role::ServiceManager,
        )]);
}
