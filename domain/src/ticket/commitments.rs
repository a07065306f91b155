//! What the customer is told: the first contact and the commitment given
//! (000 第二篇 四(四); 002 五), and a repair cycle extended only once the
//! customer knows the new date (000 第五篇 1.3.3.1).

use chrono::{DateTime, NaiveDate, Utc};

use super::checks::invalid;
use super::command::{CommandKind, ContactCustomer, ExtendRepairCycle};
use super::event::TicketEvent;
use super::{Ticket, TicketError};
use crate::roles::Actor;
use crate::values::Problem;

impl Ticket {
    /// A commitment is dated today or later.
    pub(super) fn decide_contact(
        &self,
        actor: Actor,
        c: ContactCustomer,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        if c.promised_on < today {
            return Err(invalid(
                "promised_on",
                Problem::Malformed(format!("must not be before {today}")),
            ));
        }
        Ok(TicketEvent::CustomerContacted {
            by: actor.id,
            commitment: c.commitment,
            promised_on: c.promised_on,
            at: now,
        })
    }

    /// While the repair is in progress, once the customer is told, to a
    /// date after today and after the current due date.
    pub(super) fn decide_extension(
        &self,
        kind: CommandKind,
        c: ExtendRepairCycle,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        if !self.status.is_repair_in_progress() {
            return Err(TicketError::NotAllowed {
                command: kind,
                status: self.status,
            });
        }
        if !c.customer_notified {
            return Err(invalid(
                "customer_notified",
                Problem::Malformed("the customer must be told before the cycle is extended".into()),
            ));
        }
        let floor = self.due_on.map_or(today, |due| due.max(today));
        if c.new_due_on <= floor {
            return Err(invalid(
                "new_due_on",
                Problem::Malformed(format!("must be after {floor}")),
            ));
        }
        Ok(TicketEvent::RepairCycleExtended {
            previous_due_on: self.due_on,
            new_due_on: c.new_due_on,
            reason: c.reason,
            at: now,
        })
    }
}
