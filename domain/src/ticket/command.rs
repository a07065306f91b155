//! Commands: what a caller asks the ticket to do. Each carries already
//! parsed values; cross-field and state rules are checked by the aggregate.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::types::*;
use crate::money::Money;
use crate::policy::ComplaintCategory;
use crate::policy::Department;
use crate::roles::Actor;
use crate::timing::When;
use crate::values::{ActorId, Hours, Label, PartNumber, SerialNumber, Text};

/// A command together with who issues it, in which role, and when it says
/// its event happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Authored<C> {
    pub actor: Actor,
    pub command: C,
    pub when: When,
}

impl<C> Authored<C> {
    /// A live command whose event happens now.
    pub fn now(actor: Actor, command: C) -> Self {
        Self {
            actor,
            command,
            when: When::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiveTicket {
    pub channel: Channel,
    pub kind: TicketKind,
    pub customer: Customer,
    pub product: Product,
    pub description: Text,
    pub priority: Priority,
    pub service_mode: ServiceMode,
    /// An earlier ticket this one follows up: the same fault back after
    /// that ticket's repair guarantee ended (DOMAIN.md §4).
    pub refers_to: Option<Label>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetermineWarranty {
    pub service_contract: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchTechnician {
    pub technician: ActorId,
    pub planned_arrival: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnoseFault {
    pub symptom: Text,
    pub failure_mode: Label,
    pub failed_parts: Vec<PartNumber>,
    pub root_cause: RootCause,
    pub customer_caused: bool,
    pub responsible_department: Department,
    pub path: RepairPath,
    /// A major fault: the diagnosis escalates the ticket to the general
    /// manager by itself (001 篇一 第八条).
    pub major: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteRepair {
    pub lines: Vec<QuoteLine>,
    pub valid_until: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApproveFeeWaiver {
    pub amount: Money,
    pub reason: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendToFactory {
    pub factory: Label,
    pub request: FactoryRequest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiveFromFactory {
    pub outcome: FactoryOutcome,
    pub note: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipExchange {
    pub replacement_serial: SerialNumber,
    pub carrier: Label,
    pub tracking_number: Label,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRepair {
    pub labour: Hours,
    pub parts: Vec<PartUsed>,
    pub notes: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipItem {
    pub carrier: Label,
    pub tracking_number: Label,
    pub address: Label,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueInvoice {
    pub invoice_number: Label,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordPayment {
    pub amount: Money,
    pub reference: Label,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRevisit {
    pub satisfaction: Satisfaction,
    pub comment: Option<Text>,
    pub resolved: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReopenTicket {
    pub reason: Text,
    /// The same fault came back (counts towards the two-failed-repairs exchange rule).
    pub same_fault: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendRepairCycle {
    pub new_due_on: NaiveDate,
    pub reason: Text,
    pub customer_notified: bool,
}

/// Approving a 三包 refund of `amount` (the price paid), at the tier of
/// the amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApproveRefund {
    pub amount: Money,
    pub reason: Text,
}

/// Taking the item into the company's hands against a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakeInItem {
    /// The number on the receipt given to the customer.
    pub receipt_number: Label,
    /// The item's condition at intake (marks, missing parts, accessories).
    pub condition: Text,
    /// Where it is kept: the site (service point, workshop)...
    pub location: Label,
    /// ...and the bin or shelf there, if the site uses them.
    pub bin: Option<Label>,
}

/// Contacting the customer and what was promised: what will be done, and
/// by when (000 第二篇 四(四); 002 五).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactCustomer {
    pub commitment: Text,
    pub promised_on: NaiveDate,
}

/// Booking an installation: the technician and the window agreed with the
/// customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleInstallation {
    pub technician: ActorId,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
}

/// The unit installed: when, which serial, and the installer's notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordInstallation {
    pub installed_at: DateTime<Utc>,
    pub serial: SerialNumber,
    pub notes: Text,
}

/// The customer accepts the installation: who signed, and what they said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptInstallation {
    pub signed_by: Label,
    pub comment: Option<Text>,
}

/// A maintenance visit done: when, what was found, which parts were
/// checked, and when the next one is due (if agreed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordMaintenanceVisit {
    pub visited_at: DateTime<Utc>,
    pub findings: Text,
    pub parts_checked: Vec<PartNumber>,
    pub next_due_on: Option<NaiveDate>,
}

/// Everything a caller can ask of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TicketCommand {
    ReceiveTicket(ReceiveTicket),
    DetermineWarranty(DetermineWarranty),
    DispatchTechnician(DispatchTechnician),
    RecordArrival,
    DiagnoseFault(DiagnoseFault),
    ResolveRemotely { resolution: Text },
    QuoteRepair(QuoteRepair),
    ApproveQuote,
    AcceptQuote,
    DeclineQuote { reason: Text },
    ApproveFeeWaiver(ApproveFeeWaiver),
    SendToFactory(SendToFactory),
    ReceiveFromFactory(ReceiveFromFactory),
    ShipExchange(ShipExchange),
    RecordRepair(RecordRepair),
    PassQc,
    FailQc { defects: Vec<Label> },
    ShipItem(ShipItem),
    ConfirmDelivery { signed_by: Label },
    IssueInvoice(IssueInvoice),
    RecordPayment(RecordPayment),
    RecordRevisit(RecordRevisit),
    CloseTicket,
    ReopenTicket(ReopenTicket),
    CancelTicket { reason: Text },
    EscalateTicket { reason: Text },
    ExtendRepairCycle(ExtendRepairCycle),
    RouteComplaint { category: ComplaintCategory },
    ReplyToComplaint { reply: Text },
    ApproveRefund(ApproveRefund),
    RecordItemReturned,
    PayRefund { reference: Label },
    AcceptDispatch,
    DeclineDispatch { reason: Text },
    TakeInItem(TakeInItem),
    HandBackItem { receipt_number: Label },
    ContactCustomer(ContactCustomer),
    RecordBackFromTrip,
    FileTripReport { report: Text },
    AnswerInquiry { answer: Text },
    ScheduleInstallation(ScheduleInstallation),
    RecordInstallation(RecordInstallation),
    AcceptInstallation(AcceptInstallation),
    RecordMaintenanceVisit(RecordMaintenanceVisit),
}

snake_enum!(
    /// The name of a command, without its data: for permissions and errors.
    CommandKind {
        ReceiveTicket => "ReceiveTicket",
        DetermineWarranty => "DetermineWarranty",
        DispatchTechnician => "DispatchTechnician",
        RecordArrival => "RecordArrival",
        DiagnoseFault => "DiagnoseFault",
        ResolveRemotely => "ResolveRemotely",
        QuoteRepair => "QuoteRepair",
        ApproveQuote => "ApproveQuote",
        AcceptQuote => "AcceptQuote",
        DeclineQuote => "DeclineQuote",
        ApproveFeeWaiver => "ApproveFeeWaiver",
        SendToFactory => "SendToFactory",
        ReceiveFromFactory => "ReceiveFromFactory",
        ShipExchange => "ShipExchange",
        RecordRepair => "RecordRepair",
        PassQc => "PassQc",
        FailQc => "FailQc",
        ShipItem => "ShipItem",
        ConfirmDelivery => "ConfirmDelivery",
        IssueInvoice => "IssueInvoice",
        RecordPayment => "RecordPayment",
        RecordRevisit => "RecordRevisit",
        CloseTicket => "CloseTicket",
        ReopenTicket => "ReopenTicket",
        CancelTicket => "CancelTicket",
        EscalateTicket => "EscalateTicket",
        ExtendRepairCycle => "ExtendRepairCycle",
        RouteComplaint => "RouteComplaint",
        ReplyToComplaint => "ReplyToComplaint",
        ApproveRefund => "ApproveRefund",
        RecordItemReturned => "RecordItemReturned",
        PayRefund => "PayRefund",
        AcceptDispatch => "AcceptDispatch",
        DeclineDispatch => "DeclineDispatch",
        TakeInItem => "TakeInItem",
        HandBackItem => "HandBackItem",
        ContactCustomer => "ContactCustomer",
        RecordBackFromTrip => "RecordBackFromTrip",
        FileTripReport => "FileTripReport",
        AnswerInquiry => "AnswerInquiry",
        ScheduleInstallation => "ScheduleInstallation",
        RecordInstallation => "RecordInstallation",
        AcceptInstallation => "AcceptInstallation",
        RecordMaintenanceVisit => "RecordMaintenanceVisit",
    }
);

impl TicketCommand {
    pub fn kind(&self) -> CommandKind {
        use TicketCommand as C;
        match self {
            C::ReceiveTicket(_) => CommandKind::ReceiveTicket,
            C::DetermineWarranty(_) => CommandKind::DetermineWarranty,
            C::DispatchTechnician(_) => CommandKind::DispatchTechnician,
            C::RecordArrival => CommandKind::RecordArrival,
            C::DiagnoseFault(_) => CommandKind::DiagnoseFault,
            C::ResolveRemotely { .. } => CommandKind::ResolveRemotely,
            C::QuoteRepair(_) => CommandKind::QuoteRepair,
            C::ApproveQuote => CommandKind::ApproveQuote,
            C::AcceptQuote => CommandKind::AcceptQuote,
            C::DeclineQuote { .. } => CommandKind::DeclineQuote,
            C::ApproveFeeWaiver(_) => CommandKind::ApproveFeeWaiver,
            C::SendToFactory(_) => CommandKind::SendToFactory,
            C::ReceiveFromFactory(_) => CommandKind::ReceiveFromFactory,
            C::ShipExchange(_) => CommandKind::ShipExchange,
            C::RecordRepair(_) => CommandKind::RecordRepair,
            C::PassQc => CommandKind::PassQc,
            C::FailQc { .. } => CommandKind::FailQc,
            C::ShipItem(_) => CommandKind::ShipItem,
            C::ConfirmDelivery { .. } => CommandKind::ConfirmDelivery,
            C::IssueInvoice(_) => CommandKind::IssueInvoice,
            C::RecordPayment(_) => CommandKind::RecordPayment,
            C::RecordRevisit(_) => CommandKind::RecordRevisit,
            C::CloseTicket => CommandKind::CloseTicket,
            C::ReopenTicket(_) => CommandKind::ReopenTicket,
            C::CancelTicket { .. } => CommandKind::CancelTicket,
            C::EscalateTicket { .. } => CommandKind::EscalateTicket,
            C::ExtendRepairCycle(_) => CommandKind::ExtendRepairCycle,
            C::RouteComplaint { .. } => CommandKind::RouteComplaint,
            C::ReplyToComplaint { .. } => CommandKind::ReplyToComplaint,
            C::ApproveRefund(_) => CommandKind::ApproveRefund,
            C::RecordItemReturned => CommandKind::RecordItemReturned,
            C::PayRefund { .. } => CommandKind::PayRefund,
            C::AcceptDispatch => CommandKind::AcceptDispatch,
            C::DeclineDispatch { .. } => CommandKind::DeclineDispatch,
            C::TakeInItem(_) => CommandKind::TakeInItem,
            C::HandBackItem { .. } => CommandKind::HandBackItem,
            C::ContactCustomer(_) => CommandKind::ContactCustomer,
            C::RecordBackFromTrip => CommandKind::RecordBackFromTrip,
            C::FileTripReport { .. } => CommandKind::FileTripReport,
            C::AnswerInquiry { .. } => CommandKind::AnswerInquiry,
            C::ScheduleInstallation(_) => CommandKind::ScheduleInstallation,
            C::RecordInstallation(_) => CommandKind::RecordInstallation,
            C::AcceptInstallation(_) => CommandKind::AcceptInstallation,
            C::RecordMaintenanceVisit(_) => CommandKind::RecordMaintenanceVisit,
        }
    }
}
