//! The builders of the second half of the ticket lifecycle's messages
//! (from the factory on), called by `ticket::typed`.

use chrono::{DateTime, NaiveDate, Utc};
use domain::money::Money;
use domain::personal::Personal;
use domain::policy::{ApprovalTier, ComplaintCategory, Department};
use domain::values::{ActorId, Label, PartNumber, SerialNumber, Text};
use domain::{Role, TicketStatus};

use super::super::parse as p;
use super::super::pb;
use super::*;

pub(super) fn ticket_closed(at: &DateTime<Utc>) -> pb::TicketClosed {
    pb::TicketClosed { at: ts(at) }
}

pub(super) fn ticket_reopened(
    reason: &Text,
    same_fault: &bool,
    cycle: &u32,
    at: &DateTime<Utc>,
) -> pb::TicketReopened {
    pb::TicketReopened {
        reason: reason.to_string(),
        same_fault: *same_fault,
        cycle: *cycle,
        at: ts(at),
    }
}

pub(super) fn ticket_cancelled(reason: &Text, at: &DateTime<Utc>) -> pb::TicketCancelled {
    pb::TicketCancelled {
        reason: reason.to_string(),
        at: ts(at),
    }
}

pub(super) fn ticket_escalated(
    reason: &Text,
    to: &Role,
    at: &DateTime<Utc>,
) -> pb::TicketEscalated {
    pb::TicketEscalated {
        reason: reason.to_string(),
        to: role_pb(*to),
        at: ts(at),
    }
}

pub(super) fn repair_cycle_extended(
    previous_due_on: &Option<NaiveDate>,
    new_due_on: &NaiveDate,
    reason: &Text,
    at: &DateTime<Utc>,
) -> pb::RepairCycleExtended {
    pb::RepairCycleExtended {
        previous_due_on: date_opt(previous_due_on.as_ref()),
        new_due_on: date(new_due_on),
        reason: reason.to_string(),
        at: ts(at),
    }
}

pub(super) fn complaint_routed(
    category: &ComplaintCategory,
    departments: &[Department],
    at: &DateTime<Utc>,
) -> pb::ComplaintRouted {
    pb::ComplaintRouted {
        category: p::complaint_category_pb(*category) as i32,
        departments: departments
            .iter()
            .map(|d| p::department_pb(*d) as i32)
            .collect(),
        at: ts(at),
    }
}

pub(super) fn complaint_replied(reply: &Text, at: &DateTime<Utc>) -> pb::ComplaintReplied {
    pb::ComplaintReplied {
        reply: reply.to_string(),
        at: ts(at),
    }
}

pub(super) fn refund_approved(
    approver: &ActorId,
    role: &Role,
    tier: &ApprovalTier,
    amount: &Money,
    reason: &Text,
    at: &DateTime<Utc>,
) -> pb::RefundApproved {
    pb::RefundApproved {
        approver: approver.to_string(),
        role: role_pb(*role),
        tier: tier_pb(*tier),
        amount: Some(money(amount)),
        reason: reason.to_string(),
        at: ts(at),
    }
}

pub(super) fn item_returned(received_by: &ActorId, at: &DateTime<Utc>) -> pb::ItemReturned {
    pb::ItemReturned {
        received_by: received_by.to_string(),
        at: ts(at),
    }
}

pub(super) fn refund_paid(amount: &Money, reference: &Label, at: &DateTime<Utc>) -> pb::RefundPaid {
    pb::RefundPaid {
        amount: Some(money(amount)),
        reference: reference.to_string(),
        at: ts(at),
    }
}

pub(super) fn dispatch_accepted(technician: &ActorId, at: &DateTime<Utc>) -> pb::DispatchAccepted {
    pb::DispatchAccepted {
        technician: technician.to_string(),
        at: ts(at),
    }
}

pub(super) fn dispatch_declined(
    technician: &ActorId,
    reason: &Text,
    back_to: &TicketStatus,
    at: &DateTime<Utc>,
) -> pb::DispatchDeclined {
    pb::DispatchDeclined {
        technician: technician.to_string(),
        reason: reason.to_string(),
        back_to: super::super::views::status(*back_to) as i32,
        at: ts(at),
    }
}

pub(super) fn item_taken_in(
    receipt_number: &Label,
    condition: &Text,
    site: &Label,
    bin: &Option<Label>,
    by: &ActorId,
    at: &DateTime<Utc>,
) -> pb::ItemTakenIn {
    pb::ItemTakenIn {
        receipt_number: receipt_number.to_string(),
        condition: condition.to_string(),
        site: site.to_string(),
        bin: text_opt(bin.as_ref()),
        by: by.to_string(),
        at: ts(at),
    }
}

pub(super) fn item_handed_back(
    receipt_number: &Label,
    by: &ActorId,
    at: &DateTime<Utc>,
) -> pb::ItemHandedBack {
    pb::ItemHandedBack {
        receipt_number: receipt_number.to_string(),
        by: by.to_string(),
        at: ts(at),
    }
}

pub(super) fn customer_contacted(
    by: &ActorId,
    commitment: &Text,
    promised_on: &NaiveDate,
    at: &DateTime<Utc>,
) -> pb::CustomerContacted {
    pb::CustomerContacted {
        by: by.to_string(),
        commitment: commitment.to_string(),
        promised_on: date(promised_on),
        at: ts(at),
    }
}

pub(super) fn technician_back(technician: &ActorId, at: &DateTime<Utc>) -> pb::TechnicianBack {
    pb::TechnicianBack {
        technician: technician.to_string(),
        at: ts(at),
    }
}

pub(super) fn trip_report_filed(
    technician: &ActorId,
    report: &Text,
    at: &DateTime<Utc>,
) -> pb::TripReportFiled {
    pb::TripReportFiled {
        technician: technician.to_string(),
        report: report.to_string(),
        at: ts(at),
    }
}

pub(super) fn inquiry_answered(
    by: &ActorId,
    answer: &Text,
    at: &DateTime<Utc>,
) -> pb::InquiryAnswered {
    pb::InquiryAnswered {
        by: by.to_string(),
        answer: answer.to_string(),
        at: ts(at),
    }
}

pub(super) fn installation_scheduled(
    technician: &ActorId,
    window_start: &DateTime<Utc>,
    window_end: &DateTime<Utc>,
    at: &DateTime<Utc>,
) -> pb::InstallationScheduled {
    pb::InstallationScheduled {
        technician: technician.to_string(),
        window_start: ts(window_start),
        window_end: ts(window_end),
        at: ts(at),
    }
}

pub(super) fn item_installed(
    technician: &ActorId,
    installed_at: &DateTime<Utc>,
    installed_on: &NaiveDate,
    serial: &SerialNumber,
    notes: &Text,
    at: &DateTime<Utc>,
) -> pb::ItemInstalled {
    pb::ItemInstalled {
        technician: technician.to_string(),
        installed_at: ts(installed_at),
        installed_on: date(installed_on),
        serial: serial.to_string(),
        notes: notes.to_string(),
        at: ts(at),
    }
}

pub(super) fn installation_accepted(
    signed_by: &Personal<Label>,
    comment: &Option<Personal<Text>>,
    at: &DateTime<Utc>,
) -> pb::InstallationAccepted {
    pb::InstallationAccepted {
        signed_by: personal(signed_by),
        comment: personal_opt(comment.as_ref()),
        at: ts(at),
    }
}

pub(super) fn maintenance_visit_done(
    technician: &ActorId,
    visited_at: &DateTime<Utc>,
    findings: &Text,
    parts_checked: &[PartNumber],
    next_due_on: &Option<NaiveDate>,
    at: &DateTime<Utc>,
) -> pb::MaintenanceVisitDone {
    pb::MaintenanceVisitDone {
        technician: technician.to_string(),
        visited_at: ts(visited_at),
        findings: findings.to_string(),
        parts_checked: strings(parts_checked),
        next_due_on: date_opt(next_due_on.as_ref()),
        at: ts(at),
    }
}
