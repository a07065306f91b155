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
        K::RecordItemReturned
        | K::TakeInItem
        | K::HandBackItem
        | K::ContactCustomer
        | K::AnswerInquiry
        | K::AcceptInstallation => operational(&[R::CustomerService, R::Technician]),
        K::AcceptDispatch | K::DeclineDispatch | K::RecordBackFromTrip | K::FileTripReport => {
            operational(&[R::Technician])
        }
        K::DetermineWarranty
        | K::AcceptQuote
        | K::DeclineQuote
        | K::ConfirmDelivery
        | K::EscalateTicket => operational(&[R::CustomerService, R::Technician]),
        K::RecordArrival
        | K::DiagnoseFault
        | K::ResolveRemotely
        | K::QuoteRepair
        | K::SendToFactory
        | K::ReceiveFromFactory
        | K::ShipExchange
        | K::RecordRepair
        | K::ShipItem
        | K::RecordInstallation
        | K::RecordMaintenanceVisit => operational(&[R::Technician]),
        K::PassQc | K::FailQc => operational(&[R::QcInspector]),
        // Assigning is the service manager's (001 篇十四 第三、九条).
        K::ExtendRepairCycle | K::DispatchTechnician | K::ScheduleInstallation => operational(&[]),
        K::ApproveQuote | K::ApproveFeeWaiver | K::ApproveRefund => {
            matches!(role, R::ServiceManager | R::SalesVp | R::GeneralManager)
        }
        K::IssueInvoice | K::RecordPayment | K::PayRefund => role == R::Finance,
    }
}

/// Who may state that an event happened earlier than now (within the
/// back-dating window; see [`crate::timing`]). Field and desk work is often
/// entered after the fact: a technician back at the van, a letter registered
/// the next day, a QC sheet typed up after the shift, a bank transfer seen on
/// the statement. Approvals are decisions taken when they are recorded, so
/// the approving roles (and roles that issue no ticket command) may not.
pub fn may_backdate(role: Role) -> bool {
    use Role as R;
    match role {
        R::CustomerService | R::Technician | R::QcInspector | R::ServiceManager | R::Finance => {
            true
        }
        R::SalesVp
        | R::GeneralManager
        | R::ReliabilityEngineer
        | R::Auditor
        | R::Integration
        | R::FailureReviewBoard
        | R::DataProtectionOfficer
        // The importer's lines are exempt from the window as imports
        // (`Recording::Import`); live, it issues no command at all.
        | R::Importer => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_and_desk_roles_may_back_date_and_approvers_may_not() {
        let may: Vec<Role> = Role::ALL.into_iter().filter(|r| may_backdate(*r)).collect();
        assert_eq!(
            may,
            [
                Role::CustomerService,
                Role::Technician,
                Role::QcInspector,
                Role::ServiceManager,
                Role::Finance
            ]
        );
    }

    #[test]
    fn auditor_integration_reliability_engineer_and_importer_may_issue_no_ticket_command() {
        let roles = [
            Role::Auditor,
            Role::Integration,
            Role::ReliabilityEngineer,
            Role::DataProtectionOfficer,
            Role::Importer,
        ];
        for role in roles {
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
