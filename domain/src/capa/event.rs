//! Events of a corrective action. Each records who (actor and role) and when.

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::eight_d::Discipline;
use crate::roles::Role;
use crate::ticket::types::RootCause;
use crate::values::{ActorId, Label, Text};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionEvent {
    CorrectiveActionOpened {
        title: Text,
        failure_modes: Vec<Label>,
        models: Vec<Label>,
        verification_window_days: u32,
        by: ActorId,
        role: Role,
        at: DateTime<Utc>,
    },
    RootCauseAnalysed {
        category: RootCause,
        analysis: Text,
        by: ActorId,
        role: Role,
        at: DateTime<Utc>,
    },
    ActionImplemented {
        description: Text,
        implemented_on: NaiveDate,
        by: ActorId,
        role: Role,
        at: DateTime<Utc>,
    },
    EffectivenessVerified {
        evidence: Text,
        /// The verification window that has passed: first and last day.
        window_from: NaiveDate,
        window_to: NaiveDate,
        by: ActorId,
        role: Role,
        at: DateTime<Utc>,
    },
    /// 8D: a discipline's owner and due date (planned again: replaced).
    StepPlanned {
        discipline: Discipline,
        owner: ActorId,
        due_on: NaiveDate,
        by: ActorId,
        role: Role,
        at: DateTime<Utc>,
    },
    /// 8D: D1 (with the team), D2, D3 or D7 recorded.
    StepRecorded {
        discipline: Discipline,
        content: Text,
        team: Vec<ActorId>,
        by: ActorId,
        role: Role,
        at: DateTime<Utc>,
    },
    /// The tickets whose failure reports the action covers (added).
    FailuresLinked {
        ticket_ids: Vec<String>,
        by: ActorId,
        role: Role,
        at: DateTime<Utc>,
    },
    CorrectiveActionClosed {
        /// Failures of the modes on the models FRACAS knew after the
        /// window, checked at closing (none fell inside the window).
        failures_checked: u32,
        by: ActorId,
        role: Role,
        at: DateTime<Utc>,
    },
}

event_names!(
    ActionEvent;
    CorrectiveActionOpened,
    RootCauseAnalysed,
    ActionImplemented,
    EffectivenessVerified,
    CorrectiveActionClosed,
    StepPlanned,
    StepRecorded,
    FailuresLinked,
);

impl ActionEvent {
    /// Who, in which role, and when.
    pub fn step(&self) -> (&ActorId, Role, DateTime<Utc>) {
        match self {
            ActionEvent::CorrectiveActionOpened { by, role, at, .. }
            | ActionEvent::RootCauseAnalysed { by, role, at, .. }
            | ActionEvent::ActionImplemented { by, role, at, .. }
            | ActionEvent::EffectivenessVerified { by, role, at, .. }
            | ActionEvent::CorrectiveActionClosed { by, role, at, .. }
            | ActionEvent::StepPlanned { by, role, at, .. }
            | ActionEvent::StepRecorded { by, role, at, .. }
            | ActionEvent::FailuresLinked { by, role, at, .. } => (by, *role, *at),
        }
    }
}

impl DomainEvent for ActionEvent {
    fn event_type(&self) -> String {
        self.name().to_owned()
    }

    /// Per type: see [`crate::schema`].
    fn event_version(&self) -> String {
        crate::schema::version_label(crate::schema::current_version(self.name()))
    }
}
