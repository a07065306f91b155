//! Custody of the item (000 第一篇 4.4.4; 001 篇十四 第六–七条; 003 维修服务流程
//! 2): taking the item in gives the customer a receipt and notes its
//! condition; handing it back reclaims that receipt. While the company holds
//! it, the ticket knows since when and where (the intake location, or the
//! factory it was sent to). Shipping it back by carrier ends custody too.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::command::{CommandKind, ShipItem, TakeInItem};
use super::event::TicketEvent;
use super::status::TicketStatus as S;
use super::{Policies, Ticket, TicketError};
use crate::roles::Actor;
use crate::values::Label;

/// The item in the company's hands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Custody {
    pub receipt_number: Label,
    pub since: DateTime<Utc>,
    /// Where it was taken in.
    pub intake_location: Label,
    /// Where it is now: the intake location, or the factory.
    pub location: Label,
}

impl Custody {
    /// Custody after `event`: the one fold both the aggregate and the
    /// custody list use.
    pub fn step(current: Option<Custody>, event: &TicketEvent) -> Option<Custody> {
        use TicketEvent as E;
        match event {
            E::ItemTakenIn {
                receipt_number,
                site,
                at,
                ..
            } => Some(Custody {
                receipt_number: receipt_number.clone(),
                since: *at,
                intake_location: site.clone(),
                location: site.clone(),
            }),
            E::ItemHandedBack { .. } | E::ItemShipped { .. } | E::ExchangeShipped { .. } => None,
            E::SentToFactory { factory, .. } => current.map(|c| Custody {
                location: factory.clone(),
                ..c
            }),
            E::ReturnedFromFactory { .. } => current.map(|c| Custody {
                location: c.intake_location.clone(),
                ..c
            }),
            // No effect on custody; a new event must be placed here or above.
            E::TicketReceived { .. }
            | E::WarrantyDetermined { .. }
            | E::TechnicianDispatched { .. }
            | E::TechnicianArrived { .. }
            | E::FaultDiagnosed { .. }
            | E::ResolvedRemotely { .. }
            | E::RepairQuoted { .. }
            | E::QuoteApproved { .. }
            | E::QuoteAccepted { .. }
            | E::QuoteDeclined { .. }
            | E::FeeWaiverApproved { .. }
            | E::RepairRecorded { .. }
            | E::QcPassed { .. }
            | E::QcFailed { .. }
            | E::ItemDelivered { .. }
            | E::InvoiceIssued { .. }
            | E::PaymentRecorded { .. }
            | E::CustomerRevisited { .. }
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
            | E::CustomerContacted { .. }
            | E::TechnicianBack { .. }
            | E::TripReportFiled { .. }
            | E::InquiryAnswered { .. }
            | E::InstallationScheduled { .. }
            | E::ItemInstalled { .. }
            | E::InstallationAccepted { .. }
            | E::MaintenanceVisitDone { .. } => current,
        }
    }

    /// The event types [`Custody::step`] reads (the custody list selects
    /// only these).
    pub const EVENT_TYPES: &'static [&'static str] = &[
        "ItemTakenIn",
        "ItemHandedBack",
        "ItemShipped",
        "ExchangeShipped",
        "SentToFactory",
        "ReturnedFromFactory",
    ];
}

impl Ticket {
    pub(super) fn decide_take_in(
        &self,
        kind: CommandKind,
        actor: Actor,
        c: TakeInItem,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        if let Some(custody) = &self.custody {
            return Err(TicketError::AlreadyInCustody {
                receipt_number: custody.receipt_number.clone(),
            });
        }
        if matches!(self.status, S::Shipped | S::Delivered) {
            return Err(TicketError::NotAllowed {
                command: kind,
                status: self.status,
            });
        }
        Ok(TicketEvent::ItemTakenIn {
            receipt_number: c.receipt_number,
            condition: c.condition,
            site: c.location,
            bin: c.bin,
            by: actor.id,
            at: now,
        })
    }

    /// Only against the receipt given at intake, and not while the item is
    /// being repaired.
    pub(super) fn decide_hand_back(
        &self,
        kind: CommandKind,
        actor: Actor,
        receipt_number: Label,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        let custody = self.custody.as_ref().ok_or(TicketError::NotInCustody)?;
        if custody.receipt_number != receipt_number {
            return Err(TicketError::ReceiptMismatch {
                given: receipt_number,
                issued: custody.receipt_number.clone(),
            });
        }
        if self.status.is_repair_in_progress() {
            return Err(TicketError::NotAllowed {
                command: kind,
                status: self.status,
            });
        }
        Ok(TicketEvent::ItemHandedBack {
            receipt_number,
            by: actor.id,
            at: now,
        })
    }
}

impl Ticket {
    /// Shipping the item back: only once it passed QC (or, a quote
    /// declined, unrepaired), at the policy's shipping cost.
    pub(super) fn decide_ship(
        &self,
        kind: CommandKind,
        c: ShipItem,
        now: DateTime<Utc>,
        policies: &Policies,
    ) -> Result<TicketEvent, TicketError> {
        match self.status {
            S::QcPassed | S::Declined => {}
            S::Received
            | S::Dispatched
            | S::DispatchAccepted
            | S::OnSite
            | S::Diagnosed
            | S::Quoted
            | S::QuoteApproved
            | S::Accepted
            | S::AtFactory
            | S::ExchangeApproved
            | S::Repaired
            | S::QcFailed
            | S::Reopened => {
                return Err(TicketError::ShipBeforeQc {
                    status: self.status,
                })
            }
            status => {
                return Err(TicketError::NotAllowed {
                    command: kind,
                    status,
                })
            }
        }
        Ok(TicketEvent::ItemShipped {
            carrier: c.carrier,
            tracking_number: c.tracking_number,
            address: c.address.into(),
            unrepaired: self.status == S::Declined,
            shipping_cost: Some(
                policies
                    .rates_for(self.product.as_ref())
                    .shipping_per_shipment
                    .clone(),
            ),
            at: now,
        })
    }
}
