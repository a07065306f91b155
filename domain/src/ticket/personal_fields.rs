//! Which fields of each event hold personal data (DOMAIN.md §12): the JSON
//! pointers, inside the event's variant object, that storage seals under
//! the customer's key. The match has no wildcard: a new event says what of
//! it is personal before it compiles.

use super::event::TicketEvent;

impl TicketEvent {
    /// JSON pointers (relative to `{"<Type>": {...}}`'s inner object) of
    /// this event's personal fields; an absent optional field is skipped.
    pub fn personal_fields(&self) -> &'static [&'static str] {
        use TicketEvent as E;
        match self {
            E::TicketReceived { .. } => &["/customer/name", "/customer/phone", "/customer/address"],
            E::ItemShipped { .. } => &["/address"],
            E::ItemDelivered { .. } => &["/signed_by"],
            E::CustomerRevisited { .. } => &["/comment"],
            E::InstallationAccepted { .. } => &["/signed_by", "/comment"],
            E::WarrantyDetermined { .. }
            | E::TechnicianDispatched { .. }
            | E::TechnicianArrived { .. }
            | E::FaultDiagnosed { .. }
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
            | E::InvoiceIssued { .. }
            | E::PaymentRecorded { .. }
            | E::TicketClosed { .. }
            | E::TicketReopened { .. }
            | E::TicketCancelled { .. }
            | E::TicketEscalated { .. }
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
            | E::MaintenanceVisitDone { .. } => &[],
        }
    }
}
