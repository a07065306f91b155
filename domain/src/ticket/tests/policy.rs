//! The company's policy in force: decisions follow it, and record what they
//! used, so a later policy never changes what a recorded decision means.

use std::sync::Arc;

use cqrs_es::test::TestFramework;

use super::fixtures::*;
use crate::clock::FixedClock;
use crate::money::Money;
use crate::policy::{ApprovalTier, CountFrom, ProductLine, ProductLineTerms, WarrantyStatus};
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::types::RepairPath;
use crate::ticket::{Policies, TicketError, TicketEvent, TicketServices};

fn framework_with(policies: Policies) -> Framework {
    TestFramework::with(TicketServices::new(
        Arc::new(FixedClock::at(now())),
        policies,
    ))
}

/// The built-in policy with tier 2 starting at 2,000.00 instead of 1,000.00.
fn tier_2_from_2000() -> Policies {
    let mut p = Policies::builtin();
    p.approval.tiers[0].below = Some(Money::cny(200_000));
    p.approval.tiers[1].from = Money::cny(200_000);
    p
}

fn recorded(result: Vec<TicketEvent>) -> TicketEvent {
    result.into_iter().next().expect("one event")
}

#[test]
fn a_new_quote_follows_the_tiers_of_the_policy_in_force() {
    let mut rule = rule(ApprovalTier::Tier1);
    rule.below = Some(Money::cny(200_000));
    let mut expected = quoted_event(150_000, ApprovalTier::Tier1);
    if let TicketEvent::RepairQuoted { rule: r, .. } = &mut expected {
        *r = Some(rule);
    }

    framework_with(tier_2_from_2000())
        .given(vec![received(), out_of_warranty(), diagnosed()])
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(quote_of(150_000)),
        ))
        .then_expect_events(vec![expected]);
}

#[test]
fn a_quote_made_under_the_old_tiers_keeps_its_tier_and_its_approvers() {
    // Quoted at 1,500.00 under the built-in tiers: tier 2, the sales VP's.
    framework_with(tier_2_from_2000())
        .given(chargeable_quoted(150_000, ApprovalTier::Tier2))
        .when(by(Role::ServiceManager, TicketCommand::ApproveQuote))
        .then_expect_error(TicketError::InsufficientAuthority {
            role: Role::ServiceManager,
            command: CommandKind::ApproveQuote,
            tier: ApprovalTier::Tier2,
        });
}

#[test]
fn a_quote_recorded_before_policies_is_approved_by_the_built_in_rules() {
    let mut events = chargeable_quoted(50_000, ApprovalTier::Tier1);
    if let Some(TicketEvent::RepairQuoted { rule, .. }) = events.last_mut() {
        *rule = None;
    }
    let mut nobody_approves = Policies::builtin();
    nobody_approves.approval.tiers[0].approve_price = vec![Role::GeneralManager];

    framework_with(nobody_approves)
        .given(events)
        .when(by(Role::ServiceManager, TicketCommand::ApproveQuote))
        .then_expect_events(vec![quote_approved(
            50_000,
            ApprovalTier::Tier1,
            Role::ServiceManager,
        )]);
}

fn ten_year_washers() -> Policies {
    let mut p = Policies::builtin();
    let mut rates = p.costs.clone();
    rates.labour_per_hour = Money::cny(12_000);
    rates.travel_urban = Money::cny(9_900);
    p.warranty.product_lines.push(ProductLine {
        name: "washers".into(),
        line: Some("washer".into()),
        model_prefix: None,
        terms: ProductLineTerms {
            warranty_months: 120,
            count_from: CountFrom::Purchase,
            three_guarantees: true,
            repair_guarantee_days: 90,
        },
        costs: Some(rates),
    });
    p
}

#[test]
fn a_fault_in_year_five_of_a_ten_year_line_is_in_warranty_and_records_its_terms() {
    let five_years_old = received_event(receive_with(
        crate::ticket::types::TicketKind::Repair,
        product(Some(date(2021, 3, 1)), true),
    ));

    let events = framework_with(ten_year_washers())
        .given(vec![five_years_old])
        .when(by(
            Role::CustomerService,
            TicketCommand::DetermineWarranty(DetermineWarranty {
                service_contract: false,
            }),
        ))
        .inspect_result()
        .expect("decided");

    let TicketEvent::WarrantyDetermined { decision, .. } = recorded(events) else {
        panic!("a warranty decision");
    };
    assert_eq!(decision.status, WarrantyStatus::InWarranty);
    let applied = decision.applied.expect("terms recorded");
    assert_eq!(applied.product_line, "washers");
    assert_eq!(applied.terms.warranty_months, 120);
}

#[test]
fn a_repair_records_the_labour_rate_of_its_product_line() {
    let events = framework_with(ten_year_washers())
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .inspect_result()
        .expect("recorded");

    let TicketEvent::RepairRecorded { labour_rate, .. } = recorded(events) else {
        panic!("a repair");
    };
    assert_eq!(labour_rate, Some(Money::cny(12_000)));
}

#[test]
fn an_arrival_records_the_travel_cost_of_the_customers_region() {
    let events = framework_with(ten_year_washers())
        .given(vec![received(), dispatched(), dispatch_accepted()])
        .when(by(Role::Technician, TicketCommand::RecordArrival))
        .inspect_result()
        .expect("recorded");

    let TicketEvent::TechnicianArrived { travel_cost, .. } = recorded(events) else {
        panic!("an arrival");
    };
    assert_eq!(travel_cost, Some(Money::cny(9_900)));
}

/// A closed in-warranty repair delivered `days_ago` days before now.
fn delivered_days_ago(days_ago: i64) -> Vec<TicketEvent> {
    let mut events = closed_warranty_repair();
    for event in &mut events {
        if let TicketEvent::ItemDelivered { at, .. } = event {
            *at = now() - chrono::Duration::days(days_ago);
        }
    }
    events
}

#[test]
fn the_same_fault_within_the_repair_guarantee_reopens_the_ticket() {
    framework()
        .given(delivered_days_ago(90))
        .when(by(
            Role::CustomerService,
            TicketCommand::ReopenTicket(reopen(true)),
        ))
        .then_expect_events(vec![reopened(true, 2)]);
}

#[test]
fn the_same_fault_after_the_repair_guarantee_is_a_new_ticket() {
    framework()
        .given(delivered_days_ago(91))
        .when(by(
            Role::CustomerService,
            TicketCommand::ReopenTicket(reopen(true)),
        ))
        .then_expect_error(TicketError::RepairGuaranteeEnded {
            delivered_on: date(2025, 12, 19),
            days: 90,
        });
}

/// A closed in-warranty remote fix, resolved `days_ago` days before now.
fn fixed_remotely_days_ago(days_ago: i64) -> Vec<TicketEvent> {
    let mut fixed = resolved_remotely();
    if let TicketEvent::ResolvedRemotely { at, .. } = &mut fixed {
        *at = now() - chrono::Duration::days(days_ago);
    }
    vec![
        received(),
        in_warranty(),
        diagnosed_with(RepairPath::RemoteFix),
        fixed,
        revisited(true),
        closed(),
    ]
}

#[test]
fn a_remote_fix_is_guaranteed_from_the_day_it_was_fixed() {
    framework()
        .given(fixed_remotely_days_ago(90))
        .when(by(
            Role::CustomerService,
            TicketCommand::ReopenTicket(reopen(true)),
        ))
        .then_expect_events(vec![reopened(true, 2)]);
}

/// Before, a remote fix had no guarantee window at all: any same-fault
/// reopen, years later, was free rework.
#[test]
fn the_same_fault_after_a_remote_fixs_guarantee_is_a_new_ticket() {
    framework()
        .given(fixed_remotely_days_ago(91))
        .when(by(
            Role::CustomerService,
            TicketCommand::ReopenTicket(reopen(true)),
        ))
        .then_expect_error(TicketError::RepairGuaranteeEnded {
            delivered_on: date(2025, 12, 19),
            days: 90,
        });
}

#[test]
fn a_reopen_for_another_reason_is_not_bound_by_the_repair_guarantee() {
    framework()
        .given(delivered_days_ago(400))
        .when(by(
            Role::CustomerService,
            TicketCommand::ReopenTicket(reopen(false)),
        ))
        .then_expect_events(vec![reopened(false, 2)]);
}
