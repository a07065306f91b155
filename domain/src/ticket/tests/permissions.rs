//! Who may issue what (DOMAIN.md §11), and commands on a ticket that does
//! not exist yet or already does.

use super::fixtures::*;
use crate::policy::ApprovalTier;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::types::*;
use crate::ticket::TicketError;

// --- Forbidden ----------------------------------------------------------------

#[test]
fn one_of_each_command_covers_every_command_kind() {
    let kinds: Vec<CommandKind> = one_of_each_command()
        .iter()
        .map(TicketCommand::kind)
        .collect();
    assert_eq!(kinds, CommandKind::ALL.to_vec());
}

#[test]
fn every_role_outside_section_11_is_forbidden_every_command() {
    for command in one_of_each_command() {
        let kind = command.kind();
        let allowed = roles_allowed(kind);
        for role in Role::ALL {
            let result = framework()
                .given_no_previous_events()
                .when(by(role, command.clone()))
                .inspect_result();
            if allowed.contains(&role) {
                assert_ne!(
                    result,
                    Err(TicketError::Forbidden {
                        role,
                        command: kind
                    }),
                    "{role} should be allowed {kind}"
                );
            } else {
                assert_eq!(
                    result,
                    Err(TicketError::Forbidden {
                        role,
                        command: kind
                    }),
                    "{role} may not {kind}"
                );
            }
        }
    }
}

#[test]
fn technician_may_not_pass_qc() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed(), repaired()])
        .when(by(Role::Technician, TicketCommand::PassQc))
        .then_expect_error(TicketError::Forbidden {
            role: Role::Technician,
            command: CommandKind::PassQc,
        });
}

#[test]
fn qc_inspector_may_not_record_a_repair() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(Role::QcInspector, TicketCommand::RecordRepair(repair())))
        .then_expect_error(TicketError::Forbidden {
            role: Role::QcInspector,
            command: CommandKind::RecordRepair,
        });
}

#[test]
fn customer_service_may_not_approve_a_quote() {
    framework()
        .given(chargeable_quoted(50_000, ApprovalTier::Tier1))
        .when(by(Role::CustomerService, TicketCommand::ApproveQuote))
        .then_expect_error(TicketError::Forbidden {
            role: Role::CustomerService,
            command: CommandKind::ApproveQuote,
        });
}

#[test]
fn technician_may_not_waive_a_fee() {
    framework()
        .given(chargeable_quoted(50_000, ApprovalTier::Tier1))
        .when(by(
            Role::Technician,
            TicketCommand::ApproveFeeWaiver(waive(10_000)),
        ))
        .then_expect_error(TicketError::Forbidden {
            role: Role::Technician,
            command: CommandKind::ApproveFeeWaiver,
        });
}

#[test]
fn general_manager_may_not_record_a_repair() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(
            Role::GeneralManager,
            TicketCommand::RecordRepair(repair()),
        ))
        .then_expect_error(TicketError::Forbidden {
            role: Role::GeneralManager,
            command: CommandKind::RecordRepair,
        });
}

#[test]
fn service_manager_may_not_issue_an_invoice() {
    framework()
        .given(chargeable_repair_until_qc_passed())
        .when(by(
            Role::ServiceManager,
            TicketCommand::IssueInvoice(invoice(50_000)),
        ))
        .then_expect_error(TicketError::Forbidden {
            role: Role::ServiceManager,
            command: CommandKind::IssueInvoice,
        });
}

#[test]
fn finance_may_not_close_a_ticket() {
    let mut given = warranty_repair_until_qc_passed();
    given.extend([shipped(false), delivered(), revisited(true)]);
    framework()
        .given(given)
        .when(by(Role::Finance, TicketCommand::CloseTicket))
        .then_expect_error(TicketError::Forbidden {
            role: Role::Finance,
            command: CommandKind::CloseTicket,
        });
}

#[test]
fn customer_service_may_not_extend_the_repair_cycle() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(
            Role::CustomerService,
            TicketCommand::ExtendRepairCycle(extend(date(2026, 4, 10))),
        ))
        .then_expect_error(TicketError::Forbidden {
            role: Role::CustomerService,
            command: CommandKind::ExtendRepairCycle,
        });
}

#[test]
fn auditor_may_not_receive_a_ticket() {
    framework()
        .given_no_previous_events()
        .when(by(Role::Auditor, TicketCommand::ReceiveTicket(receive())))
        .then_expect_error(TicketError::Forbidden {
            role: Role::Auditor,
            command: CommandKind::ReceiveTicket,
        });
}

#[test]
fn integration_may_not_escalate() {
    framework()
        .given(vec![received()])
        .when(by(Role::Integration, escalate()))
        .then_expect_error(TicketError::Forbidden {
            role: Role::Integration,
            command: CommandKind::EscalateTicket,
        });
}

#[test]
fn the_role_is_checked_before_the_state() {
    framework()
        .given(closed_warranty_repair())
        .when(by(
            Role::ReliabilityEngineer,
            TicketCommand::ReopenTicket(reopen(true)),
        ))
        .then_expect_error(TicketError::Forbidden {
            role: Role::ReliabilityEngineer,
            command: CommandKind::ReopenTicket,
        });
}

// --- UnknownTicket / AlreadyReceived ----------------------------------------------

#[test]
fn every_command_but_receive_is_refused_for_an_unknown_ticket() {
    for command in one_of_each_command().into_iter().skip(1) {
        let role = roles_allowed(command.kind())[0];
        framework()
            .given_no_previous_events()
            .when(by(role, command))
            .then_expect_error(TicketError::UnknownTicket);
    }
}

#[test]
fn diagnosing_an_unknown_ticket_is_refused() {
    framework()
        .given_no_previous_events()
        .when(by(
            Role::Technician,
            TicketCommand::DiagnoseFault(diagnose(
                RootCause::Manufacturing,
                false,
                RepairPath::WorkshopRepair,
            )),
        ))
        .then_expect_error(TicketError::UnknownTicket);
}

#[test]
fn a_closed_ticket_cannot_be_received_again() {
    framework()
        .given(closed_warranty_repair())
        .when(by(
            Role::CustomerService,
            TicketCommand::ReceiveTicket(receive()),
        ))
        .then_expect_error(TicketError::AlreadyReceived);
}
