//! Why a ticket command was refused. Every variant means "nothing was
//! written". How to surface each to a caller:
//!
//! * `Forbidden`, `InsufficientAuthority`: the caller's role may not do this
//!   (permission denied).
//! * `Invalid`: a field is wrong; the error names it (invalid argument).
//! * `Timing`: the stated `context.occurred_at` is refused (invalid
//!   argument; permission denied if the role may not back-date).
//! * `UnknownTicket`: not found. `AlreadyReceived`: already exists.
//! * every other variant: not allowed in the ticket's current state
//!   (failed precondition); the message names the state or the rule.

use chrono::NaiveDate;

use super::command::CommandKind;
use super::status::TicketStatus;
use super::types::{RepairPath, TicketKind};
use crate::money::Money;
use crate::policy::{ApprovalTier, Remedy};
use crate::roles::Role;
use crate::timing::TimingError;
use crate::values::{ActorId, Label, ValueError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("role {role} may not issue {command}")]
    Forbidden { role: Role, command: CommandKind },
    #[error("role {role} may not {command} at {tier}")]
    InsufficientAuthority {
        role: Role,
        command: CommandKind,
        tier: ApprovalTier,
    },
    #[error("invalid argument: {0}")]
    Invalid(#[from] ValueError),
    /// The stated `context.occurred_at` is refused (invalid argument, or
    /// permission denied when the role may not back-date).
    #[error("invalid argument context.occurred_at: {0}")]
    Timing(#[from] TimingError),
    #[error("ticket not found")]
    UnknownTicket,
    #[error("ticket already exists")]
    AlreadyReceived,
    #[error("{command} is not allowed while the ticket is {status}")]
    NotAllowed {
        command: CommandKind,
        status: TicketStatus,
    },
    #[error("{command} needs the warranty determined first (ticket is {status})")]
    WarrantyNotDetermined {
        command: CommandKind,
        status: TicketStatus,
    },
    #[error("no quote is needed: the ticket is covered by warranty and not customer-caused")]
    QuoteNotNeeded,
    #[error("{command} needs the customer's acceptance of the quote first (ticket is {status})")]
    CustomerAcceptanceRequired {
        command: CommandKind,
        status: TicketStatus,
    },
    #[error("nothing ships before QC passes (ticket is {status})")]
    ShipBeforeQc { status: TicketStatus },
    #[error("the quote expired on {valid_until}")]
    QuoteExpired { valid_until: NaiveDate },
    #[error(
        "the repair guarantee of {days} days after the repair reached the customer \
         (delivered, or fixed remotely) on {delivered_on} has ended: \
         the same fault is a new ticket (ReceiveTicket with refers_to naming this one)"
    )]
    RepairGuaranteeEnded { delivered_on: NaiveDate, days: u32 },
    #[error("the chosen repair path is {path}, not remote_fix")]
    NotRemoteFix { path: RepairPath },
    #[error("the ticket is not chargeable: there is nothing to invoice")]
    NotChargeable,
    #[error("the ticket is already invoiced")]
    AlreadyInvoiced,
    #[error("no invoice has been issued (ticket is {status})")]
    NotInvoiced { status: TicketStatus },
    #[error("the last revisit found the problem unresolved: reopen the ticket instead")]
    UnresolvedRevisit,
    #[error("{outstanding} is still outstanding")]
    OutstandingBalance { outstanding: Money },
    #[error(
        "the accepted quote leaves {agreed} that was never invoiced: issue the invoice and \
         record its payment, or have the balance waived by the tier that may waive it \
         (ApproveFeeWaiver)"
    )]
    AcceptedQuoteNotInvoiced { agreed: Money },
    #[error("the ticket is a {kind}, not a complaint")]
    NotAComplaint { kind: TicketKind },
    #[error("the ticket is already escalated in this cycle")]
    AlreadyEscalated,
    #[error(
        "三包: a refund is open only within {window_days} days of sale; \
         the remedy open to this customer is {open}"
    )]
    RefundWindowClosed { window_days: i64, open: Remedy },
    #[error(
        "三包: an exchange is open within {window_days} days of sale, or within warranty \
         after {needed} failed repairs of the same fault ({failed} so far); \
         the remedy open to this customer is {open}"
    )]
    ExchangeNotOpen {
        window_days: i64,
        needed: u32,
        failed: u32,
        open: Remedy,
    },
    #[error("三包: out of warranty the remedy is repair only, not {path}")]
    OutOfWarrantyRepairOnly { path: RepairPath },
    #[error("三包: a customer-caused fault is repaired, not settled by {path}")]
    CustomerCausedRepairOnly { path: RepairPath },
    #[error("the diagnosis chose {path}, not refund")]
    NotARefund { path: RepairPath },
    #[error(
        "no price cut without approval: the invoice of {amount} is below {expected} \
         (the accepted quote less the approved waivers); waive {difference} first"
    )]
    PriceCutWithoutApproval {
        amount: Money,
        expected: Money,
        difference: Money,
    },
    #[error(
        "the invoice of {amount} is above {expected} (the accepted quote less the \
         approved waivers); a higher price needs a new quote the customer accepts"
    )]
    InvoiceAboveQuote { amount: Money, expected: Money },
    #[error("the job is dispatched to {technician}; only they may accept or decline it")]
    NotYourJob { technician: ActorId },
    #[error("the item is already in custody against receipt {receipt_number}")]
    AlreadyInCustody { receipt_number: Label },
    #[error("{command}: no technician's trip on this ticket is at that point")]
    NotOnATrip { command: CommandKind },
    #[error("the item is not in the company's hands")]
    NotInCustody,
    #[error("receipt {given} does not match receipt {issued} given at intake")]
    ReceiptMismatch { given: Label, issued: Label },
    #[error(
        "{kind} tickets have no {command}: their flow has no diagnosis, quote, repair, QC, \
         shipping or revisit"
    )]
    NotInFlow {
        command: CommandKind,
        kind: TicketKind,
    },
    #[error("{command} is for {expected} tickets; this ticket is a {kind} ticket")]
    WrongKind {
        command: CommandKind,
        expected: TicketKind,
        kind: TicketKind,
    },
    #[error("{kind} tickets close only after {missing}")]
    FlowNotFinished {
        kind: TicketKind,
        missing: CommandKind,
    },
    #[error("the item is still in custody against receipt {receipt_number}: hand it back first")]
    ItemInCustody { receipt_number: Label },
}
