//! The repair guarantee (DOMAIN.md §4): the same fault coming back within
//! the product line's days after delivery reopens the ticket as a free
//! rework cycle; after them it is a new ticket. The days count as the
//! Civil Code counts them ([`crate::period`]).

use chrono::NaiveDate;

use crate::period::{self, Length};

use super::{Policies, Ticket, TicketError};

impl Ticket {
    /// A same-fault reopen is a free rework only within the repair guarantee
    /// after delivery: the days the warranty decision recorded (or, for a
    /// decision recorded before policies, the product line's now).
    pub(super) fn within_repair_guarantee(
        &self,
        today: NaiveDate,
        policies: &Policies,
    ) -> Result<(), TicketError> {
        let Some(delivered_on) = self.delivered_at.map(|at| policies.local_date(at)) else {
            return Ok(());
        };
        let days = match self.warranty.as_ref().and_then(|w| w.applied.as_ref()) {
            Some(applied) => applied.terms.repair_guarantee_days,
            None => {
                let (line, model) = self
                    .product
                    .as_ref()
                    .map_or(("", ""), |p| (p.line.as_str(), p.model.as_str()));
                policies
                    .warranty
                    .terms_for(line, model)
                    .terms
                    .repair_guarantee_days
            }
        };
        let guarantee = Length::Days(days);
        let (counting, rest) = (policies.warranty.counting, &policies.rest_days);
        if !period::within(today, delivered_on, guarantee, counting, rest) {
            return Err(TicketError::RepairGuaranteeEnded { delivered_on, days });
        }
        Ok(())
    }
}
