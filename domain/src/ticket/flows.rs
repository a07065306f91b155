//! The short flows (issue #16.9): inquiry, installation and maintenance
//! tickets do not go through the repair flow (no diagnosis, quote, repair,
//! QC, shipping or revisit).
//!
//! - inquiry: `AnswerInquiry` → `InquiryAnswered`, then close;
//! - installation: `ScheduleInstallation` → `InstallationScheduled` (again
//!   to reschedule), `RecordInstallation` → `ItemInstalled`,
//!   `AcceptInstallation` → `InstallationAccepted`, then close;
//! - maintenance: `RecordMaintenanceVisit` → `MaintenanceVisitDone`, then
//!   close.
//!
//! [`step`] says, for every command, which flow it belongs to; its match has
//! no wildcard, so a new command must be placed. The commands every ticket
//! shares (dispatch, custody, first contact, warranty, escalation, cancel,
//! close, reopen) stay open to the short flows. The installation date is
//! the product's `installed_on` from then on, so a warranty that counts from
//! installation (`CountFrom::Installation`), determined on the ticket after
//! the installation, counts from it.

use chrono::{DateTime, NaiveDate, Utc};

use super::checks::{at_most, invalid};
use super::command::*;
use super::decide::MAX_LINES;
use super::event::TicketEvent;
use super::status::TicketStatus as S;
use super::types::TicketKind;
use super::{Ticket, TicketError};
use crate::roles::Actor;
use crate::values::{Problem, Text};

/// Which flow a ticket of a kind follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Repairs and complaints: diagnosis, quote, repair, QC, shipping,
    /// revisit.
    Repair,
    Inquiry,
    Installation,
    Maintenance,
}

impl Flow {
    pub fn of(kind: TicketKind) -> Self {
        match kind {
            TicketKind::Repair | TicketKind::Complaint => Flow::Repair,
            TicketKind::Inquiry => Flow::Inquiry,
            TicketKind::Installation => Flow::Installation,
            TicketKind::Maintenance => Flow::Maintenance,
        }
    }

    /// The kind of ticket a short flow is for.
    fn ticket_kind(self) -> TicketKind {
        match self {
            Flow::Repair => TicketKind::Repair,
            Flow::Inquiry => TicketKind::Inquiry,
            Flow::Installation => TicketKind::Installation,
            Flow::Maintenance => TicketKind::Maintenance,
        }
    }
}

/// Where a command belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Every kind of ticket.
    Shared,
    /// Only in this flow.
    Of(Flow),
}

/// Which flow `command` is a step of.
pub fn step(command: CommandKind) -> Step {
    use CommandKind as K;
    match command {
        K::ReceiveTicket
        | K::DetermineWarranty
        | K::DispatchTechnician
        | K::AcceptDispatch
        | K::DeclineDispatch
        | K::RecordArrival
        | K::RecordBackFromTrip
        | K::FileTripReport
        | K::TakeInItem
        | K::HandBackItem
        | K::ContactCustomer
        | K::EscalateTicket
        | K::CancelTicket
        | K::CloseTicket
        | K::ReopenTicket => Step::Shared,
        // Complaints only, by their own rule (`TicketError::NotAComplaint`).
        K::RouteComplaint | K::ReplyToComplaint => Step::Shared,
        K::DiagnoseFault
        | K::ResolveRemotely
        | K::QuoteRepair
        | K::ApproveQuote
        | K::AcceptQuote
        | K::DeclineQuote
        | K::ApproveFeeWaiver
        | K::SendToFactory
        | K::ReceiveFromFactory
        | K::ShipExchange
        | K::RecordRepair
        | K::PassQc
        | K::FailQc
        | K::ShipItem
        | K::ConfirmDelivery
        | K::IssueInvoice
        | K::RecordPayment
        | K::RecordRevisit
        | K::ExtendRepairCycle
        | K::ApproveRefund
        | K::RecordItemReturned
        | K::PayRefund => Step::Of(Flow::Repair),
        K::AnswerInquiry => Step::Of(Flow::Inquiry),
        K::ScheduleInstallation | K::RecordInstallation | K::AcceptInstallation => {
            Step::Of(Flow::Installation)
        }
        K::RecordMaintenanceVisit => Step::Of(Flow::Maintenance),
    }
}

/// Where a short flow's work may start: received (or dispatched), or
/// reopened.
const OPEN: &[S] = &[
    S::Received,
    S::Dispatched,
    S::DispatchAccepted,
    S::OnSite,
    S::Reopened,
];

impl Ticket {
    fn ticket_kind(&self) -> TicketKind {
        self.kind.unwrap_or(TicketKind::Repair)
    }

    /// Refuses a command that is not a step of this ticket's flow.
    pub(super) fn check_flow(&self, command: CommandKind) -> Result<(), TicketError> {
        let kind = self.ticket_kind();
        match (Flow::of(kind), step(command)) {
            (_, Step::Shared) => Ok(()),
            (flow, Step::Of(needed)) if flow == needed => Ok(()),
            (Flow::Repair, Step::Of(needed)) => Err(TicketError::WrongKind {
                command,
                expected: needed.ticket_kind(),
                kind,
            }),
            (Flow::Inquiry | Flow::Installation | Flow::Maintenance, Step::Of(Flow::Repair)) => {
                Err(TicketError::NotInFlow { command, kind })
            }
            (Flow::Inquiry | Flow::Installation | Flow::Maintenance, Step::Of(needed)) => {
                Err(TicketError::WrongKind {
                    command,
                    expected: needed.ticket_kind(),
                    kind,
                })
            }
        }
    }

    /// The statuses `CloseTicket` accepts for this ticket's flow, or the
    /// refusal naming the step still missing.
    pub(super) fn check_close(&self) -> Result<(), TicketError> {
        let missing = match Flow::of(self.ticket_kind()) {
            Flow::Repair => return self.require(CommandKind::CloseTicket, &[S::Revisited]),
            Flow::Inquiry => match self.status {
                S::InquiryAnswered => return Ok(()),
                _ => CommandKind::AnswerInquiry,
            },
            Flow::Installation => match self.status {
                S::InstallationAccepted => return Ok(()),
                S::Installed => CommandKind::AcceptInstallation,
                S::InstallationScheduled => CommandKind::RecordInstallation,
                _ => CommandKind::ScheduleInstallation,
            },
            Flow::Maintenance => match self.status {
                S::MaintenanceDone => return Ok(()),
                _ => CommandKind::RecordMaintenanceVisit,
            },
        };
        Err(TicketError::FlowNotFinished {
            kind: self.ticket_kind(),
            missing,
        })
    }

    pub(super) fn decide_answer_inquiry(
        &self,
        kind: CommandKind,
        actor: Actor,
        answer: Text,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        self.require(kind, OPEN)?;
        Ok(TicketEvent::InquiryAnswered {
            by: actor.id,
            answer,
            at: now,
        })
    }

    /// Booked (or booked again) for a window that ends after it starts, not
    /// before the ticket was received.
    pub(super) fn decide_schedule_installation(
        &self,
        kind: CommandKind,
        c: ScheduleInstallation,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        let mut allowed = OPEN.to_vec();
        allowed.push(S::InstallationScheduled);
        self.require(kind, &allowed)?;
        if self.received_at.is_some_and(|r| c.window_start < r) {
            return Err(invalid(
                "window_start",
                Problem::Malformed("must not be before the ticket was received".into()),
            ));
        }
        if c.window_end <= c.window_start {
            return Err(invalid(
                "window_end",
                Problem::Malformed("must be after window_start".into()),
            ));
        }
        Ok(TicketEvent::InstallationScheduled {
            technician: c.technician,
            window_start: c.window_start,
            window_end: c.window_end,
            at: now,
        })
    }

    /// Installed once scheduled, at a time between the ticket's receipt and
    /// now, on or after the purchase date.
    pub(super) fn decide_record_installation(
        &self,
        kind: CommandKind,
        actor: Actor,
        c: RecordInstallation,
        installed_on: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        self.require(kind, &[S::InstallationScheduled])?;
        self.done_between("installed_at", c.installed_at, now)?;
        let purchased = self.product.as_ref().and_then(|p| p.purchased_on);
        if purchased.is_some_and(|p| installed_on < p) {
            return Err(invalid(
                "installed_at",
                Problem::Malformed("must not be before the purchase date".into()),
            ));
        }
        Ok(TicketEvent::ItemInstalled {
            technician: actor.id,
            installed_at: c.installed_at,
            installed_on,
            serial: c.serial,
            notes: c.notes,
            at: now,
        })
    }

    pub(super) fn decide_accept_installation(
        &self,
        kind: CommandKind,
        c: AcceptInstallation,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        self.require(kind, &[S::Installed])?;
        Ok(TicketEvent::InstallationAccepted {
            signed_by: c.signed_by.into(),
            comment: c.comment.map(Into::into),
            at: now,
        })
    }

    /// A visit between the ticket's receipt and now; the next one due after
    /// the day of this one.
    pub(super) fn decide_maintenance_visit(
        &self,
        kind: CommandKind,
        actor: Actor,
        c: RecordMaintenanceVisit,
        visited_on: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        self.require(kind, OPEN)?;
        self.done_between("visited_at", c.visited_at, now)?;
        at_most("parts_checked", c.parts_checked.len(), MAX_LINES)?;
        if c.next_due_on.is_some_and(|due| due <= visited_on) {
            return Err(invalid(
                "next_due_on",
                Problem::Malformed("must be after the day of the visit".into()),
            ));
        }
        Ok(TicketEvent::MaintenanceVisitDone {
            technician: actor.id,
            visited_at: c.visited_at,
            findings: c.findings,
            parts_checked: c.parts_checked,
            next_due_on: c.next_due_on,
            at: now,
        })
    }

    /// Work done at `done` happened after the ticket was received and not
    /// after the event records it.
    fn done_between(
        &self,
        field: &str,
        done: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), TicketError> {
        if self.received_at.is_some_and(|r| done < r) {
            return Err(invalid(
                field,
                Problem::Malformed("must not be before the ticket was received".into()),
            ));
        }
        if done > now {
            return Err(invalid(
                field,
                Problem::Malformed("must not be in the future".into()),
            ));
        }
        Ok(())
    }
}
