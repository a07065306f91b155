//! The access table: which role may call which RPC, and which view of a
//! customer's personal data it gets (DOMAIN.md §11, §12; docs/SECURITY.md).
//!
//! Every door answers to it: the gRPC API through [`layer::AccessLayer`]
//! (one layer around the whole server, before any service runs), the
//! console through the RPCs each page calls ([`crate::console`] asks
//! [`allows`] for each), the history import (only `importer` calls
//! `ImportTickets`) and subscriptions (`Subscribe` opens personal fields
//! only for a role whose [`personal_view`] is [`PersonalView::Clear`]).
//!
//! [`allows`] is one exhaustive `match` over [`Method`], which build.rs
//! generates from `proto/`: an RPC added to a `.proto` file does not
//! compile until this table says who may call it. A role added to
//! [`Role`] does not compile until [`personal_view`] places it; every
//! list of roles below is a `matches!` the new role is simply not in.
//!
//! Where a service makes a finer decision (which ticket command a role may
//! issue, which tier it may approve, which corrective-action step), the
//! table delegates to the domain's own rule, so the two cannot disagree.

pub mod layer;

/// The API's RPCs, generated from `proto/` by `services/build.rs`.
#[allow(clippy::enum_variant_names)]
pub mod methods {
    include!(concat!(env!("OUT_DIR"), "/methods.rs"));
}

use domain::capa::ActionCommandKind;
use domain::policy::permission;
use domain::Role;
pub use methods::Method;
use methods::{
    Audit, CostLedger, EventLog, Fracas, Privacy, SlaDashboard, TicketImport, TicketQueries,
};

/// Whether `role` may call `method` at all. (A ticket command is then
/// decided by the domain, which may still refuse a tier or a state.)
pub fn allows(role: Role, method: Method) -> bool {
    match method {
        Method::TicketCommands(m) => permission::may_issue(role, m.command()),
        Method::TicketImport(m) => match m {
            TicketImport::ImportTickets => role == Role::Importer,
        },
        Method::Privacy(m) => match m {
            Privacy::EraseCustomer => role == Role::DataProtectionOfficer,
        },
        Method::TicketQueries(m) => match m {
            TicketQueries::GetTicket
            | TicketQueries::ListTickets
            | TicketQueries::ListItemsInCustody => reads_tickets(role),
            TicketQueries::ListEscalations => matches!(
                role,
                Role::GeneralManager | Role::SalesVp | Role::ServiceManager | Role::Auditor
            ),
        },
        Method::EventLog(m) => match m {
            EventLog::Subscribe | EventLog::GetLogStatus | EventLog::ListConsumers => {
                reads_tickets(role)
            }
            // Acknowledging moves a consumer: a change, not the auditor's.
            EventLog::Ack => reads_tickets(role) && role != Role::Auditor,
        },
        Method::Audit(m) => match m {
            Audit::GetHistory | Audit::GetStateAt | Audit::Diff | Audit::Verify | Audit::Export => {
                audits(role)
            }
        },
        Method::CostLedger(m) => match m {
            CostLedger::GetTicketLedger | CostLedger::RunReport | CostLedger::ExportReportCsv => {
                matches!(
                    role,
                    Role::Finance
                        | Role::ServiceManager
                        | Role::SalesVp
                        | Role::GeneralManager
                        | Role::Auditor
                )
            }
        },
        Method::Fracas(m) => fracas(role, m),
        Method::SlaDashboard(m) => match m {
            SlaDashboard::ListOpenClocks
            | SlaDashboard::ExportOpenClocksCsv
            | SlaDashboard::GetKpis
            | SlaDashboard::ExportKpisCsv => matches!(
                role,
                Role::ServiceManager
                    | Role::GeneralManager
                    | Role::SalesVp
                    | Role::CustomerService
                    | Role::Auditor
                    | Role::Integration
            ),
        },
    }
}

/// FRACAS: reading is the reliability side's and the managers'; the
/// corrective actions follow the domain's rule for each step.
fn fracas(role: Role, method: Fracas) -> bool {
    let action = |kind| domain::capa::may_issue(role, kind);
    match method {
        Fracas::ListFailures
        | Fracas::RunReport
        | Fracas::ExportReportCsv
        | Fracas::GetCorrectiveAction
        | Fracas::AnalyzeWeibull => reads_fracas(role),
        Fracas::RegisterUnits => role == Role::ReliabilityEngineer,
        Fracas::OpenCorrectiveAction => action(ActionCommandKind::Open),
        Fracas::RecordRootCause => action(ActionCommandKind::RecordRootCause),
        Fracas::RecordImplementation => action(ActionCommandKind::RecordImplementation),
        Fracas::VerifyEffectiveness => action(ActionCommandKind::VerifyEffectiveness),
        Fracas::CloseCorrectiveAction => action(ActionCommandKind::Close),
        Fracas::PlanActionStep => action(ActionCommandKind::PlanStep),
        Fracas::RecordActionStep => action(ActionCommandKind::RecordStep),
        Fracas::LinkFailures => action(ActionCommandKind::LinkFailures),
    }
}

/// Who reads tickets and the log: everyone whose work is tickets; not the
/// data protection officer (erasure only) nor the importer (import only).
fn reads_tickets(role: Role) -> bool {
    !matches!(role, Role::DataProtectionOfficer | Role::Importer)
}

/// Who reads the audit trail.
pub fn audits(role: Role) -> bool {
    matches!(
        role,
        Role::Auditor | Role::GeneralManager | Role::ServiceManager
    )
}

/// Who reads FRACAS.
pub fn reads_fracas(role: Role) -> bool {
    matches!(
        role,
        Role::ReliabilityEngineer
            | Role::FailureReviewBoard
            | Role::ServiceManager
            | Role::GeneralManager
            | Role::Auditor
    )
}

/// Who may subscribe, acknowledge and list for any named consumer, not
/// only their own.
pub fn manages_consumers(role: Role) -> bool {
    role == Role::ServiceManager
}

/// Who lists every named consumer (read-only for the auditor).
pub fn lists_all_consumers(role: Role) -> bool {
    matches!(role, Role::ServiceManager | Role::Auditor)
}

/// Who may keep a named consumer: everyone who subscribes but the auditor,
/// who changes nothing.
pub fn keeps_consumers(role: Role) -> bool {
    role != Role::Auditor
}

/// What a role sees of a customer's personal fields (DOMAIN.md §12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonalView {
    /// In clear: the work needs the customer.
    Clear,
    /// In clear on the tickets dispatched to the caller; redacted
    /// elsewhere.
    Dispatched,
    /// The invoice's name and address in clear; the rest redacted.
    Invoice,
    /// Marked redacted (a phone's last four digits at most).
    Redacted,
    /// The stored sealed form, as the audit trail keeps it.
    Sealed,
    /// Only with the token's `personal_data` grant; sealed without it.
    Granted,
    /// Nothing: the role reads no record at all.
    None,
}

/// The view of personal data each role gets.
pub fn personal_view(role: Role) -> PersonalView {
    match role {
        Role::CustomerService | Role::ServiceManager => PersonalView::Clear,
        Role::Technician => PersonalView::Dispatched,
        Role::Finance => PersonalView::Invoice,
        Role::QcInspector
        | Role::SalesVp
        | Role::GeneralManager
        | Role::ReliabilityEngineer
        | Role::FailureReviewBoard => PersonalView::Redacted,
        Role::Auditor => PersonalView::Sealed,
        Role::Integration => PersonalView::Granted,
        Role::DataProtectionOfficer | Role::Importer => PersonalView::None,
    }
}

impl PersonalView {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonalView::Clear => "clear",
            PersonalView::Dispatched => "clear if dispatched",
            PersonalView::Invoice => "invoice name and address",
            PersonalView::Redacted => "redacted",
            PersonalView::Sealed => "sealed",
            PersonalView::Granted => "clear if granted",
            PersonalView::None => "none",
        }
    }
}

/// What of a ticket's customer a caller is shown (`GetTicket`,
/// `ListTickets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sight {
    pub name: bool,
    pub phone: bool,
    pub address: bool,
    /// A hidden phone number's last four digits.
    pub phone_digits: bool,
}

impl Sight {
    pub const CLEAR: Sight = Sight {
        name: true,
        phone: true,
        address: true,
        phone_digits: true,
    };
    pub const REDACTED: Sight = Sight {
        name: false,
        phone: false,
        address: false,
        phone_digits: true,
    };
    pub const NOTHING: Sight = Sight {
        name: false,
        phone: false,
        address: false,
        phone_digits: false,
    };

    /// Whether any personal field is hidden.
    pub fn hides_any(self) -> bool {
        !(self.name && self.phone && self.address)
    }
}

/// What `role` (holding `grants`) sees of a ticket's customer;
/// `dispatched`: the ticket is dispatched to the caller.
pub fn sight(role: Role, grants: crate::auth::Grants, dispatched: bool) -> Sight {
    match personal_view(role) {
        PersonalView::Clear => Sight::CLEAR,
        PersonalView::Dispatched if dispatched => Sight::CLEAR,
        PersonalView::Granted if grants.personal_data => Sight::CLEAR,
        // What an invoice needs: who and where, not how to call them.
        PersonalView::Invoice => Sight {
            phone: false,
            ..Sight::CLEAR
        },
        PersonalView::Dispatched | PersonalView::Granted | PersonalView::Redacted => {
            Sight::REDACTED
        }
        PersonalView::Sealed | PersonalView::None => Sight::NOTHING,
    }
}

/// Whether the caller may find tickets by customer (a phone number is a
/// lookup of a person): only where it sees customers in clear.
pub fn finds_by_customer(role: Role, grants: crate::auth::Grants) -> bool {
    sight(role, grants, false) == Sight::CLEAR
}

/// Whether a subscription (`EventLog.Subscribe`, plain or named) opens
/// the personal fields of the events it sends for this caller; otherwise
/// they go out as stored, sealed. A subscription cannot tell which tickets
/// were dispatched to a technician, so "clear if dispatched" is sealed
/// there, as are every narrower view.
pub fn subscription_opens(role: Role, grants: crate::auth::Grants) -> bool {
    match personal_view(role) {
        PersonalView::Clear => true,
        PersonalView::Granted => grants.personal_data,
        PersonalView::Dispatched
        | PersonalView::Invoice
        | PersonalView::Redacted
        | PersonalView::Sealed
        | PersonalView::None => false,
    }
}

/// An RPC as the policy file names it: `SlaDashboard.GetKpis`.
pub fn short_name(method: Method) -> String {
    let service = method.service().trim_start_matches("repair.v1.");
    format!("{service}.{}", method.name())
}

/// The access table in force: the built-in one ([`allows`]) with the
/// company's changes from its policy file (`[access.rpc]`). A ticket
/// command or corrective-action step can only be narrowed this way: the
/// domain's own rule still decides what is widened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    overrides: std::collections::HashMap<Method, Vec<Role>>,
}

impl Table {
    /// The table a policy's `[access]` makes; an error names an RPC that
    /// does not exist.
    pub fn of(policy: &domain::ticket::AccessPolicy) -> Result<Table, String> {
        let mut overrides = std::collections::HashMap::new();
        for (name, roles) in &policy.rpc {
            let method = Method::ALL
                .into_iter()
                .find(|m| short_name(*m) == *name)
                .ok_or_else(|| {
                    format!("access.rpc.\"{name}\": no such RPC (name one as Service.Method, e.g. SlaDashboard.GetKpis; docs/SECURITY.md lists them)")
                })?;
            overrides.insert(method, roles.clone());
        }
        Ok(Table { overrides })
    }

    /// Whether `role` may call `method` under this table.
    pub fn allows(&self, role: Role, method: Method) -> bool {
        match self.overrides.get(&method) {
            Some(roles) => roles.contains(&role),
            None => allows(role, method),
        }
    }

    /// The refusal of a call this table does not allow.
    pub fn refusal(&self, role: Role, method: Method) -> tonic::Status {
        let may: Vec<&str> = Role::ALL
            .into_iter()
            .filter(|r| self.allows(*r, method))
            .map(Role::as_str)
            .collect();
        tonic::Status::permission_denied(format!(
            "role {role} may not call {}.{}; it is for {} (docs/SECURITY.md)",
            method.service(),
            method.name(),
            may.join(", ")
        ))
    }

    /// The table as Markdown (see [`markdown`]).
    pub fn markdown(&self) -> String {
        render(|role, method| self.allows(role, method))
    }
}

/// Whether a history import line may state `role` (DOMAIN.md §11): a role
/// the policy lists in `access.import_roles`, or by default one that
/// issues ticket commands.
pub fn may_be_imported_as(role: Role, policy: &domain::ticket::AccessPolicy) -> bool {
    match &policy.import_roles {
        Some(roles) => roles.contains(&role),
        None => domain::ticket::CommandKind::ALL
            .iter()
            .any(|k| permission::may_issue(role, *k)),
    }
}

/// The refusal of a call the built-in table does not allow.
pub fn refusal(role: Role, method: Method) -> tonic::Status {
    Table::default().refusal(role, method)
}

/// The table as Markdown: one row per RPC, one column per role ("✓"
/// allowed), then each role's view of personal data. `ticketd policy
/// show` prints it and docs/SECURITY.md holds it (a test keeps the two
/// equal).
pub fn markdown() -> String {
    render(allows)
}

fn render(allows: impl Fn(Role, Method) -> bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("| RPC |");
    for role in Role::ALL {
        let _ = write!(out, " {role} |");
    }
    out.push_str("\n|---|");
    for _ in Role::ALL {
        out.push_str(":-:|");
    }
    out.push('\n');
    for method in Method::ALL {
        let _ = write!(out, "| {} |", short_name(method));
        for role in Role::ALL {
            out.push_str(if allows(role, method) { " ✓ |" } else { " |" });
        }
        out.push('\n');
    }
    out.push_str("| *personal data* |");
    for role in Role::ALL {
        let _ = write!(out, " {} |", personal_view(role).as_str());
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::methods::TicketCommands;
    use super::*;

    fn may(role: Role, path: &str) -> bool {
        allows(role, Method::from_path(path).expect("an RPC of the API"))
    }

    // Answers of the table checked by hand against DOMAIN.md §11.

    #[test]
    fn only_the_importer_imports_history_and_the_integration_role_no_longer_does() {
        for role in Role::ALL {
            assert_eq!(
                may(role, "/repair.v1.TicketImport/ImportTickets"),
                role == Role::Importer,
                "{role}"
            );
        }
    }

    #[test]
    fn the_importer_and_the_data_protection_officer_call_nothing_but_their_one_rpc() {
        let importer: Vec<_> = Method::ALL
            .into_iter()
            .filter(|m| allows(Role::Importer, *m))
            .collect();
        assert_eq!(
            importer,
            [Method::TicketImport(TicketImport::ImportTickets)]
        );
        let dpo: Vec<_> = Method::ALL
            .into_iter()
            .filter(|m| allows(Role::DataProtectionOfficer, *m))
            .collect();
        assert_eq!(dpo, [Method::Privacy(Privacy::EraseCustomer)]);
    }

    #[test]
    fn the_auditor_reads_everything_and_changes_nothing() {
        for method in Method::ALL {
            let writes = matches!(
                method,
                Method::TicketCommands(_)
                    | Method::TicketImport(_)
                    | Method::Privacy(_)
                    | Method::EventLog(EventLog::Ack)
                    | Method::Fracas(
                        Fracas::OpenCorrectiveAction
                            | Fracas::RecordRootCause
                            | Fracas::RecordImplementation
                            | Fracas::VerifyEffectiveness
                            | Fracas::CloseCorrectiveAction
                            | Fracas::PlanActionStep
                            | Fracas::RecordActionStep
                            | Fracas::LinkFailures
                            | Fracas::RegisterUnits
                    )
            );
            assert_eq!(allows(Role::Auditor, method), !writes, "{method:?}");
        }
    }

    #[test]
    fn a_technician_repairs_but_passes_no_qc_and_approves_nothing() {
        assert!(may(
            Role::Technician,
            "/repair.v1.TicketCommands/RecordRepair"
        ));
        assert!(!may(Role::Technician, "/repair.v1.TicketCommands/PassQc"));
        assert!(!may(
            Role::Technician,
            "/repair.v1.TicketCommands/ApproveFeeWaiver"
        ));
        assert!(may(Role::QcInspector, "/repair.v1.TicketCommands/PassQc"));
    }

    #[test]
    fn finance_invoices_and_reads_the_cost_ledger_but_not_fracas() {
        assert!(may(Role::Finance, "/repair.v1.TicketCommands/IssueInvoice"));
        assert!(may(Role::Finance, "/repair.v1.CostLedger/RunReport"));
        assert!(!may(Role::Finance, "/repair.v1.Fracas/RunReport"));
        assert!(!may(
            Role::CustomerService,
            "/repair.v1.TicketCommands/IssueInvoice"
        ));
    }

    #[test]
    fn the_reliability_engineer_reads_fracas_and_manages_actions_but_the_board_closes_them() {
        assert!(may(
            Role::ReliabilityEngineer,
            "/repair.v1.Fracas/ListFailures"
        ));
        assert!(may(
            Role::ReliabilityEngineer,
            "/repair.v1.Fracas/OpenCorrectiveAction"
        ));
        assert!(!may(
            Role::ReliabilityEngineer,
            "/repair.v1.Fracas/CloseCorrectiveAction"
        ));
        assert!(may(
            Role::FailureReviewBoard,
            "/repair.v1.Fracas/CloseCorrectiveAction"
        ));
        assert!(!may(
            Role::ReliabilityEngineer,
            "/repair.v1.CostLedger/RunReport"
        ));
    }

    #[test]
    fn approvals_are_the_managers_and_only_the_service_manager_assigns() {
        for role in Role::ALL {
            let approver = matches!(
                role,
                Role::ServiceManager | Role::SalesVp | Role::GeneralManager
            );
            assert_eq!(
                may(role, "/repair.v1.TicketCommands/ApproveQuote"),
                approver,
                "{role}"
            );
            assert_eq!(
                may(role, "/repair.v1.TicketCommands/DispatchTechnician"),
                role == Role::ServiceManager,
                "{role}"
            );
        }
    }

    #[test]
    fn need_to_know_gives_clear_personal_data_to_customer_service_and_the_service_manager_only() {
        let clear: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| personal_view(*r) == PersonalView::Clear)
            .collect();
        assert_eq!(clear, [Role::CustomerService, Role::ServiceManager]);
        assert_eq!(personal_view(Role::Auditor), PersonalView::Sealed);
        assert_eq!(personal_view(Role::Technician), PersonalView::Dispatched);
        assert_eq!(personal_view(Role::Finance), PersonalView::Invoice);
        assert_eq!(personal_view(Role::Integration), PersonalView::Granted);
    }

    #[test]
    fn a_company_narrows_or_widens_an_rpc_and_an_rpc_that_does_not_exist_is_refused() {
        let kpis = Method::from_path("/repair.v1.SlaDashboard/GetKpis").expect("rpc");
        let mut policy = domain::ticket::AccessPolicy::default();
        policy.rpc.insert(
            "SlaDashboard.GetKpis".into(),
            vec![Role::GeneralManager, Role::Finance],
        );
        let table = Table::of(&policy).expect("a real RPC");
        assert!(!table.allows(Role::ServiceManager, kpis), "narrowed");
        assert!(table.allows(Role::Finance, kpis), "widened");
        assert!(
            table.allows(Role::Auditor, Method::Audit(Audit::Verify)),
            "the rest as built in"
        );
        policy
            .rpc
            .insert("SlaDashboard.Nope".into(), vec![Role::Finance]);
        let refused = Table::of(&policy).expect_err("no such RPC");
        assert!(refused.contains("SlaDashboard.Nope"), "{refused}");
    }

    #[test]
    fn the_access_example_in_the_policy_file_names_real_rpcs() {
        let builtin = domain::policy::file::BUILTIN;
        let start = builtin.find("# [access]").expect("the example");
        let example: String = builtin[start..]
            .lines()
            .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
            .collect();
        let text = format!("{}{example}", &builtin[..start]);
        let policies = domain::policy::file::parse(&text).expect("the example parses");
        assert_eq!(policies.access.rpc.len(), 2);
        Table::of(&policies.access).expect("every RPC it names exists");
    }

    #[test]
    fn an_import_line_states_a_role_that_issues_ticket_commands_unless_the_policy_lists_others() {
        let built_in = domain::ticket::AccessPolicy::default();
        assert!(may_be_imported_as(Role::Technician, &built_in));
        assert!(may_be_imported_as(Role::GeneralManager, &built_in));
        for role in [
            Role::Auditor,
            Role::Integration,
            Role::Importer,
            Role::ReliabilityEngineer,
        ] {
            assert!(!may_be_imported_as(role, &built_in), "{role}");
        }
        let narrowed = domain::ticket::AccessPolicy {
            import_roles: Some(vec![Role::CustomerService]),
            ..Default::default()
        };
        assert!(!may_be_imported_as(Role::Technician, &narrowed));
        assert!(may_be_imported_as(Role::CustomerService, &narrowed));
    }

    #[test]
    fn docs_security_md_holds_the_table_the_code_enforces() {
        let doc = include_str!("../../docs/SECURITY.md");
        let begin = "<!-- access-table:begin -->\n\n";
        let start = doc.find(begin).expect("begin marker") + begin.len();
        let end = doc.find("<!-- access-table:end -->").expect("end marker");
        assert!(
            doc[start..end] == markdown(),
            "docs/SECURITY.md's access table differs from the code; paste `ticketd policy show`'s table:\n{}",
            markdown()
        );
    }

    #[test]
    fn every_rpc_has_one_path_that_names_it_back() {
        for method in Method::ALL {
            assert_eq!(Method::from_path(method.path()), Some(method));
        }
        assert_eq!(Method::from_path("/repair.v1.Nope/Nothing"), None);
        assert_eq!(
            TicketCommands::ALL.len(),
            domain::ticket::CommandKind::ALL.len(),
            "one RPC per domain command"
        );
    }
}
