//! The branches of DOMAIN.md §2 around a running or finished repair: QC
//! rework, repair cycle extension, reopen, cancel and escalation.

use super::fixtures::*;
use crate::policy::ApprovalTier;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::types::*;
use crate::ticket::{TicketError, TicketStatus};

// --- QC fails -----------------------------------------------------------------

#[test]
fn first_qc_failure_is_rework_1() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed(), repaired()])
        .when(by(Role::QcInspector, fail_qc()))
        .then_expect_events(vec![qc_failed(1)]);
}

#[test]
fn second_qc_failure_is_rework_2() {
    framework()
        .given(vec![
            received(),
            in_warranty(),
            diagnosed(),
            repaired(),
            qc_failed(1),
            repaired(),
        ])
        .when(by(Role::QcInspector, fail_qc()))
        .then_expect_events(vec![qc_failed(2)]);
}

#[test]
fn a_failed_item_goes_back_to_repair() {
    framework()
        .given(vec![
            received(),
            in_warranty(),
            diagnosed(),
            repaired(),
            qc_failed(1),
        ])
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .then_expect_events(vec![repaired()]);
}

#[test]
fn rework_counting_starts_again_in_a_new_cycle() {
    let mut given = vec![
        received(),
        in_warranty(),
        diagnosed(),
        repaired(),
        qc_failed(1),
        repaired(),
        qc_passed(),
    ];
    given.extend([
        shipped(false),
        delivered(),
        revisited(false),
        reopened(true, 2),
        diagnosed(),
        repaired(),
    ]);
    framework()
        .given(given)
        .when(by(Role::QcInspector, fail_qc()))
        .then_expect_events(vec![qc_failed(1)]);
}

// --- repair cycle extended -------------------------------------------------------

#[test]
fn service_manager_extends_the_repair_cycle_after_telling_the_customer() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(
            Role::ServiceManager,
            TicketCommand::ExtendRepairCycle(extend(date(2026, 4, 10))),
        ))
        .then_expect_events(vec![extended(None, date(2026, 4, 10))]);
}

#[test]
fn a_second_extension_records_the_previous_due_date() {
    framework()
        .given(vec![
            received(),
            in_warranty(),
            diagnosed(),
            extended(None, date(2026, 4, 10)),
        ])
        .when(by(
            Role::ServiceManager,
            TicketCommand::ExtendRepairCycle(extend(date(2026, 4, 20))),
        ))
        .then_expect_events(vec![extended(Some(date(2026, 4, 10)), date(2026, 4, 20))]);
}

#[test]
fn the_cycle_may_be_extended_while_the_item_is_at_the_factory() {
    framework()
        .given(at_factory())
        .when(by(
            Role::ServiceManager,
            TicketCommand::ExtendRepairCycle(extend(date(2026, 4, 10))),
        ))
        .then_expect_events(vec![extended(None, date(2026, 4, 10))]);
}

// --- reopen -----------------------------------------------------------------------

#[test]
fn a_closed_ticket_is_reopened_in_cycle_2_when_the_fault_returns() {
    framework()
        .given(closed_warranty_repair())
        .when(by(
            Role::CustomerService,
            TicketCommand::ReopenTicket(reopen(true)),
        ))
        .then_expect_events(vec![reopened(true, 2)]);
}

#[test]
fn an_unresolved_revisit_is_reopened() {
    let mut given = warranty_repair_until_qc_passed();
    given.extend([shipped(false), delivered(), revisited(false)]);
    framework()
        .given(given)
        .when(by(
            Role::ServiceManager,
            TicketCommand::ReopenTicket(reopen(false)),
        ))
        .then_expect_events(vec![reopened(false, 2)]);
}

#[test]
fn a_second_reopen_starts_cycle_3() {
    let mut given = closed_warranty_repair();
    given.push(reopened(true, 2));
    given.extend([
        diagnosed(),
        repaired(),
        qc_passed(),
        shipped(false),
        delivered(),
        revisited(true),
        closed(),
    ]);
    framework()
        .given(given)
        .when(by(
            Role::CustomerService,
            TicketCommand::ReopenTicket(reopen(true)),
        ))
        .then_expect_events(vec![reopened(true, 3)]);
}

#[test]
fn a_reopened_ticket_is_diagnosed_again() {
    let mut given = closed_warranty_repair();
    given.push(reopened(true, 2));
    framework()
        .given(given)
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
fn a_reopened_ticket_may_be_dispatched_again() {
    let mut given = closed_warranty_repair();
    given.push(reopened(true, 2));
    framework()
        .given(given)
        .when(by(
            Role::ServiceManager,
            TicketCommand::DispatchTechnician(dispatch()),
        ))
        .then_expect_events(vec![dispatched()]);
}

// --- cancel -------------------------------------------------------------------------

#[test]
fn customer_service_cancels_with_a_reason() {
    framework()
        .given(vec![received()])
        .when(by(Role::CustomerService, cancel()))
        .then_expect_events(vec![cancelled()]);
}

#[test]
fn a_quoted_ticket_may_be_cancelled_before_the_customer_accepts() {
    framework()
        .given(chargeable_quote_approved(50_000, ApprovalTier::Tier1))
        .when(by(Role::ServiceManager, cancel()))
        .then_expect_events(vec![cancelled()]);
}

#[test]
fn nothing_follows_cancel_not_even_reopen() {
    framework()
        .given(vec![received(), cancelled()])
        .when(by(
            Role::CustomerService,
            TicketCommand::ReopenTicket(reopen(false)),
        ))
        .then_expect_error(TicketError::NotAllowed {
            command: CommandKind::ReopenTicket,
            status: TicketStatus::Cancelled,
        });
}

#[test]
fn a_cancelled_ticket_cannot_be_escalated() {
    framework()
        .given(vec![received(), cancelled()])
        .when(by(Role::CustomerService, escalate()))
        .then_expect_error(TicketError::NotAllowed {
            command: CommandKind::EscalateTicket,
            status: TicketStatus::Cancelled,
        });
}

// --- escalate ----------------------------------------------------------------------

#[test]
fn a_ticket_is_escalated_to_the_general_manager() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(Role::Technician, escalate()))
        .then_expect_events(vec![escalated()]);
}

#[test]
fn a_ticket_is_escalated_only_once_per_cycle() {
    framework()
        .given(vec![received(), escalated()])
        .when(by(Role::ServiceManager, escalate()))
        .then_expect_error(TicketError::AlreadyEscalated);
}

#[test]
fn a_reopened_ticket_may_be_escalated_again() {
    let mut given = closed_warranty_repair();
    given.insert(1, escalated());
    given.push(reopened(true, 2));
    framework()
        .given(given)
        .when(by(Role::CustomerService, escalate()))
        .then_expect_events(vec![escalated()]);
}
