//! The `CorrectiveAction` aggregate (FRACAS, DOMAIN.md §9; 8D style):
//! opened against failure modes and product models → root cause analysed →
//! action implemented → effectiveness verified → closed.
//!
//! Each step records who (actor and role) and when (the injected clock).
//! Closing needs the failure review board and is refused unless no failure
//! of the action's modes on its models occurred in the verification window
//! (from the implementation date, `verification_window_days` long). The
//! failures are facts the service looks up in the FRACAS failure reports and
//! passes in with the command: the aggregate stays pure.

pub mod command;
mod decide;
pub mod eight_d;
pub mod error;
pub mod event;

#[cfg(test)]
mod eight_d_tests;
#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::{ActionCommand, ActionCommandKind, OpenAction, Recurrence};
pub use eight_d::{Discipline, EightD, EightDCommand, PlannedStep};
pub use error::ActionError;
pub use event::ActionEvent;

use crate::roles::Role;
use crate::ticket::types::RootCause;
use crate::ticket::{Authored, TicketServices};
use crate::values::{ActorId, Label, Text};

/// Longest verification window accepted, in days (ten years).
pub const MAX_WINDOW_DAYS: u32 = 3_650;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    #[default]
    NotOpened,
    Opened,
    RootCauseAnalysed,
    Implemented,
    Verified,
    Closed,
}

impl ActionStatus {
    /// Every status, in the order an action moves through them.
    pub const ALL: [ActionStatus; 6] = [
        ActionStatus::NotOpened,
        ActionStatus::Opened,
        ActionStatus::RootCauseAnalysed,
        ActionStatus::Implemented,
        ActionStatus::Verified,
        ActionStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::NotOpened => "not_opened",
            ActionStatus::Opened => "opened",
            ActionStatus::RootCauseAnalysed => "root_cause_analysed",
            ActionStatus::Implemented => "implemented",
            ActionStatus::Verified => "verified",
            ActionStatus::Closed => "closed",
        }
    }
}

impl std::fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who took a step, in which role, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub step: ActionStatus,
    pub by: ActorId,
    pub role: Role,
    pub at: DateTime<Utc>,
}

/// The state of one corrective action, rebuilt from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectiveAction {
    pub status: ActionStatus,
    pub title: Option<Text>,
    pub failure_modes: Vec<Label>,
    pub models: Vec<Label>,
    pub verification_window_days: u32,
    pub root_cause: Option<RootCause>,
    pub analysis: Option<Text>,
    pub implementation: Option<Text>,
    pub implemented_on: Option<NaiveDate>,
    pub evidence: Option<Text>,
    /// One entry per lifecycle step taken, in order.
    pub steps: Vec<Step>,
    /// The 8D plan, records and linked failure reports.
    pub eight_d: EightD,
    pub version: u64,
}

impl CorrectiveAction {
    /// The verification window, first and last day inclusive, once the
    /// action is implemented.
    pub fn window(&self) -> Option<(NaiveDate, NaiveDate)> {
        let from = self.implemented_on?;
        let to = from + chrono::Days::new(u64::from(self.verification_window_days));
        Some((from, to))
    }

    /// When the action was opened.
    pub fn opened_at(&self) -> Option<DateTime<Utc>> {
        self.steps.first().map(|s| s.at)
    }

    /// When the action was closed.
    pub fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.steps
            .iter()
            .find(|s| s.step == ActionStatus::Closed)
            .map(|s| s.at)
    }

    fn evolve(&mut self, event: ActionEvent) {
        if self.evolve_8d(&event) {
            self.version += 1;
            return;
        }
        let (by, role, at) = event.step();
        let (by, step) = (by.clone(), ActionStatus::from(&event));
        match event {
            ActionEvent::CorrectiveActionOpened {
                title,
                failure_modes,
                models,
                verification_window_days,
                ..
            } => {
                self.title = Some(title);
                self.failure_modes = failure_modes;
                self.models = models;
                self.verification_window_days = verification_window_days;
            }
            ActionEvent::RootCauseAnalysed {
                category, analysis, ..
            } => {
                self.root_cause = Some(category);
                self.analysis = Some(analysis);
            }
            ActionEvent::ActionImplemented {
                description,
                implemented_on,
                ..
            } => {
                self.implementation = Some(description);
                self.implemented_on = Some(implemented_on);
            }
            ActionEvent::EffectivenessVerified { evidence, .. } => self.evidence = Some(evidence),
            ActionEvent::CorrectiveActionClosed { .. }
            | ActionEvent::StepPlanned { .. }
            | ActionEvent::StepRecorded { .. }
            | ActionEvent::FailuresLinked { .. } => {}
        }
        self.status = step;
        self.steps.push(Step { step, by, role, at });
        self.version += 1;
    }
}

impl From<&ActionEvent> for ActionStatus {
    fn from(event: &ActionEvent) -> Self {
        match event {
            ActionEvent::CorrectiveActionOpened { .. } => ActionStatus::Opened,
            ActionEvent::RootCauseAnalysed { .. } => ActionStatus::RootCauseAnalysed,
            ActionEvent::ActionImplemented { .. } => ActionStatus::Implemented,
            ActionEvent::EffectivenessVerified { .. } => ActionStatus::Verified,
            ActionEvent::CorrectiveActionClosed { .. } => ActionStatus::Closed,
            // 8D events do not move the lifecycle (see `evolve`); never
            // reached from it.
            ActionEvent::StepPlanned { .. }
            | ActionEvent::StepRecorded { .. }
            | ActionEvent::FailuresLinked { .. } => ActionStatus::Opened,
        }
    }
}

/// Which roles may issue which corrective-action command (DOMAIN.md §11):
/// reliability engineers manage corrective actions; only the failure review
/// board closes them.
pub fn may_issue(role: Role, command: ActionCommandKind) -> bool {
    match command {
        ActionCommandKind::Close => role == Role::FailureReviewBoard,
        _ => role == Role::ReliabilityEngineer,
    }
}

impl Aggregate for CorrectiveAction {
    const TYPE: &'static str = "CorrectiveAction";
    type Command = Authored<ActionCommand>;
    type Event = ActionEvent;
    type Error = ActionError;
    type Services = TicketServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        // The step happens at the stated time (checked as for tickets), or now.
        let now = crate::timing::occurred_at(
            command.when,
            services.clock.now(),
            self.steps.last().map(|s| s.at),
            command.actor.role,
            &services.timing,
        )?;
        let today = services.policies.local_date(now);
        let event = self.decide(command, now, today)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.evolve(event);
    }
}
