//! The 三包 remedies (DOMAIN.md §4) as the ticket enforces them: a refund
//! only within the return window; an exchange within the exchange window,
//! or within warranty after enough failed repairs of the same fault (repairs
//! that reached the customer and came back with that fault: same-fault
//! reopens; a QC failure inside the workshop is not one), the number the
//! warranty decision recorded from the policy in force; out of warranty, or for a
//! customer-caused fault, repair only. And the refund path: approved at the
//! tier of its amount, item returned, refund paid.

use chrono::{DateTime, Utc};

use super::checks::{money_invalid, positive};
use super::command::{ApproveRefund, CommandKind};
use super::event::TicketEvent;
use super::status::TicketStatus as S;
use super::types::RepairPath;
use super::{Policies, Ticket, TicketError};
use crate::policy::{Remedy, WarrantyStatus};
use crate::roles::Actor;
use crate::values::Label;

impl Ticket {
    /// Failed repairs of `failure_mode` over the ticket's life: same-fault
    /// reopens after a repair of that fault reached the customer.
    pub fn failed_repairs_of(&self, failure_mode: &Label) -> u32 {
        self.failed_by_mode.get(failure_mode).copied().unwrap_or(0)
    }

    /// Refuses `path` when it is a refund or an exchange the customer is
    /// not (or no longer) entitled to; any repair path passes.
    pub(super) fn check_remedy(
        &self,
        command: CommandKind,
        path: RepairPath,
        failure_mode: &Label,
        customer_caused: bool,
        policies: &Policies,
    ) -> Result<(), TicketError> {
        let wanted = match path {
            RepairPath::Refund => Remedy::Return,
            RepairPath::Exchange => Remedy::Exchange,
            RepairPath::RemoteFix
            | RepairPath::OnSiteRepair
            | RepairPath::WorkshopRepair
            | RepairPath::ReturnToFactory => return Ok(()),
        };
        let decision = self
            .warranty
            .as_ref()
            .ok_or(TicketError::WarrantyNotDetermined {
                command,
                status: self.status,
            })?;
        if decision.status == WarrantyStatus::OutOfWarranty {
            return Err(TicketError::OutOfWarrantyRepairOnly { path });
        }
        if customer_caused {
            return Err(TicketError::CustomerCausedRepairOnly { path });
        }
        let warranty = &policies.warranty;
        let failed = self.failed_repairs_of(failure_mode);
        let open = warranty.remedy_after_failed_repairs(decision, failed);
        if open >= wanted {
            return Ok(());
        }
        Err(match wanted {
            Remedy::Return => TicketError::RefundWindowClosed {
                window_days: warranty.return_window_days,
                open,
            },
            _ => TicketError::ExchangeNotOpen {
                window_days: warranty.exchange_window_days,
                needed: warranty.exchange_threshold(decision),
                failed,
                open,
            },
        })
    }

    /// The diagnosis chose a refund, and it is still open.
    pub(super) fn decide_approve_refund(
        &self,
        kind: CommandKind,
        actor: Actor,
        c: ApproveRefund,
        now: DateTime<Utc>,
        policies: &Policies,
    ) -> Result<TicketEvent, TicketError> {
        self.require(kind, &[S::Diagnosed])?;
        let diagnosis = self.diagnosis.as_ref().ok_or(TicketError::NotAllowed {
            command: kind,
            status: self.status,
        })?;
        if diagnosis.path != RepairPath::Refund {
            return Err(TicketError::NotARefund {
                path: diagnosis.path,
            });
        }
        self.check_remedy(
            kind,
            diagnosis.path,
            &diagnosis.failure_mode,
            diagnosis.customer_caused,
            policies,
        )?;
        positive("amount", &c.amount)?;
        let rule = policies
            .approval
            .tier_of(&c.amount)
            .map_err(|e| money_invalid("amount", &e))?;
        if !rule.may_approve_price(actor.role) {
            return Err(TicketError::InsufficientAuthority {
                role: actor.role,
                command: kind,
                tier: rule.tier,
            });
        }
        Ok(TicketEvent::RefundApproved {
            approver: actor.id,
            role: actor.role,
            tier: rule.tier,
            amount: c.amount,
            reason: c.reason,
            at: now,
        })
    }

    pub(super) fn decide_item_returned(
        &self,
        kind: CommandKind,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        self.require(kind, &[S::RefundApproved])?;
        Ok(TicketEvent::ItemReturned {
            received_by: actor.id,
            at: now,
        })
    }

    /// The refund paid is the amount approved; only once the item is back.
    pub(super) fn decide_pay_refund(
        &self,
        kind: CommandKind,
        reference: Label,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        self.require(kind, &[S::ItemReturned])?;
        let amount = self.refund.clone().ok_or(TicketError::NotAllowed {
            command: kind,
            status: self.status,
        })?;
        Ok(TicketEvent::RefundPaid {
            amount,
            reference,
            at: now,
        })
    }
}
