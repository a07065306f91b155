//! Folding events into the ticket state. Never fails: an event is a fact.

use super::custody::Custody;
use super::event::TicketEvent;
use super::trip::Trip;
use super::types::FactoryOutcome;
use super::{Commitment, Diagnosis, Quote, Ticket};
use crate::money::Money;

fn add(total: &Option<Money>, amount: &Money) -> Option<Money> {
    match total {
        None => Some(amount.clone()),
        // Decide checked the currency; keep the old total if it ever differs.
        Some(t) => Some(t.checked_add(amount).unwrap_or_else(|_| t.clone())),
    }
}

impl Ticket {
    pub(crate) fn evolve(&mut self, event: TicketEvent) {
        use TicketEvent as E;
        self.version += 1;
        self.occurred_at = Some(event.occurred_at());
        self.custody = Custody::step(self.custody.take(), &event);
        if let Some(status) = event.resulting_status() {
            self.status = status;
        }
        match event {
            E::TicketReceived {
                kind,
                customer,
                product,
                priority,
                received_at,
                refers_to,
                ..
            } => {
                self.refers_to = refers_to;
                self.kind = Some(kind);
                self.customer = Some(customer);
                self.product = Some(product);
                self.priority = Some(priority);
                self.received_at = Some(received_at);
                self.cycle = 1;
            }
            E::WarrantyDetermined { decision, .. } => self.warranty = Some(decision),
            E::TechnicianDispatched { technician, .. } => {
                self.technician = Some(technician);
            }
            E::TechnicianArrived { .. } => self.trip = Trip::Away,
            E::TechnicianBack { .. } => self.trip = Trip::ReportDue,
            E::TripReportFiled { .. } => self.trip = Trip::None,
            E::FaultDiagnosed {
                failure_mode,
                root_cause,
                customer_caused,
                path,
                technician,
                major,
                ..
            } => {
                self.technician = Some(technician);
                self.escalated |= major;
                self.diagnosis = Some(Diagnosis {
                    failure_mode,
                    root_cause,
                    customer_caused,
                    path,
                });
            }
            // The guarantee of a remote fix counts from the fix.
            E::ResolvedRemotely { at, .. } => self.delivered_at = Some(at),
            E::RepairQuoted {
                lines,
                total,
                tier,
                valid_until,
                rule,
                ..
            } => {
                // A new quote needs new approvals: the old waiver goes too.
                self.waiver = None;
                self.quote = Some(Quote {
                    lines,
                    total,
                    tier,
                    valid_until,
                    approved_by: None,
                    rule,
                    accepted: false,
                });
            }
            E::QuoteApproved { approver, .. } => {
                if let Some(q) = self.quote.as_mut() {
                    q.approved_by = Some(approver);
                }
            }
            E::QuoteAccepted { .. } => {
                if let Some(q) = self.quote.as_mut() {
                    q.accepted = true;
                }
            }
            E::QuoteDeclined { .. } => {}
            E::FeeWaiverApproved { amount, .. } => self.waiver = add(&self.waiver, &amount),
            E::SentToFactory { .. } => {}
            E::ReturnedFromFactory { outcome, .. } => {
                if outcome == FactoryOutcome::Repaired {
                    self.repairs += 1;
                }
            }
            E::ExchangeShipped { .. } => {}
            E::RepairRecorded { .. } => {
                self.repairs += 1;
            }
            E::QcPassed { .. } => {
                self.qc_passes += 1;
            }
            // A QC failure is caught inside the workshop: the repair never
            // reached the customer, so it is no failed 三包 repair.
            E::QcFailed { rework, .. } => self.rework_count = rework,
            E::ItemShipped { unrepaired, .. } => {
                self.shipped_unrepaired = unrepaired;
            }
            E::ItemDelivered { at, .. } => self.delivered_at = Some(at),
            E::InvoiceIssued { amount, .. } => {
                self.invoiced = add(&self.invoiced, &amount);
                self.invoiced_this_cycle = true;
            }
            E::PaymentRecorded { amount, .. } => self.paid = add(&self.paid, &amount),
            E::CustomerRevisited { resolved, .. } => {
                self.last_revisit_resolved = Some(resolved);
            }
            E::TicketClosed { .. } => {}
            E::TicketReopened {
                same_fault, cycle, ..
            } => {
                self.cycle = cycle;
                self.free_rework = same_fault;
                if same_fault {
                    self.failed_repairs += 1;
                    self.count_failed_repair();
                }
                self.diagnosis = None;
                self.quote = None;
                self.waiver = None;
                self.rework_count = 0;
                self.escalated = false;
                self.due_on = None;
                self.invoiced_this_cycle = false;
                self.last_revisit_resolved = None;
                self.shipped_unrepaired = false;
            }
            E::TicketCancelled { .. } => {}
            E::TicketEscalated { .. } => self.escalated = true,
            E::RepairCycleExtended { new_due_on, .. } => self.due_on = Some(new_due_on),
            E::ComplaintRouted { .. } => {}
            E::ComplaintReplied { .. } => {}
            E::RefundApproved { amount, .. } => self.refund = Some(amount),
            E::ItemReturned { .. } | E::RefundPaid { .. } => {}
            E::DispatchAccepted { .. } => {}
            E::DispatchDeclined { .. } => self.technician = None,
            E::ItemTakenIn { .. } | E::ItemHandedBack { .. } => {}
            E::InquiryAnswered { .. } => {}
            E::InstallationScheduled { technician, .. } => self.technician = Some(technician),
            // The installed unit and the date a warranty counting from
            // installation counts from.
            E::ItemInstalled {
                technician,
                installed_on,
                serial,
                ..
            } => {
                self.technician = Some(technician);
                if let Some(product) = &mut self.product {
                    product.installed_on = Some(installed_on);
                    product.serial = serial;
                }
            }
            E::InstallationAccepted { .. } => {}
            E::MaintenanceVisitDone { technician, .. } => self.technician = Some(technician),
            E::CustomerContacted {
                commitment,
                promised_on,
                ..
            } => {
                self.commitment = Some(Commitment {
                    text: commitment,
                    promised_on,
                })
            }
        }
    }

    /// One more failed repair of the diagnosed fault.
    fn count_failed_repair(&mut self) {
        if let Some(d) = &self.diagnosis {
            *self
                .failed_by_mode
                .entry(d.failure_mode.clone())
                .or_insert(0) += 1;
        }
    }
}
