//! What a ticket's events say to FRACAS (pure): the unit (model, serial,
//! batch, in-service date) and one failure record per diagnosis, plus a
//! signal record per QC failure and per reopening.

use chrono::{DateTime, NaiveDate, Utc};
use domain::ticket::types::RootCause;
use domain::LocalTime;
use domain::TicketEvent;
use serde::{Deserialize, Serialize};

/// What produced a failure record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Signal {
    /// A diagnosis: the failure report proper.
    Diagnosis,
    /// QC sent a repair back: the diagnosed failure was not fixed.
    QcFailed,
    /// The ticket was reopened after a revisit or a returning fault.
    Reopened,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::Diagnosis, Signal::QcFailed, Signal::Reopened];

    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Diagnosis => "diagnosis",
            Signal::QcFailed => "qc_failed",
            Signal::Reopened => "reopened",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// One failure report (or signal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRecord {
    pub ticket_id: String,
    /// 1, 2, … within the ticket, in event order.
    pub record_no: u32,
    pub signal: Signal,
    pub occurred_at: DateTime<Utc>,
    /// The local (business) date of the failure report.
    pub failed_on: NaiveDate,
    pub product_model: String,
    pub serial: String,
    pub batch: Option<String>,
    pub failure_mode: String,
    pub symptom: String,
    pub failed_parts: Vec<String>,
    /// Root-cause category (snake_case), for diagnoses.
    pub root_cause: Option<String>,
    pub responsible_department: Option<String>,
    /// Days from the in-service date (installed, else purchased) to
    /// `failed_on`; `None` when neither date is known.
    pub operating_days: Option<i64>,
    pub no_fault_found: bool,
    /// Misuse or customer-caused.
    pub misuse: bool,
    /// The ticket's repair cycle (1 from reception, +1 per reopen).
    pub cycle: u32,
}

impl FailureRecord {
    /// A relevant failure: a diagnosis that found a fault the product is
    /// answerable for (not no-fault-found, not misuse). Only these count in
    /// Pareto, repeat, MTBF and recurrence figures.
    pub fn relevant(&self) -> bool {
        self.signal == Signal::Diagnosis && !self.no_fault_found && !self.misuse
    }
}

/// A product unit as a ticket describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub ticket_id: String,
    pub product_model: String,
    pub serial: String,
    pub batch: Option<String>,
    /// Installed-at date, else purchase date.
    pub in_service_on: Option<NaiveDate>,
    pub received_on: NaiveDate,
}

/// A value's serde name (`snake_case` enums).
fn snake<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The last diagnosis seen: what a QC failure or a reopen refers to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct LastDiagnosis {
    mode: String,
    parts: Vec<String>,
}

/// What FRACAS keeps of one ticket between batches: its unit and records
/// so far, and what the next event needs (the last diagnosis, the cycle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketFailures {
    pub unit: Option<Unit>,
    pub records: Vec<FailureRecord>,
    last: LastDiagnosis,
    cycle: u32,
}

impl Default for TicketFailures {
    fn default() -> Self {
        Self {
            unit: None,
            records: Vec::new(),
            last: LastDiagnosis::default(),
            cycle: 1,
        }
    }
}

impl TicketFailures {
    /// Applies the ticket's next event.
    pub fn step(&mut self, ticket_id: &str, event: &TicketEvent, local: LocalTime) {
        let Some(u) = &self.unit else {
            if let TicketEvent::TicketReceived {
                product,
                received_at,
                ..
            } = event
            {
                self.unit = Some(Unit {
                    ticket_id: ticket_id.to_owned(),
                    product_model: product.model.to_string(),
                    serial: product.serial.to_string(),
                    batch: product.batch.as_ref().map(ToString::to_string),
                    in_service_on: product.installed_on.or(product.purchased_on),
                    received_on: local.local_date(*received_at),
                });
            }
            return;
        };
        let record = |signal, at: &DateTime<Utc>, mode: String, symptom: String| {
            let failed_on = local.local_date(*at);
            FailureRecord {
                ticket_id: ticket_id.to_owned(),
                record_no: u32::try_from(self.records.len() + 1).unwrap_or(u32::MAX),
                signal,
                occurred_at: *at,
                failed_on,
                product_model: u.product_model.clone(),
                serial: u.serial.clone(),
                batch: u.batch.clone(),
                failure_mode: mode,
                symptom,
                failed_parts: self.last.parts.clone(),
                root_cause: None,
                responsible_department: None,
                operating_days: u
                    .in_service_on
                    .map(|start| (failed_on - start).num_days())
                    .filter(|d| *d >= 0),
                no_fault_found: false,
                misuse: false,
                cycle: self.cycle,
            }
        };
        match event {
            TicketEvent::FaultDiagnosed {
                symptom,
                failure_mode,
                failed_parts,
                root_cause,
                customer_caused,
                responsible_department,
                at,
                ..
            } => {
                let mut r = record(
                    Signal::Diagnosis,
                    at,
                    failure_mode.to_string(),
                    symptom.to_string(),
                );
                r.root_cause = Some(root_cause.as_str().to_owned());
                r.responsible_department = Some(snake(responsible_department));
                r.no_fault_found = *root_cause == RootCause::NoFaultFound;
                r.misuse = *root_cause == RootCause::Misuse || *customer_caused;
                r.failed_parts = failed_parts.iter().map(ToString::to_string).collect();
                self.last = LastDiagnosis {
                    mode: r.failure_mode.clone(),
                    parts: r.failed_parts.clone(),
                };
                self.records.push(r);
            }
            TicketEvent::QcFailed {
                failed_checks, at, ..
            } => {
                let defects: Vec<String> = failed_checks.iter().map(ToString::to_string).collect();
                let r = record(
                    Signal::QcFailed,
                    at,
                    self.last.mode.clone(),
                    defects.join("; "),
                );
                self.records.push(r);
            }
            TicketEvent::TicketReopened {
                reason,
                same_fault,
                cycle: next,
                at,
            } => {
                let mode = if *same_fault {
                    self.last.mode.clone()
                } else {
                    String::new()
                };
                let r = record(Signal::Reopened, at, mode, reason.to_string());
                self.records.push(r);
                self.cycle = *next;
            }
            // No effect on this read model; a new event must be placed here or above.
            TicketEvent::TicketReceived { .. }
            | TicketEvent::WarrantyDetermined { .. }
            | TicketEvent::TechnicianDispatched { .. }
            | TicketEvent::TechnicianArrived { .. }
            | TicketEvent::ResolvedRemotely { .. }
            | TicketEvent::RepairQuoted { .. }
            | TicketEvent::QuoteApproved { .. }
            | TicketEvent::QuoteAccepted { .. }
            | TicketEvent::QuoteDeclined { .. }
            | TicketEvent::FeeWaiverApproved { .. }
            | TicketEvent::SentToFactory { .. }
            | TicketEvent::ReturnedFromFactory { .. }
            | TicketEvent::ExchangeShipped { .. }
            | TicketEvent::RepairRecorded { .. }
            | TicketEvent::QcPassed { .. }
            | TicketEvent::ItemShipped { .. }
            | TicketEvent::ItemDelivered { .. }
            | TicketEvent::InvoiceIssued { .. }
            | TicketEvent::PaymentRecorded { .. }
            | TicketEvent::CustomerRevisited { .. }
            | TicketEvent::TicketClosed { .. }
            | TicketEvent::TicketCancelled { .. }
            | TicketEvent::TicketEscalated { .. }
            | TicketEvent::RepairCycleExtended { .. }
            | TicketEvent::ComplaintRouted { .. }
            | TicketEvent::ComplaintReplied { .. }
            | TicketEvent::RefundApproved { .. }
            | TicketEvent::ItemReturned { .. }
            | TicketEvent::RefundPaid { .. }
            | TicketEvent::DispatchAccepted { .. }
            | TicketEvent::DispatchDeclined { .. }
            | TicketEvent::ItemTakenIn { .. }
            | TicketEvent::ItemHandedBack { .. }
            | TicketEvent::CustomerContacted { .. }
            | TicketEvent::TechnicianBack { .. }
            | TicketEvent::TripReportFiled { .. }
            // The short flows (inquiry, installation, maintenance) record no
            // failure: their tickets stay out of FRACAS.
            | TicketEvent::InquiryAnswered { .. }
            | TicketEvent::InstallationScheduled { .. }
            | TicketEvent::ItemInstalled { .. }
            | TicketEvent::InstallationAccepted { .. }
            | TicketEvent::MaintenanceVisitDone { .. } => {}
        }
    }
}

/// The unit and failure records of one ticket, from its events in order.
pub fn failures(
    ticket_id: &str,
    events: &[(TicketEvent, DateTime<Utc>)],
    local: LocalTime,
) -> (Option<Unit>, Vec<FailureRecord>) {
    let mut kept = TicketFailures::default();
    for (event, _) in events {
        kept.step(ticket_id, event, local);
    }
    (kept.unit, kept.records)
}
