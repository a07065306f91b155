//! Escalations the general manager must see (001 篇一 第八条): a ticket
//! escalated in its current cycle, by `EscalateTicket` or by a diagnosis
//! marked major, until the ticket closes, is cancelled or is reopened (a
//! new cycle is escalated anew). `Escalation::step` is the one fold the
//! general manager's list uses.

use chrono::{DateTime, Utc};

use super::event::TicketEvent;

/// An open escalation of one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub since: DateTime<Utc>,
    /// Why: the escalation's reason, or the major fault's failure mode.
    pub reason: String,
    /// Raised by a diagnosis marked major.
    pub major_fault: bool,
}

impl Escalation {
    pub fn step(current: Option<Escalation>, event: &TicketEvent) -> Option<Escalation> {
        use TicketEvent as E;
        match event {
            E::TicketEscalated { reason, at, .. } => Some(Escalation {
                since: *at,
                reason: reason.to_string(),
                major_fault: false,
            }),
            E::FaultDiagnosed {
                major: true,
                failure_mode,
                at,
                ..
            } => current.or(Some(Escalation {
                since: *at,
                reason: format!("major fault {failure_mode}"),
                major_fault: true,
            })),
            E::TicketReopened { .. } | E::TicketClosed { .. } | E::TicketCancelled { .. } => None,
            // No effect on an escalation; a new event must be placed here or above.
            E::FaultDiagnosed { major: false, .. }
            | E::TicketReceived { .. }
            | E::WarrantyDetermined { .. }
            | E::TechnicianDispatched { .. }
            | E::TechnicianArrived { .. }
            | E::ResolvedRemotely { .. }
            | E::RepairQuoted { .. }
            | E::QuoteApproved { .. }
            | E::QuoteAccepted { .. }
            | E::QuoteDeclined { .. }
            | E::FeeWaiverApproved { .. }
            | E::SentToFactory { .. }
            | E::ReturnedFromFactory { .. }
            | E::ExchangeShipped { .. }
            | E::RepairRecorded { .. }
            | E::QcPassed { .. }
            | E::QcFailed { .. }
            | E::ItemShipped { .. }
            | E::ItemDelivered { .. }
            | E::InvoiceIssued { .. }
            | E::PaymentRecorded { .. }
            | E::CustomerRevisited { .. }
            | E::RepairCycleExtended { .. }
            | E::ComplaintRouted { .. }
            | E::ComplaintReplied { .. }
            | E::RefundApproved { .. }
            | E::ItemReturned { .. }
            | E::RefundPaid { .. }
            | E::DispatchAccepted { .. }
            | E::DispatchDeclined { .. }
            | E::ItemTakenIn { .. }
            | E::ItemHandedBack { .. }
            | E::CustomerContacted { .. }
            | E::TechnicianBack { .. }
            | E::TripReportFiled { .. }
            | E::InquiryAnswered { .. }
            | E::InstallationScheduled { .. }
            | E::ItemInstalled { .. }
            | E::InstallationAccepted { .. }
            | E::MaintenanceVisitDone { .. } => current,
        }
    }

    /// The event types [`Escalation::step`] reads.
    pub const EVENT_TYPES: &'static [&'static str] = &[
        "TicketEscalated",
        "FaultDiagnosed",
        "TicketReopened",
        "TicketClosed",
        "TicketCancelled",
    ];
}
