//! Folding events into the state with `Aggregate::apply`: status, counters,
//! the cycle and the balance.

use cqrs_es::Aggregate;

use super::fixtures::*;
use crate::money::Money;
use crate::policy::ApprovalTier;
use crate::roles::Role;
use crate::ticket::types::*;
use crate::ticket::{Ticket, TicketEvent, TicketStatus};

/// Applies `events` one by one and returns the status after each.
fn statuses(events: Vec<TicketEvent>) -> Vec<TicketStatus> {
    let mut ticket = Ticket::default();
    events
        .into_iter()
        .map(|event| {
            ticket.apply(event);
            ticket.status
        })
        .collect()
}

#[test]
fn a_new_ticket_has_no_events_and_is_new() {
    let ticket = Ticket::default();
    assert_eq!(ticket.status, TicketStatus::New);
    assert_eq!(ticket.version, 0);
    assert_eq!(ticket.cycle, 0);
    assert_eq!(ticket.outstanding(), None);
    assert_eq!(ticket.chargeable(), None);
}

#[test]
fn the_main_path_moves_through_every_status() {
    let mut events = chargeable_repair_until_qc_passed();
    events.extend([
        shipped(false),
        delivered(),
        invoiced(50_000),
        paid(50_000),
        revisited(true),
        closed(),
    ]);
    use TicketStatus as S;
    assert_eq!(
        statuses(events),
        vec![
            S::Received,
            S::Received, // warranty determined
            S::Diagnosed,
            S::Quoted,
            S::QuoteApproved,
            S::Accepted,
            S::Repaired,
            S::QcPassed,
            S::Shipped,
            S::Delivered,
            S::Delivered, // invoiced
            S::Delivered, // paid
            S::Revisited,
            S::Closed,
        ]
    );
}

#[test]
fn branch_events_move_to_their_statuses() {
    use TicketStatus as S;
    assert_eq!(
        statuses(vec![
            received(),
            dispatched(),
            arrived(),
            diagnosed_with(RepairPath::RemoteFix),
            resolved_remotely()
        ]),
        vec![
            S::Received,
            S::Dispatched,
            S::OnSite,
            S::Diagnosed,
            S::ResolvedRemotely
        ]
    );
    assert_eq!(
        statuses(vec![
            received(),
            in_warranty(),
            diagnosed(),
            sent_to_factory(),
            returned_from_factory(FactoryOutcome::ExchangeAgreed),
            exchange_shipped(),
        ]),
        vec![
            S::Received,
            S::Received,
            S::Diagnosed,
            S::AtFactory,
            S::ExchangeApproved,
            S::Shipped
        ]
    );
    assert_eq!(
        statuses(vec![
            complaint_received(),
            routed_complaint()[1].clone(),
            complaint_replied()
        ]),
        vec![S::Received, S::ComplaintRouted, S::ComplaintReplied]
    );
    assert_eq!(
        statuses(vec![received(), escalated(), cancelled()]),
        vec![S::Received, S::Received, S::Cancelled]
    );
}

#[test]
fn a_factory_return_moves_to_the_status_of_its_outcome() {
    for (outcome, status) in [
        (FactoryOutcome::Repaired, TicketStatus::Repaired),
        (
            FactoryOutcome::ExchangeAgreed,
            TicketStatus::ExchangeApproved,
        ),
        (FactoryOutcome::Refused, TicketStatus::Diagnosed),
    ] {
        let ticket = state_after(back_from_factory(outcome));
        assert_eq!(ticket.status, status, "{outcome}");
    }
}

#[test]
fn a_factory_repair_counts_as_a_repair_and_a_refusal_does_not() {
    let repaired_there = state_after(back_from_factory(FactoryOutcome::Repaired));
    assert_eq!(repaired_there.repairs, 1);
    let refused = state_after(back_from_factory(FactoryOutcome::Refused));
    assert_eq!(refused.repairs, 0);
}

#[test]
fn rework_is_counted_per_failed_qc() {
    let mut ticket = state_after(vec![received(), in_warranty(), diagnosed(), repaired()]);
    assert_eq!(ticket.rework_count, 0);
    ticket.apply(qc_failed(1));
    assert_eq!(
        (ticket.status, ticket.rework_count),
        (TicketStatus::QcFailed, 1)
    );
    ticket.apply(repaired());
    ticket.apply(qc_failed(2));
    assert_eq!(ticket.rework_count, 2);
    ticket.apply(repaired());
    ticket.apply(qc_passed());
    assert_eq!(
        (ticket.repairs, ticket.qc_passes, ticket.rework_count),
        (3, 1, 2)
    );
}

#[test]
fn the_cycle_starts_at_1_and_counts_reopens() {
    let mut ticket = state_after(closed_warranty_repair());
    assert_eq!(ticket.cycle, 1);
    ticket.apply(reopened(true, 2));
    assert_eq!((ticket.status, ticket.cycle), (TicketStatus::Reopened, 2));
}

#[test]
fn only_a_reopen_for_the_same_fault_counts_as_a_failed_repair() {
    let mut ticket = state_after(closed_warranty_repair());
    ticket.apply(reopened(false, 2));
    assert_eq!(ticket.failed_repairs, 0);
    ticket.apply(reopened(true, 3));
    ticket.apply(reopened(true, 4));
    assert_eq!(ticket.failed_repairs, 2);
}

#[test]
fn a_reopen_starts_a_clean_cycle_but_keeps_the_history() {
    let mut events = chargeable_accepted();
    events.insert(1, escalated());
    events.insert(
        5,
        waiver_approved(10_000, ApprovalTier::Tier1, Role::ServiceManager),
    );
    events.extend([
        extended(None, date(2026, 4, 10)),
        repaired(),
        qc_failed(1),
        repaired(),
        qc_passed(),
    ]);
    events.extend([
        shipped(false),
        delivered(),
        invoiced(40_000),
        revisited(false),
        reopened(true, 2),
    ]);
    let ticket = state_after(events);
    assert_eq!(ticket.diagnosis, None);
    assert_eq!(ticket.quote, None);
    assert_eq!(ticket.waiver, None);
    assert_eq!(ticket.rework_count, 0);
    assert!(!ticket.escalated);
    assert_eq!(ticket.due_on, None);
    assert!(!ticket.invoiced_this_cycle);
    assert_eq!(ticket.last_revisit_resolved, None);
    // What happened before stays.
    assert!(ticket.warranty.is_some());
    assert_eq!(ticket.invoiced, Some(Money::cny(40_000)));
    assert_eq!(ticket.outstanding(), Some(Money::cny(40_000)));
    assert_eq!(
        (ticket.repairs, ticket.qc_passes, ticket.failed_repairs),
        (2, 1, 1)
    );
}

#[test]
fn outstanding_is_invoiced_minus_paid() {
    let mut ticket = state_after(chargeable_repair_until_qc_passed());
    assert_eq!(ticket.outstanding(), None);
    ticket.apply(invoiced(50_000));
    assert_eq!(ticket.outstanding(), Some(Money::cny(50_000)));
    ticket.apply(paid(30_000));
    assert_eq!(ticket.outstanding(), Some(Money::cny(20_000)));
    ticket.apply(paid(20_000));
    assert_eq!(ticket.outstanding(), Some(Money::cny(0)));
}

#[test]
fn invoices_of_several_cycles_add_up() {
    let mut ticket = state_after(vec![
        received(),
        out_of_warranty(),
        invoiced(10_000),
        paid(10_000),
    ]);
    ticket.apply(reopened(false, 2));
    ticket.apply(invoiced(5_000));
    assert_eq!(ticket.invoiced, Some(Money::cny(15_000)));
    assert_eq!(ticket.outstanding(), Some(Money::cny(5_000)));
}

#[test]
fn the_customer_pays_out_of_warranty_or_for_misuse() {
    assert_eq!(
        state_after(vec![received(), diagnosed()]).chargeable(),
        None
    );
    assert_eq!(
        state_after(vec![received(), in_warranty(), diagnosed()]).chargeable(),
        Some(false)
    );
    assert_eq!(
        state_after(vec![received(), in_warranty(), diagnosed_misuse()]).chargeable(),
        Some(true)
    );
    assert_eq!(
        state_after(vec![received(), out_of_warranty(), diagnosed()]).chargeable(),
        Some(true)
    );
    assert_eq!(
        state_after(vec![received(), service_contract(), diagnosed()]).chargeable(),
        Some(false)
    );
}

#[test]
fn a_quote_and_its_approver_are_kept() {
    let ticket = state_after(chargeable_quote_approved(100_000, ApprovalTier::Tier2));
    let quote = ticket.quote.expect("quoted");
    assert_eq!(quote.total, Money::cny(100_000));
    assert_eq!(quote.tier, ApprovalTier::Tier2);
    assert_eq!(quote.approved_by, Some(id("vp-1")));
}

#[test]
fn a_revised_quote_needs_a_new_approver() {
    let mut events = chargeable_quote_approved(100_000, ApprovalTier::Tier2);
    events.push(quoted_event(90_000, ApprovalTier::Tier1));
    let quote = state_after(events).quote.expect("quoted");
    assert_eq!((quote.total, quote.approved_by), (Money::cny(90_000), None));
}

#[test]
fn an_unrepaired_shipment_is_remembered() {
    let mut events = chargeable_quote_approved(50_000, ApprovalTier::Tier1);
    events.extend([declined(), shipped(true)]);
    let ticket = state_after(events);
    assert_eq!(ticket.status, TicketStatus::Shipped);
    assert!(ticket.shipped_unrepaired);
}

#[test]
fn the_dispatched_then_diagnosing_technician_is_assigned() {
    let mut ticket = state_after(vec![received(), dispatched()]);
    assert_eq!(ticket.technician, Some(id("tech-2")));
    ticket.apply(arrived());
    ticket.apply(diagnosed());
    assert_eq!(ticket.technician, Some(id("tech-1")));
}

#[test]
fn events_that_change_no_status_still_count_towards_the_version() {
    let ticket = state_after(vec![
        received(),
        in_warranty(),
        escalated(),
        extended(None, date(2026, 4, 1)),
    ]);
    assert_eq!(ticket.status, TicketStatus::Received);
    assert_eq!(ticket.version, 4);
    assert!(ticket.escalated);
    assert_eq!(ticket.due_on, Some(date(2026, 4, 1)));
}

#[test]
fn reception_records_the_customer_product_and_time() {
    let ticket = state_after(vec![received()]);
    assert_eq!(ticket.kind, Some(TicketKind::Repair));
    assert_eq!(ticket.priority, Some(Priority::Normal));
    assert_eq!(ticket.received_at, Some(now()));
    assert_eq!(
        ticket.product.map(|p| p.purchased_on),
        Some(Some(date(2026, 1, 10)))
    );
    assert!(ticket.customer.is_some());
}
