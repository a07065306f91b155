//! Assigning work (DOMAIN.md §11; 001 篇十四 第三、九、十三条): the service
//! manager dispatches; the technician dispatched accepts the job, or
//! declines it with a reason, which returns it to the queue it came from.

use chrono::{DateTime, Utc};

use super::command::CommandKind;
use super::event::TicketEvent;
use super::status::TicketStatus as S;
use super::{Ticket, TicketError};
use crate::roles::Actor;
use crate::values::Text;

impl Ticket {
    /// The job is offered to the dispatched technician, and to them only.
    fn offered_to(&self, kind: CommandKind, actor: &Actor) -> Result<(), TicketError> {
        self.require(kind, &[S::Dispatched])?;
        match &self.technician {
            Some(technician) if *technician != actor.id => Err(TicketError::NotYourJob {
                technician: technician.clone(),
            }),
            Some(_) | None => Ok(()),
        }
    }

    pub(super) fn decide_accept_dispatch(
        &self,
        kind: CommandKind,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        self.offered_to(kind, &actor)?;
        Ok(TicketEvent::DispatchAccepted {
            technician: actor.id,
            at: now,
        })
    }

    /// Back to the queue: a reopened ticket (cycle 2 on) to `reopened`,
    /// otherwise to `received`.
    pub(super) fn decide_decline_dispatch(
        &self,
        kind: CommandKind,
        actor: Actor,
        reason: Text,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        self.offered_to(kind, &actor)?;
        let back_to = if self.cycle > 1 {
            S::Reopened
        } else {
            S::Received
        };
        Ok(TicketEvent::DispatchDeclined {
            technician: actor.id,
            reason,
            back_to,
            at: now,
        })
    }
}
