//! Who acts: an actor id and the role they act in (DOMAIN.md §11).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::values::ActorId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    CustomerService,
    Technician,
    QcInspector,
    ServiceManager,
    SalesVp,
    GeneralManager,
    Finance,
    ReliabilityEngineer,
    Auditor,
    Integration,
    /// Reviews corrective actions and closes them (FRACAS, DOMAIN.md §9).
    FailureReviewBoard,
    /// Erases a customer's personal data; reads nothing else (DOMAIN.md
    /// §11, §12).
    DataProtectionOfficer,
    /// Brings history in from another system (`TicketImport`, `ticketd
    /// import`); may back-date beyond the window; nothing else (DOMAIN.md
    /// §11).
    Importer,
}

impl Role {
    pub const ALL: [Role; 13] = [
        Role::CustomerService,
        Role::Technician,
        Role::QcInspector,
        Role::ServiceManager,
        Role::SalesVp,
        Role::GeneralManager,
        Role::Finance,
        Role::ReliabilityEngineer,
        Role::Auditor,
        Role::Integration,
        Role::FailureReviewBoard,
        Role::DataProtectionOfficer,
        Role::Importer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::CustomerService => "customer_service",
            Role::Technician => "technician",
            Role::QcInspector => "qc_inspector",
            Role::ServiceManager => "service_manager",
            Role::SalesVp => "sales_vp",
            Role::GeneralManager => "general_manager",
            Role::Finance => "finance",
            Role::ReliabilityEngineer => "reliability_engineer",
            Role::Auditor => "auditor",
            Role::Integration => "integration",
            Role::FailureReviewBoard => "failure_review_board",
            Role::DataProtectionOfficer => "data_protection_officer",
            Role::Importer => "importer",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The person or service issuing a command, and the role they act in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: ActorId,
    pub role: Role,
}
