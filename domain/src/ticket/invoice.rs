//! Invoicing (DOMAIN.md §5; 000 第四篇 十): a price is never lowered without
//! approval. When the cycle's quote was accepted, the invoice equals that
//! quote less the fee waivers approved in the cycle; anything lower needs a
//! waiver approved first, anything higher a new quote the customer accepts.
//! Without an accepted quote (an inspection fee after a declined quote, a
//! chargeable remote fix) there is no quoted price to hold it to.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use super::checks::{money_invalid, positive, same_currency};
use super::command::{CommandKind, IssueInvoice};
use super::event::TicketEvent;
use super::status::TicketStatus as S;
use super::{Policies, Ticket, TicketError};
use crate::money::Money;

impl Ticket {
    /// The price the customer agreed to, less what was waived: `None`
    /// when no quote of this cycle was accepted.
    pub fn agreed_price(&self) -> Option<Money> {
        let quote = self.quote.as_ref().filter(|q| q.accepted)?;
        match &self.waiver {
            None => Some(quote.total.clone()),
            Some(waived) => quote.total.checked_sub(waived).ok(),
        }
    }

    /// Close needs the cycle settled (DOMAIN.md §5): nothing outstanding
    /// on the invoices issued, and a chargeable cycle whose quote was
    /// accepted invoiced, unless approved waivers brought its price to zero.
    /// Without the second half, a ticket closed uninvoiced waived the whole
    /// price with nobody's approval.
    pub(super) fn check_settled(&self) -> Result<(), TicketError> {
        if let Some(outstanding) = self.outstanding().filter(|o| !o.is_zero()) {
            return Err(TicketError::OutstandingBalance { outstanding });
        }
        if self.chargeable() == Some(true) && !self.invoiced_this_cycle {
            if let Some(agreed) = self.agreed_price().filter(|a| !a.is_zero()) {
                return Err(TicketError::AcceptedQuoteNotInvoiced { agreed });
            }
        }
        Ok(())
    }

    pub(super) fn decide_invoice(
        &self,
        kind: CommandKind,
        c: IssueInvoice,
        now: DateTime<Utc>,
        policies: &Policies,
    ) -> Result<TicketEvent, TicketError> {
        self.require(
            kind,
            &[
                S::QcPassed,
                S::Shipped,
                S::Delivered,
                S::ResolvedRemotely,
                S::Revisited,
                S::Declined,
            ],
        )?;
        match self.chargeable() {
            None => {
                return Err(TicketError::WarrantyNotDetermined {
                    command: kind,
                    status: self.status,
                })
            }
            Some(false) => return Err(TicketError::NotChargeable),
            Some(true) => {}
        }
        if self.invoiced_this_cycle {
            return Err(TicketError::AlreadyInvoiced);
        }
        positive("amount", &c.amount)?;
        let reference = match (&self.quote, &self.invoiced) {
            (_, Some(previous)) => previous.clone(),
            (Some(q), None) => q.total.clone(),
            (None, None) => Money::zero(policies.approval.currency.clone()),
        };
        same_currency("amount", &c.amount, &reference)?;
        if let Some(expected) = self.agreed_price() {
            same_currency("amount", &c.amount, &expected)?;
            match c.amount.cmp_same(&expected) {
                Ok(Ordering::Less) => {
                    let difference = expected
                        .checked_sub(&c.amount)
                        .map_err(|e| money_invalid("amount", &e))?;
                    return Err(TicketError::PriceCutWithoutApproval {
                        amount: c.amount,
                        expected,
                        difference,
                    });
                }
                Ok(Ordering::Greater) => {
                    return Err(TicketError::InvoiceAboveQuote {
                        amount: c.amount,
                        expected,
                    })
                }
                Ok(Ordering::Equal) | Err(_) => {}
            }
        }
        Ok(TicketEvent::InvoiceIssued {
            invoice_number: c.invoice_number,
            amount: c.amount,
            at: now,
        })
    }
}
