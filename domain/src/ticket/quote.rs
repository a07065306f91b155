//! Pricing a repair: the quote's lines, total, validity and approval tier.

use chrono::{DateTime, NaiveDate, Utc};

use super::checks::{at_most, invalid, money_invalid};
use super::command::{CommandKind, QuoteRepair};
use super::decide::MAX_LINES;
use super::event::TicketEvent;
use super::status::TicketStatus as S;
use super::types::QuoteLine;
use super::{Policies, Ticket, TicketError};
use crate::money::Money;
use crate::values::Problem;

impl Ticket {
    pub(super) fn decide_quote(
        &self,
        kind: CommandKind,
        c: QuoteRepair,
        today: NaiveDate,
        now: DateTime<Utc>,
        policies: &Policies,
    ) -> Result<TicketEvent, TicketError> {
        self.require(kind, &[S::Diagnosed, S::Quoted, S::QuoteApproved])?;
        match self.chargeable() {
            None => {
                return Err(TicketError::WarrantyNotDetermined {
                    command: kind,
                    status: self.status,
                })
            }
            Some(false) => return Err(TicketError::QuoteNotNeeded),
            Some(true) => {}
        }
        if c.lines.is_empty() {
            return Err(invalid("lines", Problem::Empty));
        }
        at_most("lines", c.lines.len(), MAX_LINES)?;
        let currency = policies.approval.currency.clone();
        let mut total = Money::zero(currency);
        for (i, line) in c.lines.iter().enumerate() {
            let line_total = line
                .total()
                .map_err(|e| money_invalid(format!("lines[{i}]"), &e))?;
            total = total
                .checked_add(&line_total)
                .map_err(|e| money_invalid(format!("lines[{i}].{}", price_field(line)), &e))?;
        }
        if c.valid_until < today {
            return Err(invalid(
                "valid_until",
                Problem::Malformed(format!("must not be before {today}")),
            ));
        }
        let rule = policies
            .approval
            .tier_of(&total)
            .map_err(|e| money_invalid("lines", &e))?;
        Ok(TicketEvent::RepairQuoted {
            lines: c.lines,
            total,
            tier: rule.tier,
            valid_until: c.valid_until,
            rule: Some(rule.clone()),
            at: now,
        })
    }
}

fn price_field(line: &QuoteLine) -> &'static str {
    match line {
        QuoteLine::Parts { .. } => "unit_price",
        QuoteLine::Labour { .. } => "hourly_rate",
        _ => "amount",
    }
}
