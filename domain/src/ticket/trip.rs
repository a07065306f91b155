//! The trip report (001 篇一 第三十三条): a technician back from a visit
//! files a report within 2 days (the `trip_report` clock). Back is only
//! after an arrival; a report only once back, and once per trip.

use chrono::{DateTime, Utc};

use super::command::CommandKind;
use super::event::TicketEvent;
use super::{Ticket, TicketError};
use crate::roles::Actor;
use crate::values::Text;

/// Where a visit's trip stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trip {
    /// No technician is out on this ticket.
    #[default]
    None,
    /// A technician arrived on site and is not back yet.
    Away,
    /// Back; the report is due.
    ReportDue,
}

impl Ticket {
    pub(super) fn decide_back_from_trip(
        &self,
        kind: CommandKind,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        if self.trip != Trip::Away {
            return Err(TicketError::NotOnATrip { command: kind });
        }
        Ok(TicketEvent::TechnicianBack {
            technician: actor.id,
            at: now,
        })
    }

    pub(super) fn decide_trip_report(
        &self,
        kind: CommandKind,
        actor: Actor,
        report: Text,
        now: DateTime<Utc>,
    ) -> Result<TicketEvent, TicketError> {
        if self.trip != Trip::ReportDue {
            return Err(TicketError::NotOnATrip { command: kind });
        }
        Ok(TicketEvent::TripReportFiled {
            technician: actor.id,
            report,
            at: now,
        })
    }
}
