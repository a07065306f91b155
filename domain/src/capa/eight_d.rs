//! The 8D of a corrective action (issue #19): each discipline planned with
//! an owner and a due date, D1 (team), D2 (problem), D3 (containment) and
//! D7 (prevention of recurrence) recorded as steps; D4 is the root cause,
//! D5/D6 the implementation and D8 the closure, each by its own command.
//! An action also links the failure reports (tickets) it covers.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{ActionError, ActionEvent, ActionStatus, CorrectiveAction};
use crate::roles::Role;
use crate::values::{ActorId, Problem, Text};

/// The eight disciplines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Discipline {
    D1Team,
    D2Problem,
    D3Containment,
    D4RootCause,
    D5ChosenAction,
    D6Implementation,
    D7Prevention,
    D8Closure,
}

impl Discipline {
    pub const ALL: [Discipline; 8] = [
        Discipline::D1Team,
        Discipline::D2Problem,
        Discipline::D3Containment,
        Discipline::D4RootCause,
        Discipline::D5ChosenAction,
        Discipline::D6Implementation,
        Discipline::D7Prevention,
        Discipline::D8Closure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Discipline::D1Team => "d1_team",
            Discipline::D2Problem => "d2_problem",
            Discipline::D3Containment => "d3_containment",
            Discipline::D4RootCause => "d4_root_cause",
            Discipline::D5ChosenAction => "d5_chosen_action",
            Discipline::D6Implementation => "d6_implementation",
            Discipline::D7Prevention => "d7_prevention",
            Discipline::D8Closure => "d8_closure",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == raw)
    }

    /// Recorded with RecordStep (the others by their own commands).
    pub fn recorded_as_step(self) -> bool {
        matches!(
            self,
            Discipline::D1Team
                | Discipline::D2Problem
                | Discipline::D3Containment
                | Discipline::D7Prevention
        )
    }
}

impl std::fmt::Display for Discipline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who owns a discipline and by when it is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    pub owner: ActorId,
    pub due_on: NaiveDate,
}

/// The 8D state of an action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EightD {
    pub plan: BTreeMap<Discipline, PlannedStep>,
    /// D1, D2, D3, D7 as recorded (the latest record of each).
    pub records: BTreeMap<Discipline, Text>,
    pub team: Vec<ActorId>,
    /// The tickets whose failure reports the action covers.
    pub linked_tickets: BTreeSet<String>,
}

/// The 8D commands' payloads, decided by [`CorrectiveAction::decide_8d`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EightDCommand {
    PlanStep {
        discipline: Discipline,
        owner: ActorId,
        due_on: NaiveDate,
    },
    RecordStep {
        discipline: Discipline,
        content: Text,
        /// D1 only: the team, at least one member.
        team: Vec<ActorId>,
    },
    LinkFailures {
        ticket_ids: Vec<String>,
    },
}

impl CorrectiveAction {
    /// Whether a discipline is done.
    pub fn done(&self, d: Discipline) -> bool {
        match d {
            Discipline::D1Team
            | Discipline::D2Problem
            | Discipline::D3Containment
            | Discipline::D7Prevention => self.eight_d.records.contains_key(&d),
            Discipline::D4RootCause => self.root_cause.is_some(),
            Discipline::D5ChosenAction | Discipline::D6Implementation => {
                self.implemented_on.is_some()
            }
            Discipline::D8Closure => self.status == ActionStatus::Closed,
        }
    }

    /// Planned disciplines not done whose due date is before `as_of`.
    pub fn overdue(&self, as_of: NaiveDate) -> Vec<(Discipline, &PlannedStep)> {
        self.eight_d
            .plan
            .iter()
            .filter(|(d, p)| p.due_on < as_of && !self.done(**d))
            .map(|(d, p)| (*d, p))
            .collect()
    }

    /// Decides an 8D command on an open (not closed) action.
    pub(super) fn decide_8d(
        &self,
        command: EightDCommand,
        by: ActorId,
        role: Role,
        at: DateTime<Utc>,
    ) -> Result<ActionEvent, ActionError> {
        Ok(match command {
            EightDCommand::PlanStep {
                discipline,
                owner,
                due_on,
            } => ActionEvent::StepPlanned {
                discipline,
                owner,
                due_on,
                by,
                role,
                at,
            },
            EightDCommand::RecordStep {
                discipline,
                content,
                team,
            } => {
                if !discipline.recorded_as_step() {
                    return Err(Problem::Malformed(format!(
                        "{discipline} is recorded by its own command (root cause, implementation or close)"
                    ))
                    .at("discipline")
                    .into());
                }
                let team: Vec<ActorId> = team
                    .into_iter()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                match (discipline, team.is_empty()) {
                    (Discipline::D1Team, true) => return Err(Problem::Empty.at("team").into()),
                    (Discipline::D1Team, false) | (_, true) => {}
                    (_, false) => {
                        return Err(Problem::Malformed("is only recorded with d1_team".into())
                            .at("team")
                            .into())
                    }
                }
                ActionEvent::StepRecorded {
                    discipline,
                    content,
                    team,
                    by,
                    role,
                    at,
                }
            }
            EightDCommand::LinkFailures { ticket_ids } => {
                let ids: BTreeSet<String> = ticket_ids.into_iter().collect();
                if ids.is_empty() {
                    return Err(Problem::Empty.at("ticket_ids").into());
                }
                ActionEvent::FailuresLinked {
                    ticket_ids: ids.into_iter().collect(),
                    by,
                    role,
                    at,
                }
            }
        })
    }

    /// Applies an 8D event; false for any other event.
    pub(super) fn evolve_8d(&mut self, event: &ActionEvent) -> bool {
        match event {
            ActionEvent::StepPlanned {
                discipline,
                owner,
                due_on,
                ..
            } => {
                self.eight_d.plan.insert(
                    *discipline,
                    PlannedStep {
                        owner: owner.clone(),
                        due_on: *due_on,
                    },
                );
            }
            ActionEvent::StepRecorded {
                discipline,
                content,
                team,
                ..
            } => {
                self.eight_d.records.insert(*discipline, content.clone());
                if *discipline == Discipline::D1Team {
                    self.eight_d.team = team.clone();
                }
            }
            ActionEvent::FailuresLinked { ticket_ids, .. } => {
                self.eight_d
                    .linked_tickets
                    .extend(ticket_ids.iter().cloned());
            }
            ActionEvent::CorrectiveActionOpened { .. }
            | ActionEvent::RootCauseAnalysed { .. }
            | ActionEvent::ActionImplemented { .. }
            | ActionEvent::EffectivenessVerified { .. }
            | ActionEvent::CorrectiveActionClosed { .. } => return false,
        }
        true
    }
}
