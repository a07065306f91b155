//! Which roles may issue which ticket command (DOMAIN.md §11).
//!
//! Approvals are checked twice: here, whether the role approves anything at
//! all; then, in the aggregate, whether it may approve the quote's tier
//! ([`super::approval`]).
//!
//! Choices where §11 is silent, written down so they can be argued with:
//! warranty determination belongs to whoever registers or diagnoses the
//! ticket; recording the customer's accept/decline to customer service and
//! technicians (they talk to the customer); closing and reopening to customer
//! service (it runs the revisit) and the service manager; escalation to
//! anyone operational; delivery confirmation to technicians and customer
//! service.

use crate::roles::Role;
use crate::ticket::CommandKind;

pub fn may_issue(role: Role, command: CommandKind) -> bool {
    use CommandKind as K;
    use Role as R;
    // The service manager may do all that customer service, technicians and
    // QC inspectors may, plus assign, approve tier 1 and extend the cycle.
    let operational = |roles: &[Role]| roles.contains(&role) || role == R::ServiceManager;
    match command {
        K::ReceiveTicket
        | K::RouteComplaint
        | K::ReplyToComplaint
        | K::RecordRevisit
        | K::CancelTicket
        | K::CloseTicket
        | K::ReopenTicket => operational(&[R::CustomerService]),
        K::DetermineWarranty
        | K::AcceptQuote
        | K::DeclineQuote
        | K::ConfirmDelivery
        | K::EscalateTicket => operational(&[R::CustomerService, R::Technician]),
        K::DispatchTechnician
        | K::RecordArrival
        | K::DiagnoseFault
        | K::ResolveRemotely
        | K::QuoteRepair
        | K::SendToFactory
        | K::ReceiveFromFactory
        | K::ShipExchange
        | K::RecordRepair
        | K::ShipItem => operational(&[R::Technician]),
        K::PassQc | K::FailQc => operational(&[R::QcInspector]),
        K::ExtendRepairCycle => operational(&[]),
        K::ApproveQuote | K::ApproveFeeWaiver => {
            matches!(role, R::ServiceManager | R::SalesVp | R::GeneralManager)
        }
        K::IssueInvoice | K::RecordPayment => role == R::Finance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auditor_integration_and_reliability_engineer_may_issue_no_ticket_command() {
        for role in [Role::Auditor, Role::Integration, Role::ReliabilityEngineer] {
            for command in CommandKind::ALL {
                assert!(!may_issue(role, *command), "{role} may {command}");
            }
        }
    }

    #[test]
    fn service_manager_may_do_all_that_customer_service_technician_and_qc_may() {
        for command in CommandKind::ALL {
            let below = [Role::CustomerService, Role::Technician, Role::QcInspector]
                .into_iter()
                .any(|r| may_issue(r, *command));
            if below {
                assert!(may_issue(Role::ServiceManager, *command), "{command}");
            }
        }
    }

    #[test]
    fn only_finance_invoices_and_records_payments() {
        for role in Role::ALL {
            assert_eq!(
                may_issue(role, CommandKind::IssueInvoice),
                role == Role::Finance
            );
            assert_eq!(
                may_issue(role, CommandKind::RecordPayment),
                role == Role::Finance
            );
        }
    }

    #[test]
    fn technician_may_not_pass_qc() {
        assert!(!may_issue(Role::Technician, CommandKind::PassQc));
        assert!(may_issue(Role::QcInspector, CommandKind::PassQc));
    }

    #[test]
    fn only_service_manager_extends_the_repair_cycle() {
        for role in Role::ALL {
            assert_eq!(
                may_issue(role, CommandKind::ExtendRepairCycle),
                role == Role::ServiceManager
            );
        }
    }

    #[test]
    fn general_manager_approves_but_does_not_repair() {
        assert!(may_issue(
            Role::GeneralManager,
            CommandKind::ApproveFeeWaiver
        ));
        assert!(!may_issue(Role::GeneralManager, CommandKind::RecordRepair));
    }
}
