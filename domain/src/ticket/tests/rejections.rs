//! Commands in the wrong state: refused with `NotAllowed`, naming the
//! command and the current status. Roles are in `permissions`, the rules
//! with their own error in `state_rules`, money in `money`, fields in
//! `validation`.

use super::fixtures::*;
use crate::policy::{ApprovalTier, ComplaintCategory};
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::types::*;
use crate::ticket::{TicketError, TicketStatus};

fn not_allowed(command: CommandKind, status: TicketStatus) -> TicketError {
    TicketError::NotAllowed { command, status }
}

// --- NotAllowed ------------------------------------------------------------------

#[test]
fn arrival_is_not_recorded_before_a_dispatch() {
    framework()
        .given(vec![received()])
        .when(by(Role::Technician, TicketCommand::RecordArrival))
        .then_expect_error(not_allowed(
            CommandKind::RecordArrival,
            TicketStatus::Received,
        ));
}

#[test]
fn a_technician_is_not_dispatched_after_diagnosis() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(
            Role::ServiceManager,
            TicketCommand::DispatchTechnician(dispatch()),
        ))
        .then_expect_error(not_allowed(
            CommandKind::DispatchTechnician,
            TicketStatus::Diagnosed,
        ));
}

#[test]
fn warranty_is_not_determined_once_quoted() {
    framework()
        .given(chargeable_quoted(50_000, ApprovalTier::Tier1))
        .when(by(
            Role::CustomerService,
            TicketCommand::DetermineWarranty(DetermineWarranty {
                service_contract: true,
            }),
        ))
        .then_expect_error(not_allowed(
            CommandKind::DetermineWarranty,
            TicketStatus::Quoted,
        ));
}

#[test]
fn a_ticket_is_not_resolved_remotely_before_diagnosis() {
    framework()
        .given(vec![received(), in_warranty()])
        .when(by(Role::Technician, resolve_remotely()))
        .then_expect_error(not_allowed(
            CommandKind::ResolveRemotely,
            TicketStatus::Received,
        ));
}

#[test]
fn a_repair_is_not_quoted_before_diagnosis() {
    framework()
        .given(vec![received(), out_of_warranty()])
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(quote_of(50_000)),
        ))
        .then_expect_error(not_allowed(
            CommandKind::QuoteRepair,
            TicketStatus::Received,
        ));
}

#[test]
fn an_approved_quote_is_not_approved_twice() {
    framework()
        .given(chargeable_quote_approved(50_000, ApprovalTier::Tier1))
        .when(by(Role::ServiceManager, TicketCommand::ApproveQuote))
        .then_expect_error(not_allowed(
            CommandKind::ApproveQuote,
            TicketStatus::QuoteApproved,
        ));
}

#[test]
fn customer_cannot_accept_a_quote_before_the_internal_approval() {
    framework()
        .given(chargeable_quoted(50_000, ApprovalTier::Tier1))
        .when(by(Role::CustomerService, TicketCommand::AcceptQuote))
        .then_expect_error(not_allowed(CommandKind::AcceptQuote, TicketStatus::Quoted));
}

#[test]
fn an_accepted_quote_is_not_declined() {
    framework()
        .given(chargeable_accepted())
        .when(by(Role::CustomerService, decline()))
        .then_expect_error(not_allowed(
            CommandKind::DeclineQuote,
            TicketStatus::Accepted,
        ));
}

#[test]
fn a_fee_is_not_waived_on_a_declined_quote() {
    let mut given = chargeable_quote_approved(50_000, ApprovalTier::Tier1);
    given.push(declined());
    framework()
        .given(given)
        .when(by(
            Role::ServiceManager,
            TicketCommand::ApproveFeeWaiver(waive(10_000)),
        ))
        .then_expect_error(not_allowed(
            CommandKind::ApproveFeeWaiver,
            TicketStatus::Declined,
        ));
}

#[test]
fn a_fee_is_not_waived_before_a_quote() {
    framework()
        .given(vec![received(), out_of_warranty(), diagnosed()])
        .when(by(
            Role::ServiceManager,
            TicketCommand::ApproveFeeWaiver(waive(10_000)),
        ))
        .then_expect_error(not_allowed(
            CommandKind::ApproveFeeWaiver,
            TicketStatus::Diagnosed,
        ));
}

#[test]
fn a_repaired_item_is_not_sent_to_the_factory() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed(), repaired()])
        .when(by(
            Role::Technician,
            TicketCommand::SendToFactory(send_to_factory()),
        ))
        .then_expect_error(not_allowed(
            CommandKind::SendToFactory,
            TicketStatus::Repaired,
        ));
}

#[test]
fn nothing_is_received_from_the_factory_that_was_not_sent() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(
            Role::Technician,
            TicketCommand::ReceiveFromFactory(receive_from_factory(FactoryOutcome::Repaired)),
        ))
        .then_expect_error(not_allowed(
            CommandKind::ReceiveFromFactory,
            TicketStatus::Diagnosed,
        ));
}

#[test]
fn no_exchange_ships_while_the_item_is_at_the_factory() {
    framework()
        .given(at_factory())
        .when(by(
            Role::Technician,
            TicketCommand::ShipExchange(ship_exchange()),
        ))
        .then_expect_error(not_allowed(
            CommandKind::ShipExchange,
            TicketStatus::AtFactory,
        ));
}

#[test]
fn an_exchange_does_not_ship_after_the_factory_repaired_the_item() {
    framework()
        .given(back_from_factory(FactoryOutcome::Repaired))
        .when(by(
            Role::Technician,
            TicketCommand::ShipExchange(ship_exchange()),
        ))
        .then_expect_error(not_allowed(
            CommandKind::ShipExchange,
            TicketStatus::Repaired,
        ));
}

#[test]
fn a_repair_is_not_recorded_twice_without_qc() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed(), repaired()])
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .then_expect_error(not_allowed(
            CommandKind::RecordRepair,
            TicketStatus::Repaired,
        ));
}

#[test]
fn qc_does_not_pass_an_unrepaired_item() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(Role::QcInspector, TicketCommand::PassQc))
        .then_expect_error(not_allowed(CommandKind::PassQc, TicketStatus::Diagnosed));
}

#[test]
fn qc_does_not_fail_an_item_that_already_passed() {
    framework()
        .given(warranty_repair_until_qc_passed())
        .when(by(Role::QcInspector, fail_qc()))
        .then_expect_error(not_allowed(CommandKind::FailQc, TicketStatus::QcPassed));
}

#[test]
fn delivery_is_not_confirmed_before_shipping() {
    framework()
        .given(warranty_repair_until_qc_passed())
        .when(by(Role::CustomerService, confirm_delivery()))
        .then_expect_error(not_allowed(
            CommandKind::ConfirmDelivery,
            TicketStatus::QcPassed,
        ));
}

#[test]
fn a_delivered_item_is_not_shipped_again() {
    let mut given = warranty_repair_until_qc_passed();
    given.extend([shipped(false), delivered()]);
    framework()
        .given(given)
        .when(by(Role::Technician, TicketCommand::ShipItem(ship())))
        .then_expect_error(not_allowed(CommandKind::ShipItem, TicketStatus::Delivered));
}

#[test]
fn a_remote_fix_is_not_shipped() {
    framework()
        .given(vec![
            received(),
            in_warranty(),
            diagnosed_with(RepairPath::RemoteFix),
            resolved_remotely(),
        ])
        .when(by(Role::Technician, TicketCommand::ShipItem(ship())))
        .then_expect_error(not_allowed(
            CommandKind::ShipItem,
            TicketStatus::ResolvedRemotely,
        ));
}

#[test]
fn an_item_in_transit_is_not_revisited() {
    let mut given = warranty_repair_until_qc_passed();
    given.push(shipped(false));
    framework()
        .given(given)
        .when(by(
            Role::CustomerService,
            TicketCommand::RecordRevisit(revisit(true)),
        ))
        .then_expect_error(not_allowed(
            CommandKind::RecordRevisit,
            TicketStatus::Shipped,
        ));
}

#[test]
fn a_ticket_is_not_closed_before_the_revisit() {
    let mut given = warranty_repair_until_qc_passed();
    given.extend([shipped(false), delivered()]);
    framework()
        .given(given)
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_error(not_allowed(
            CommandKind::CloseTicket,
            TicketStatus::Delivered,
        ));
}

#[test]
fn a_ticket_is_not_reopened_before_the_revisit() {
    let mut given = warranty_repair_until_qc_passed();
    given.extend([shipped(false), delivered()]);
    framework()
        .given(given)
        .when(by(
            Role::CustomerService,
            TicketCommand::ReopenTicket(reopen(true)),
        ))
        .then_expect_error(not_allowed(
            CommandKind::ReopenTicket,
            TicketStatus::Delivered,
        ));
}

#[test]
fn a_ticket_is_not_cancelled_once_the_customer_accepted() {
    framework()
        .given(chargeable_accepted())
        .when(by(Role::CustomerService, cancel()))
        .then_expect_error(not_allowed(
            CommandKind::CancelTicket,
            TicketStatus::Accepted,
        ));
}

#[test]
fn a_ticket_is_not_cancelled_after_the_repair() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed(), repaired()])
        .when(by(Role::CustomerService, cancel()))
        .then_expect_error(not_allowed(
            CommandKind::CancelTicket,
            TicketStatus::Repaired,
        ));
}

#[test]
fn the_repair_cycle_is_not_extended_before_diagnosis() {
    framework()
        .given(vec![received()])
        .when(by(
            Role::ServiceManager,
            TicketCommand::ExtendRepairCycle(extend(date(2026, 4, 10))),
        ))
        .then_expect_error(not_allowed(
            CommandKind::ExtendRepairCycle,
            TicketStatus::Received,
        ));
}

#[test]
fn the_repair_cycle_is_not_extended_once_qc_passed() {
    framework()
        .given(warranty_repair_until_qc_passed())
        .when(by(
            Role::ServiceManager,
            TicketCommand::ExtendRepairCycle(extend(date(2026, 4, 10))),
        ))
        .then_expect_error(not_allowed(
            CommandKind::ExtendRepairCycle,
            TicketStatus::QcPassed,
        ));
}

#[test]
fn a_complaint_is_not_routed_twice() {
    framework()
        .given(routed_complaint())
        .when(by(
            Role::CustomerService,
            TicketCommand::RouteComplaint {
                category: ComplaintCategory::Other,
            },
        ))
        .then_expect_error(not_allowed(
            CommandKind::RouteComplaint,
            TicketStatus::ComplaintRouted,
        ));
}

#[test]
fn a_complaint_is_not_replied_to_before_it_is_routed() {
    framework()
        .given(vec![complaint_received()])
        .when(by(Role::CustomerService, reply()))
        .then_expect_error(not_allowed(
            CommandKind::ReplyToComplaint,
            TicketStatus::Received,
        ));
}

#[test]
fn a_closed_ticket_refuses_everything_but_reopen() {
    for command in one_of_each_command().into_iter().skip(1) {
        let kind = command.kind();
        let role = roles_allowed(kind)[0];
        let result = framework()
            .given(closed_warranty_repair())
            .when(by(role, command))
            .inspect_result();
        if kind == CommandKind::ReopenTicket {
            assert_eq!(result, Ok(vec![reopened(true, 2)]));
        } else {
            assert_eq!(
                result,
                Err(not_allowed(kind, TicketStatus::Closed)),
                "{kind}"
            );
        }
    }
}

#[test]
fn a_cancelled_ticket_refuses_everything_but_handing_back_a_held_item() {
    for command in one_of_each_command().into_iter().skip(1) {
        let kind = command.kind();
        let role = roles_allowed(kind)[0];
        let expected = if kind == CommandKind::HandBackItem {
            TicketError::NotInCustody
        } else {
            not_allowed(kind, TicketStatus::Cancelled)
        };
        framework()
            .given(vec![received(), cancelled()])
            .when(by(role, command))
            .then_expect_error(expected);
    }
}
