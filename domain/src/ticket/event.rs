//! Events: what happened to a ticket. Past tense, immutable, serialized
//! under stable names (`event_type`) with a schema version (`event_version`)
//! so an upcaster can read old shapes later.

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::status::TicketStatus;
use super::types::*;
use crate::money::Money;
use crate::personal::Personal;
use crate::policy::complaint::Department;
use crate::policy::{ApprovalTier, ComplaintCategory, TierRule, WarrantyDecision};
use crate::roles::Role;
use crate::values::{ActorId, Hours, Label, PartNumber, SerialNumber, Text};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TicketEvent {
    TicketReceived {
        channel: Channel,
        kind: TicketKind,
        customer: Customer,
        product: Product,
        description: Text,
        priority: Priority,
        service_mode: ServiceMode,
        received_at: DateTime<Utc>,
        /// The earlier ticket this one follows up, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refers_to: Option<Label>,
    },
    WarrantyDetermined {
        decision: WarrantyDecision,
        at: DateTime<Utc>,
    },
    TechnicianDispatched {
        technician: ActorId,
        planned_arrival: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    TechnicianArrived {
        technician: ActorId,
        /// The visit's travel cost under the policy (by region and line).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        travel_cost: Option<Money>,
        at: DateTime<Utc>,
    },
    FaultDiagnosed {
        technician: ActorId,
        symptom: Text,
        failure_mode: Label,
        failed_parts: Vec<PartNumber>,
        root_cause: RootCause,
        customer_caused: bool,
        responsible_department: Department,
        path: RepairPath,
        /// A major fault: this diagnosis escalates the ticket to the
        /// general manager (the escalation is this event).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        major: bool,
        at: DateTime<Utc>,
    },
    ResolvedRemotely {
        technician: ActorId,
        resolution: Text,
        at: DateTime<Utc>,
    },
    RepairQuoted {
        lines: Vec<QuoteLine>,
        total: Money,
        tier: ApprovalTier,
        valid_until: NaiveDate,
        /// The tier's thresholds and who may approve or waive in it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<TierRule>,
        at: DateTime<Utc>,
    },
    QuoteApproved {
        approver: ActorId,
        role: Role,
        tier: ApprovalTier,
        total: Money,
        at: DateTime<Utc>,
    },
    QuoteAccepted {
        at: DateTime<Utc>,
    },
    QuoteDeclined {
        reason: Text,
        at: DateTime<Utc>,
    },
    FeeWaiverApproved {
        approver: ActorId,
        role: Role,
        tier: ApprovalTier,
        amount: Money,
        reason: Text,
        at: DateTime<Utc>,
    },
    SentToFactory {
        factory: Label,
        request: FactoryRequest,
        /// What the factory's repair costs under the policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        factory_repair_fee: Option<Money>,
        at: DateTime<Utc>,
    },
    ReturnedFromFactory {
        outcome: FactoryOutcome,
        note: Option<Text>,
        at: DateTime<Utc>,
    },
    ExchangeShipped {
        replacement_serial: SerialNumber,
        carrier: Label,
        tracking_number: Label,
        /// The replacement unit's cost and the shipment's, under the policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replacement_unit: Option<Money>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shipping_cost: Option<Money>,
        at: DateTime<Utc>,
    },
    RepairRecorded {
        technician: ActorId,
        labour: Hours,
        parts: Vec<PartUsed>,
        notes: Option<Text>,
        /// The labour rate charged per hour under the policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        labour_rate: Option<Money>,
        at: DateTime<Utc>,
    },
    QcPassed {
        inspector: ActorId,
        at: DateTime<Utc>,
    },
    QcFailed {
        inspector: ActorId,
        /// The QC checks that failed (stored as `defects` before v2).
        failed_checks: Vec<Label>,
        /// How many times this cycle's repair has now been sent back.
        rework: u32,
        at: DateTime<Utc>,
    },
    ItemShipped {
        carrier: Label,
        tracking_number: Label,
        address: Personal<Label>,
        /// True when the item goes back unrepaired after a declined quote.
        unrepaired: bool,
        /// The shipment's cost under the policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shipping_cost: Option<Money>,
        at: DateTime<Utc>,
    },
    ItemDelivered {
        signed_by: Personal<Label>,
        at: DateTime<Utc>,
    },
    InvoiceIssued {
        invoice_number: Label,
        amount: Money,
        at: DateTime<Utc>,
    },
    PaymentRecorded {
        amount: Money,
        reference: Label,
        at: DateTime<Utc>,
    },
    CustomerRevisited {
        by: ActorId,
        satisfaction: Satisfaction,
        average_score: u32,
        satisfied: bool,
        comment: Option<Personal<Text>>,
        resolved: bool,
        at: DateTime<Utc>,
    },
    TicketClosed {
        at: DateTime<Utc>,
    },
    TicketReopened {
        reason: Text,
        same_fault: bool,
        cycle: u32,
        at: DateTime<Utc>,
    },
    TicketCancelled {
        reason: Text,
        at: DateTime<Utc>,
    },
    TicketEscalated {
        reason: Text,
        to: Role,
        at: DateTime<Utc>,
    },
    RepairCycleExtended {
        previous_due_on: Option<NaiveDate>,
        new_due_on: NaiveDate,
        reason: Text,
        at: DateTime<Utc>,
    },
    ComplaintRouted {
        category: ComplaintCategory,
        departments: Vec<Department>,
        at: DateTime<Utc>,
    },
    ComplaintReplied {
        reply: Text,
        at: DateTime<Utc>,
    },
    /// A 三包 refund approved at the tier of its amount.
    RefundApproved {
        approver: ActorId,
        role: Role,
        tier: ApprovalTier,
        amount: Money,
        reason: Text,
        at: DateTime<Utc>,
    },
    /// The refunded item is back in the company's hands.
    ItemReturned {
        received_by: ActorId,
        at: DateTime<Utc>,
    },
    /// The approved refund was paid to the customer.
    RefundPaid {
        amount: Money,
        reference: Label,
        at: DateTime<Utc>,
    },
    /// The dispatched technician took the job.
    DispatchAccepted {
        technician: ActorId,
        at: DateTime<Utc>,
    },
    /// The dispatched technician turned the job down: it goes back to the
    /// queue it came from (`back_to`: received, or reopened).
    DispatchDeclined {
        technician: ActorId,
        reason: Text,
        back_to: TicketStatus,
        at: DateTime<Utc>,
    },
    /// The item came into the company's hands; the customer holds the receipt.
    ItemTakenIn {
        receipt_number: Label,
        condition: Text,
        /// Where it is kept: the site, and the bin or shelf there (stored
        /// as one `location` before v2).
        site: Label,
        #[serde(default)]
        bin: Option<Label>,
        by: ActorId,
        at: DateTime<Utc>,
    },
    /// The item went back to the customer against the receipt.
    ItemHandedBack {
        receipt_number: Label,
        by: ActorId,
        at: DateTime<Utc>,
    },
    /// The customer was contacted and told what will be done by when; the
    /// service-commitment and urgent-response clocks stop on the first.
    CustomerContacted {
        by: ActorId,
        commitment: Text,
        promised_on: NaiveDate,
        at: DateTime<Utc>,
    },
    /// The technician is back from the visit: the trip report is due.
    TechnicianBack {
        technician: ActorId,
        at: DateTime<Utc>,
    },
    /// The technician's report on the trip.
    TripReportFiled {
        technician: ActorId,
        report: Text,
        at: DateTime<Utc>,
    },
    /// An inquiry answered: the ticket may close.
    InquiryAnswered {
        by: ActorId,
        answer: Text,
        at: DateTime<Utc>,
    },
    /// An installation booked with a technician for a window.
    InstallationScheduled {
        technician: ActorId,
        window_start: DateTime<Utc>,
        window_end: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// The unit installed. `installed_on` is the business's local date of
    /// `installed_at`: the date a warranty counting from installation
    /// counts from.
    ItemInstalled {
        technician: ActorId,
        installed_at: DateTime<Utc>,
        installed_on: NaiveDate,
        serial: SerialNumber,
        notes: Text,
        at: DateTime<Utc>,
    },
    /// The customer accepted the installation: the ticket may close.
    InstallationAccepted {
        signed_by: Personal<Label>,
        comment: Option<Personal<Text>>,
        at: DateTime<Utc>,
    },
    /// A maintenance visit done, with its findings: the ticket may close.
    MaintenanceVisitDone {
        technician: ActorId,
        visited_at: DateTime<Utc>,
        findings: Text,
        parts_checked: Vec<PartNumber>,
        next_due_on: Option<NaiveDate>,
        at: DateTime<Utc>,
    },
}

event_names!(
    TicketEvent;
    TicketReceived,
    WarrantyDetermined,
    TechnicianDispatched,
    TechnicianArrived,
    FaultDiagnosed,
    ResolvedRemotely,
    RepairQuoted,
    QuoteApproved,
    QuoteAccepted,
    QuoteDeclined,
    FeeWaiverApproved,
    SentToFactory,
    ReturnedFromFactory,
    ExchangeShipped,
    RepairRecorded,
    QcPassed,
    QcFailed,
    ItemShipped,
    ItemDelivered,
    InvoiceIssued,
    PaymentRecorded,
    CustomerRevisited,
    TicketClosed,
    TicketReopened,
    TicketCancelled,
    TicketEscalated,
    RepairCycleExtended,
    ComplaintRouted,
    ComplaintReplied,
    RefundApproved,
    ItemReturned,
    RefundPaid,
    DispatchAccepted,
    DispatchDeclined,
    ItemTakenIn,
    ItemHandedBack,
    CustomerContacted,
    TechnicianBack,
    TripReportFiled,
    InquiryAnswered,
    InstallationScheduled,
    ItemInstalled,
    InstallationAccepted,
    MaintenanceVisitDone,
);

impl TicketEvent {
    /// When it happened (business time): the command's stated
    /// `occurred_at`, or the instant it was recorded.
    pub fn occurred_at(&self) -> DateTime<Utc> {
        use TicketEvent as E;
        match self {
            E::TicketReceived { received_at, .. } => *received_at,
            E::WarrantyDetermined { at, .. }
            | E::TechnicianDispatched { at, .. }
            | E::TechnicianArrived { at, .. }
            | E::FaultDiagnosed { at, .. }
            | E::ResolvedRemotely { at, .. }
            | E::RepairQuoted { at, .. }
            | E::QuoteApproved { at, .. }
            | E::QuoteAccepted { at, .. }
            | E::QuoteDeclined { at, .. }
            | E::FeeWaiverApproved { at, .. }
            | E::SentToFactory { at, .. }
            | E::ReturnedFromFactory { at, .. }
            | E::ExchangeShipped { at, .. }
            | E::RepairRecorded { at, .. }
            | E::QcPassed { at, .. }
            | E::QcFailed { at, .. }
            | E::ItemShipped { at, .. }
            | E::ItemDelivered { at, .. }
            | E::InvoiceIssued { at, .. }
            | E::PaymentRecorded { at, .. }
            | E::CustomerRevisited { at, .. }
            | E::TicketClosed { at, .. }
            | E::TicketReopened { at, .. }
            | E::TicketCancelled { at, .. }
            | E::TicketEscalated { at, .. }
            | E::RepairCycleExtended { at, .. }
            | E::ComplaintRouted { at, .. }
            | E::ComplaintReplied { at, .. }
            | E::RefundApproved { at, .. }
            | E::ItemReturned { at, .. }
            | E::RefundPaid { at, .. }
            | E::DispatchAccepted { at, .. }
            | E::DispatchDeclined { at, .. }
            | E::ItemTakenIn { at, .. }
            | E::ItemHandedBack { at, .. }
            | E::CustomerContacted { at, .. }
            | E::TechnicianBack { at, .. }
            | E::TripReportFiled { at, .. }
            | E::InquiryAnswered { at, .. }
            | E::InstallationScheduled { at, .. }
            | E::ItemInstalled { at, .. }
            | E::InstallationAccepted { at, .. }
            | E::MaintenanceVisitDone { at, .. } => *at,
        }
    }
}

impl TicketEvent {
    /// The status this event moves the ticket to; `None` leaves it as it was.
    /// The one place the lifecycle's target states are written down: both
    /// the aggregate and the read models use it.
    pub fn resulting_status(&self) -> Option<TicketStatus> {
        use TicketEvent as E;
        use TicketStatus as S;
        Some(match self {
            E::TicketReceived { .. } => S::Received,
            E::TechnicianDispatched { .. } => S::Dispatched,
            E::TechnicianArrived { .. } => S::OnSite,
            E::FaultDiagnosed { .. } => S::Diagnosed,
            E::ResolvedRemotely { .. } => S::ResolvedRemotely,
            E::RepairQuoted { .. } => S::Quoted,
            E::QuoteApproved { .. } => S::QuoteApproved,
            E::QuoteAccepted { .. } => S::Accepted,
            E::QuoteDeclined { .. } => S::Declined,
            E::SentToFactory { .. } => S::AtFactory,
            E::ReturnedFromFactory { outcome, .. } => match outcome {
                FactoryOutcome::Repaired => S::Repaired,
                FactoryOutcome::ExchangeAgreed => S::ExchangeApproved,
                FactoryOutcome::Refused => S::Diagnosed,
            },
            E::ExchangeShipped { .. } | E::ItemShipped { .. } => S::Shipped,
            E::RepairRecorded { .. } => S::Repaired,
            E::QcPassed { .. } => S::QcPassed,
            E::QcFailed { .. } => S::QcFailed,
            E::ItemDelivered { .. } => S::Delivered,
            E::CustomerRevisited { .. } => S::Revisited,
            E::TicketClosed { .. } => S::Closed,
            E::TicketReopened { .. } => S::Reopened,
            E::TicketCancelled { .. } => S::Cancelled,
            E::ComplaintRouted { .. } => S::ComplaintRouted,
            E::ComplaintReplied { .. } => S::ComplaintReplied,
            E::RefundApproved { .. } => S::RefundApproved,
            E::ItemReturned { .. } => S::ItemReturned,
            E::RefundPaid { .. } => S::RefundPaid,
            E::DispatchAccepted { .. } => S::DispatchAccepted,
            E::DispatchDeclined { back_to, .. } => *back_to,
            E::InquiryAnswered { .. } => S::InquiryAnswered,
            E::InstallationScheduled { .. } => S::InstallationScheduled,
            E::ItemInstalled { .. } => S::Installed,
            E::InstallationAccepted { .. } => S::InstallationAccepted,
            E::MaintenanceVisitDone { .. } => S::MaintenanceDone,
            E::WarrantyDetermined { .. }
            | E::FeeWaiverApproved { .. }
            | E::InvoiceIssued { .. }
            | E::PaymentRecorded { .. }
            | E::TicketEscalated { .. }
            | E::RepairCycleExtended { .. }
            | E::ItemTakenIn { .. }
            | E::ItemHandedBack { .. }
            | E::CustomerContacted { .. }
            | E::TechnicianBack { .. }
            | E::TripReportFiled { .. } => return None,
        })
    }

    /// The technician this event assigns, if any.
    pub fn technician(&self) -> Option<&ActorId> {
        match self {
            TicketEvent::TechnicianDispatched { technician, .. }
            | TicketEvent::FaultDiagnosed { technician, .. }
            | TicketEvent::RepairRecorded { technician, .. }
            | TicketEvent::InstallationScheduled { technician, .. }
            | TicketEvent::ItemInstalled { technician, .. }
            | TicketEvent::MaintenanceVisitDone { technician, .. } => Some(technician),
            _ => None,
        }
    }
}

impl DomainEvent for TicketEvent {
    fn event_type(&self) -> String {
        self.name().to_owned()
    }

    /// Per type: see [`crate::schema`].
    fn event_version(&self) -> String {
        crate::schema::version_label(crate::schema::current_version(self.name()))
    }
}
