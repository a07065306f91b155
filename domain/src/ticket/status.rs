//! Where a ticket is in its lifecycle (DOMAIN.md §2).

use super::types::snake_enum;

snake_enum!(
    /// The lifecycle state. `New` is a ticket with no events yet.
    TicketStatus {
        New => "new",
        Received => "received",
        Dispatched => "dispatched",
        OnSite => "on_site",
        Diagnosed => "diagnosed",
        ResolvedRemotely => "resolved_remotely",
        Quoted => "quoted",
        QuoteApproved => "quote_approved",
        Accepted => "accepted",
        Declined => "declined",
        AtFactory => "at_factory",
        ExchangeApproved => "exchange_approved",
        Repaired => "repaired",
        QcFailed => "qc_failed",
        QcPassed => "qc_passed",
        Shipped => "shipped",
        Delivered => "delivered",
        ComplaintRouted => "complaint_routed",
        ComplaintReplied => "complaint_replied",
        Revisited => "revisited",
        Closed => "closed",
        Reopened => "reopened",
        Cancelled => "cancelled",
        RefundApproved => "refund_approved",
        ItemReturned => "item_returned",
        RefundPaid => "refund_paid",
        DispatchAccepted => "dispatch_accepted",
        InquiryAnswered => "inquiry_answered",
        InstallationScheduled => "installation_scheduled",
        Installed => "installed",
        InstallationAccepted => "installation_accepted",
        MaintenanceDone => "maintenance_done",
    }
);

// The enum comes from a macro, so `#[default]` cannot mark a variant.
#[allow(clippy::derivable_impls)]
impl Default for TicketStatus {
    fn default() -> Self {
        TicketStatus::New
    }
}

impl TicketStatus {
    /// Closed and cancelled tickets accept nothing (a closed one only a reopen).
    pub fn is_terminal(self) -> bool {
        matches!(self, TicketStatus::Closed | TicketStatus::Cancelled)
    }

    /// Work has been diagnosed and the item is not yet back with QC passed:
    /// the repair cycle is running and may be extended.
    pub fn is_repair_in_progress(self) -> bool {
        use TicketStatus as S;
        matches!(
            self,
            S::Diagnosed
                | S::Quoted
                | S::QuoteApproved
                | S::Accepted
                | S::AtFactory
                | S::ExchangeApproved
                | S::Repaired
                | S::QcFailed
        )
    }
}
