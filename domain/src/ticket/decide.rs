//! The rules: given the state, a command, the time and the policies, decide
//! the one event to record, or refuse. Pure; no I/O.

use chrono::{DateTime, Utc};

use super::checks::{at_most, invalid, money_invalid, positive, same_currency};
use super::command::*;
use super::event::TicketEvent;
use super::status::TicketStatus as S;
use super::types::{FactoryRequest, RepairPath, RootCause, TicketKind};
use super::{Policies, Ticket, TicketError};
use crate::policy::approval::{may_approve_price, may_waive};
use crate::policy::complaint::route;
use crate::policy::permission::may_issue;
use crate::policy::warranty::WarrantyFacts;
use crate::roles::Role;
use crate::timing::{occurred_at, TimingPolicy};
use crate::values::Problem;

/// Most lines a quote, parts list or defect list may have.
pub const MAX_LINES: usize = 200;

/// Where a fee may be waived: from the quote until the cycle is invoiced
/// (the invoice must equal the accepted quote less the waivers).
const WAIVABLE: &[S] = &[
    S::Quoted,
    S::QuoteApproved,
    S::Accepted,
    S::AtFactory,
    S::Repaired,
    S::QcFailed,
    S::QcPassed,
    S::Shipped,
    S::Delivered,
    S::Revisited,
];

impl Ticket {
    pub(super) fn require(&self, command: CommandKind, allowed: &[S]) -> Result<(), TicketError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(TicketError::NotAllowed {
                command,
                status: self.status,
            })
        }
    }

    /// Physical work (repair, factory) may start: the customer accepted the
    /// quote, or no quote is needed.
    fn require_ready_for_work(&self, command: CommandKind) -> Result<(), TicketError> {
        match (self.status, self.chargeable()) {
            (S::Accepted, _) => Ok(()),
            (S::Diagnosed, Some(false)) => Ok(()),
            (S::Diagnosed, None) => Err(TicketError::WarrantyNotDetermined {
                command,
                status: self.status,
            }),
            (S::Diagnosed | S::Quoted | S::QuoteApproved, _) => {
                Err(TicketError::CustomerAcceptanceRequired {
                    command,
                    status: self.status,
                })
            }
            (status, _) => Err(TicketError::NotAllowed { command, status }),
        }
    }

    fn quote_or_refuse(&self, command: CommandKind) -> Result<&super::Quote, TicketError> {
        self.quote.as_ref().ok_or(TicketError::NotAllowed {
            command,
            status: self.status,
        })
    }

    /// Decides the event for `command`, recorded at instant `now`, or
    /// refuses it. The event happens at the command's stated time (checked
    /// against `timing`), or now; every rule below judges that business
    /// time, never the recording time.
    pub fn decide(
        &self,
        command: Authored<TicketCommand>,
        now: DateTime<Utc>,
        policies: &Policies,
        timing: &TimingPolicy,
    ) -> Result<TicketEvent, TicketError> {
        let Authored {
            actor,
            command,
            when,
        } = command;
        let kind = command.kind();
        if !may_issue(actor.role, kind) {
            return Err(TicketError::Forbidden {
                role: actor.role,
                command: kind,
            });
        }
        match (self.status, kind) {
            (S::New, CommandKind::ReceiveTicket) => {}
            (S::New, _) => return Err(TicketError::UnknownTicket),
            (_, CommandKind::ReceiveTicket) => return Err(TicketError::AlreadyReceived),
            (S::Closed, CommandKind::ReopenTicket) => {}
            // A cancelled ticket's item still goes back to its owner.
            (S::Cancelled, CommandKind::HandBackItem) => {}
            (status, _) if status.is_terminal() => {
                return Err(TicketError::NotAllowed {
                    command: kind,
                    status,
                })
            }
            _ => {}
        }
        self.check_flow(kind)?;
        let now = occurred_at(when, now, self.occurred_at, actor.role, timing)?;
        let today = policies.local_date(now);
        use TicketCommand as C;
        use TicketEvent as E;
        Ok(match command {
            C::ReceiveTicket(c) => {
                if let Some(purchased) = c.product.purchased_on {
                    if purchased > today {
                        return Err(invalid(
                            "product.purchase_date",
                            Problem::Malformed("must not be in the future".into()),
                        ));
                    }
                    if c.product.installed_on.is_some_and(|i| i < purchased) {
                        return Err(invalid(
                            "product.installed_on",
                            Problem::Malformed("must not be before the purchase date".into()),
                        ));
                    }
                }
                if c.product.installed_on.is_some_and(|i| i > today) {
                    return Err(invalid(
                        "product.installed_on",
                        Problem::Malformed("must not be in the future".into()),
                    ));
                }
                E::TicketReceived {
                    channel: c.channel,
                    kind: c.kind,
                    customer: c.customer,
                    product: c.product,
                    description: c.description,
                    priority: c.priority,
                    service_mode: c.service_mode,
                    received_at: now,
                    refers_to: c.refers_to,
                }
            }
            C::DetermineWarranty(c) => {
                self.require(
                    kind,
                    &[
                        S::Received,
                        S::Dispatched,
                        S::DispatchAccepted,
                        S::OnSite,
                        S::Diagnosed,
                        S::Reopened,
                        S::Installed,
                        S::InstallationAccepted,
                    ],
                )?;
                let product = self.product.as_ref().ok_or(TicketError::UnknownTicket)?;
                let reported_on = self
                    .received_at
                    .map(|at| policies.local_date(at))
                    .unwrap_or(today);
                let decision = policies.warranty.determine(&WarrantyFacts {
                    product_line: product.line.as_str(),
                    product_model: product.model.as_str(),
                    purchased_on: product.purchased_on,
                    installed_on: product.installed_on,
                    proof_of_purchase: product.proof_of_purchase,
                    service_contract: c.service_contract,
                    reported_on,
                    rest_days: &policies.rest_days,
                });
                E::WarrantyDetermined { decision, at: now }
            }
            C::DispatchTechnician(c) => {
                self.require(
                    kind,
                    &[S::Received, S::Dispatched, S::DispatchAccepted, S::Reopened],
                )?;
                if self.received_at.is_some_and(|r| c.planned_arrival < r) {
                    return Err(invalid(
                        "planned_arrival",
                        Problem::Malformed("must not be before the ticket was received".into()),
                    ));
                }
                E::TechnicianDispatched {
                    technician: c.technician,
                    planned_arrival: c.planned_arrival,
                    at: now,
                }
            }
            C::RecordArrival => {
                self.require(kind, &[S::DispatchAccepted])?;
                let region = self.customer.as_ref().map(|c| c.region);
                let rates = policies.rates_for(self.product.as_ref());
                E::TechnicianArrived {
                    technician: actor.id,
                    travel_cost: region.map(|r| rates.travel(r).clone()),
                    at: now,
                }
            }
            C::DiagnoseFault(c) => {
                self.require(kind, &[S::Received, S::OnSite, S::Reopened, S::Diagnosed])?;
                at_most("failed_parts", c.failed_parts.len(), MAX_LINES)?;
                if c.root_cause == RootCause::Misuse && !c.customer_caused {
                    return Err(invalid(
                        "customer_caused",
                        Problem::Malformed("must be true when the root cause is misuse".into()),
                    ));
                }
                self.check_remedy(kind, c.path, &c.failure_mode, c.customer_caused, policies)?;
                E::FaultDiagnosed {
                    technician: actor.id,
                    symptom: c.symptom,
                    failure_mode: c.failure_mode,
                    failed_parts: c.failed_parts,
                    root_cause: c.root_cause,
                    customer_caused: c.customer_caused,
                    responsible_department: c.responsible_department,
                    path: c.path,
                    major: c.major,
                    at: now,
                }
            }
            C::ResolveRemotely { resolution } => {
                self.require(kind, &[S::Diagnosed])?;
                let path = self.diagnosis.as_ref().map(|d| d.path);
                if let Some(path) = path.filter(|p| *p != RepairPath::RemoteFix) {
                    return Err(TicketError::NotRemoteFix { path });
                }
                E::ResolvedRemotely {
                    technician: actor.id,
                    resolution,
                    at: now,
                }
            }
            C::QuoteRepair(c) => self.decide_quote(kind, c, today, now, policies)?,
            C::ApproveQuote => {
                self.require(kind, &[S::Quoted])?;
                let quote = self.quote_or_refuse(kind)?;
                let may = quote.rule.as_ref().map_or_else(
                    || may_approve_price(actor.role, quote.tier),
                    |rule| rule.may_approve_price(actor.role),
                );
                if !may {
                    return Err(insufficient(actor.role, kind, quote.tier));
                }
                E::QuoteApproved {
                    approver: actor.id,
                    role: actor.role,
                    tier: quote.tier,
                    total: quote.total.clone(),
                    at: now,
                }
            }
            C::AcceptQuote => {
                self.require(kind, &[S::QuoteApproved])?;
                let quote = self.quote_or_refuse(kind)?;
                if today > quote.valid_until {
                    return Err(TicketError::QuoteExpired {
                        valid_until: quote.valid_until,
                    });
                }
                E::QuoteAccepted { at: now }
            }
            C::DeclineQuote { reason } => {
                self.require(kind, &[S::Quoted, S::QuoteApproved])?;
                E::QuoteDeclined { reason, at: now }
            }
            C::ApproveFeeWaiver(c) => {
                self.require(kind, WAIVABLE)?;
                if self.invoiced_this_cycle {
                    return Err(TicketError::AlreadyInvoiced);
                }
                let quote = self.quote_or_refuse(kind)?;
                let may = quote.rule.as_ref().map_or_else(
                    || may_waive(actor.role, quote.tier),
                    |rule| rule.may_waive(actor.role),
                );
                if !may {
                    return Err(insufficient(actor.role, kind, quote.tier));
                }
                positive("amount", &c.amount)?;
                same_currency("amount", &c.amount, &quote.total)?;
                let waivable = match &self.waiver {
                    None => quote.total.clone(),
                    Some(waived) => quote
                        .total
                        .checked_sub(waived)
                        .map_err(|e| money_invalid("amount", &e))?,
                };
                if c.amount.minor() > waivable.minor() {
                    return Err(invalid(
                        "amount",
                        Problem::Malformed(format!(
                            "must not exceed {waivable}, the quoted total {} less the waivers \
                             already approved",
                            quote.total
                        )),
                    ));
                }
                E::FeeWaiverApproved {
                    approver: actor.id,
                    role: actor.role,
                    tier: quote.tier,
                    amount: c.amount,
                    reason: c.reason,
                    at: now,
                }
            }
            C::SendToFactory(c) => {
                self.require_ready_for_work(kind)?;
                if let (FactoryRequest::Exchange, Some(d)) = (c.request, &self.diagnosis) {
                    let (mode, caused) = (&d.failure_mode, d.customer_caused);
                    self.check_remedy(kind, RepairPath::Exchange, mode, caused, policies)?;
                }
                let rates = policies.rates_for(self.product.as_ref());
                E::SentToFactory {
                    factory: c.factory,
                    request: c.request,
                    factory_repair_fee: Some(rates.factory_repair_fee.clone()),
                    at: now,
                }
            }
            C::ReceiveFromFactory(c) => {
                self.require(kind, &[S::AtFactory])?;
                E::ReturnedFromFactory {
                    outcome: c.outcome,
                    note: c.note,
                    at: now,
                }
            }
            C::ShipExchange(c) => {
                self.require(kind, &[S::ExchangeApproved])?;
                let rates = policies.rates_for(self.product.as_ref());
                E::ExchangeShipped {
                    replacement_serial: c.replacement_serial,
                    carrier: c.carrier,
                    tracking_number: c.tracking_number,
                    replacement_unit: Some(rates.replacement_unit.clone()),
                    shipping_cost: Some(rates.shipping_per_shipment.clone()),
                    at: now,
                }
            }
            C::RecordRepair(c) => {
                if self.status != S::QcFailed {
                    self.require_ready_for_work(kind)?;
                }
                at_most("parts", c.parts.len(), MAX_LINES)?;
                if let Some(first) = c.parts.first() {
                    for (i, part) in c.parts.iter().enumerate() {
                        same_currency(
                            &format!("parts[{i}].unit_cost"),
                            &part.unit_cost,
                            &first.unit_cost,
                        )?;
                    }
                }
                let rates = policies.rates_for(self.product.as_ref());
                E::RepairRecorded {
                    technician: actor.id,
                    labour: c.labour,
                    parts: c.parts,
                    notes: c.notes,
                    labour_rate: Some(rates.labour_per_hour.clone()),
                    at: now,
                }
            }
            C::PassQc => {
                self.require(kind, &[S::Repaired])?;
                E::QcPassed {
                    inspector: actor.id,
                    at: now,
                }
            }
            C::FailQc { defects } => {
                self.require(kind, &[S::Repaired])?;
                if defects.is_empty() {
                    return Err(invalid("defects", Problem::Empty));
                }
                at_most("defects", defects.len(), MAX_LINES)?;
                E::QcFailed {
                    inspector: actor.id,
                    failed_checks: defects,
                    rework: self.rework_count + 1,
                    at: now,
                }
            }
            C::ShipItem(c) => self.decide_ship(kind, c, now, policies)?,
            C::ConfirmDelivery { signed_by } => {
                self.require(kind, &[S::Shipped])?;
                E::ItemDelivered {
                    signed_by: signed_by.into(),
                    at: now,
                }
            }
            C::IssueInvoice(c) => self.decide_invoice(kind, c, now, policies)?,
            C::RecordPayment(c) => {
                let outstanding = self.outstanding().ok_or(TicketError::NotInvoiced {
                    status: self.status,
                })?;
                positive("amount", &c.amount)?;
                same_currency("amount", &c.amount, &outstanding)?;
                if c.amount.minor() > outstanding.minor() {
                    return Err(invalid(
                        "amount",
                        Problem::Malformed(format!(
                            "must not exceed the outstanding {outstanding}"
                        )),
                    ));
                }
                E::PaymentRecorded {
                    amount: c.amount,
                    reference: c.reference,
                    at: now,
                }
            }
            C::RecordRevisit(c) => {
                self.require(
                    kind,
                    &[
                        S::Delivered,
                        S::ResolvedRemotely,
                        S::ComplaintReplied,
                        S::RefundPaid,
                    ],
                )?;
                E::CustomerRevisited {
                    by: actor.id,
                    satisfaction: c.satisfaction,
                    average_score: c.satisfaction.average_score(),
                    satisfied: c.satisfaction.is_satisfied(),
                    comment: c.comment.map(Into::into),
                    resolved: c.resolved,
                    at: now,
                }
            }
            C::CloseTicket => {
                self.check_close()?;
                if self.last_revisit_resolved == Some(false) {
                    return Err(TicketError::UnresolvedRevisit);
                }
                if let Some(custody) = &self.custody {
                    return Err(TicketError::ItemInCustody {
                        receipt_number: custody.receipt_number.clone(),
                    });
                }
                self.check_settled()?;
                E::TicketClosed { at: now }
            }
            C::ReopenTicket(c) => {
                self.require(kind, &[S::Closed, S::Revisited])?;
                if c.same_fault {
                    self.within_repair_guarantee(today, policies)?;
                }
                E::TicketReopened {
                    reason: c.reason,
                    same_fault: c.same_fault,
                    cycle: self.cycle + 1,
                    at: now,
                }
            }
            C::CancelTicket { reason } => {
                self.require(
                    kind,
                    &[
                        S::Received,
                        S::Dispatched,
                        S::DispatchAccepted,
                        S::OnSite,
                        S::Diagnosed,
                        S::Quoted,
                        S::QuoteApproved,
                        S::Reopened,
                        S::ComplaintRouted,
                        S::InstallationScheduled,
                    ],
                )?;
                if let Some(outstanding) = self.outstanding().filter(|o| !o.is_zero()) {
                    return Err(TicketError::OutstandingBalance { outstanding });
                }
                E::TicketCancelled { reason, at: now }
            }
            C::EscalateTicket { reason } => {
                if self.escalated {
                    return Err(TicketError::AlreadyEscalated);
                }
                E::TicketEscalated {
                    reason,
                    to: Role::GeneralManager,
                    at: now,
                }
            }
            C::ExtendRepairCycle(c) => self.decide_extension(kind, c, today, now)?,
            C::RouteComplaint { category } => {
                let ticket_kind = self.kind.unwrap_or(TicketKind::Repair);
                if ticket_kind != TicketKind::Complaint {
                    return Err(TicketError::NotAComplaint { kind: ticket_kind });
                }
                self.require(kind, &[S::Received])?;
                E::ComplaintRouted {
                    category,
                    departments: route(category).departments,
                    at: now,
                }
            }
            C::ReplyToComplaint { reply } => {
                self.require(kind, &[S::ComplaintRouted])?;
                E::ComplaintReplied { reply, at: now }
            }
            C::ApproveRefund(c) => self.decide_approve_refund(kind, actor, c, now, policies)?,
            C::RecordItemReturned => self.decide_item_returned(kind, actor, now)?,
            C::PayRefund { reference } => self.decide_pay_refund(kind, reference, now)?,
            C::AcceptDispatch => self.decide_accept_dispatch(kind, actor, now)?,
            C::DeclineDispatch { reason } => {
                self.decide_decline_dispatch(kind, actor, reason, now)?
            }
            C::TakeInItem(c) => self.decide_take_in(kind, actor, c, now)?,
            C::ContactCustomer(c) => self.decide_contact(actor, c, today, now)?,
            C::RecordBackFromTrip => self.decide_back_from_trip(kind, actor, now)?,
            C::FileTripReport { report } => self.decide_trip_report(kind, actor, report, now)?,
            C::HandBackItem { receipt_number } => {
                self.decide_hand_back(kind, actor, receipt_number, now)?
            }
            C::AnswerInquiry { answer } => self.decide_answer_inquiry(kind, actor, answer, now)?,
            C::ScheduleInstallation(c) => self.decide_schedule_installation(kind, c, now)?,
            C::RecordInstallation(c) => {
                let on = policies.local_date(c.installed_at);
                self.decide_record_installation(kind, actor, c, on, now)?
            }
            C::AcceptInstallation(c) => self.decide_accept_installation(kind, c, now)?,
            C::RecordMaintenanceVisit(c) => {
                let on = policies.local_date(c.visited_at);
                self.decide_maintenance_visit(kind, actor, c, on, now)?
            }
        })
    }
}

fn insufficient(
    role: Role,
    command: CommandKind,
    tier: crate::policy::ApprovalTier,
) -> TicketError {
    TicketError::InsufficientAuthority {
        role,
        command,
        tier,
    }
}
