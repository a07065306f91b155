//! The corrective action's state machine: role, then state, then fields and
//! rules; one event or an error.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};

use super::command::{ActionCommand, OpenAction, Recurrence};
use super::{may_issue, ActionError, ActionEvent, ActionStatus, CorrectiveAction, MAX_WINDOW_DAYS};
use crate::roles::Actor;
use crate::ticket::Authored;
use crate::values::{Label, Problem};

/// Sorted, without duplicates; empty is refused naming `field`.
fn distinct(field: &str, labels: Vec<Label>) -> Result<Vec<Label>, ActionError> {
    let set: BTreeSet<Label> = labels.into_iter().collect();
    if set.is_empty() {
        return Err(Problem::Empty.at(field).into());
    }
    Ok(set.into_iter().collect())
}

impl CorrectiveAction {
    pub fn decide(
        &self,
        command: Authored<ActionCommand>,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<ActionEvent, ActionError> {
        let Authored { actor, command, .. } = command;
        let kind = command.kind();
        if !may_issue(actor.role, kind) {
            return Err(ActionError::Forbidden {
                role: actor.role,
                command: kind,
            });
        }
        let Actor { id: by, role } = actor;
        let expect = |status: ActionStatus| -> Result<(), ActionError> {
            match self.status {
                s if s == status => Ok(()),
                ActionStatus::NotOpened => Err(ActionError::UnknownAction),
                s => Err(ActionError::NotAllowed {
                    command: kind,
                    status: s,
                }),
            }
        };
        match command {
            ActionCommand::Open(open) => {
                if self.status != ActionStatus::NotOpened {
                    return Err(ActionError::AlreadyOpened);
                }
                let OpenAction {
                    title,
                    failure_modes,
                    models,
                    verification_window_days,
                } = open;
                if !(1..=MAX_WINDOW_DAYS).contains(&verification_window_days) {
                    return Err(Problem::OutOfRange {
                        min: 1,
                        max: i64::from(MAX_WINDOW_DAYS),
                    }
                    .at("verification_window_days")
                    .into());
                }
                Ok(ActionEvent::CorrectiveActionOpened {
                    title,
                    failure_modes: distinct("failure_modes", failure_modes)?,
                    models: distinct("models", models)?,
                    verification_window_days,
                    by,
                    role,
                    at: now,
                })
            }
            ActionCommand::RecordRootCause { category, analysis } => {
                expect(ActionStatus::Opened)?;
                Ok(ActionEvent::RootCauseAnalysed {
                    category,
                    analysis,
                    by,
                    role,
                    at: now,
                })
            }
            ActionCommand::RecordImplementation {
                description,
                implemented_on,
            } => {
                expect(ActionStatus::RootCauseAnalysed)?;
                if implemented_on > today {
                    return Err(
                        Problem::Malformed(format!("must not be after today ({today})"))
                            .at("implemented_on")
                            .into(),
                    );
                }
                Ok(ActionEvent::ActionImplemented {
                    description,
                    implemented_on,
                    by,
                    role,
                    at: now,
                })
            }
            ActionCommand::VerifyEffectiveness { evidence } => {
                expect(ActionStatus::Implemented)?;
                let (window_from, window_to) = self.window().ok_or(ActionError::NotAllowed {
                    command: kind,
                    status: self.status,
                })?;
                if today < window_to {
                    return Err(ActionError::WindowStillOpen {
                        until: window_to,
                        status: self.status,
                    });
                }
                Ok(ActionEvent::EffectivenessVerified {
                    evidence,
                    window_from,
                    window_to,
                    by,
                    role,
                    at: now,
                })
            }
            ActionCommand::EightD(command) => match self.status {
                ActionStatus::NotOpened => Err(ActionError::UnknownAction),
                ActionStatus::Closed => Err(ActionError::NotAllowed {
                    command: kind,
                    status: self.status,
                }),
                ActionStatus::Opened
                | ActionStatus::RootCauseAnalysed
                | ActionStatus::Implemented
                | ActionStatus::Verified => self.decide_8d(command, by, role, now),
            },
            ActionCommand::Close { recurrences } => {
                expect(ActionStatus::Verified)?;
                let (from, to) = self.window().ok_or(ActionError::NotAllowed {
                    command: kind,
                    status: self.status,
                })?;
                let mut inside: Vec<&Recurrence> = recurrences
                    .iter()
                    .filter(|r| self.covers(r) && (from..=to).contains(&r.failed_on))
                    .collect();
                inside
                    .sort_by(|a, b| (a.failed_on, &a.ticket_id).cmp(&(b.failed_on, &b.ticket_id)));
                if let Some(first) = inside.first() {
                    return Err(ActionError::Recurred {
                        count: inside.len(),
                        first_ticket: first.ticket_id.clone(),
                        first_on: first.failed_on,
                        from,
                        to,
                        status: self.status,
                    });
                }
                Ok(ActionEvent::CorrectiveActionClosed {
                    failures_checked: u32::try_from(recurrences.len()).unwrap_or(u32::MAX),
                    by,
                    role,
                    at: now,
                })
            }
        }
    }

    /// Whether a failure is of one of the action's modes on one of its models.
    pub fn covers(&self, r: &Recurrence) -> bool {
        self.failure_modes
            .iter()
            .any(|m| m.as_str() == r.failure_mode)
            && self.models.iter().any(|m| m.as_str() == r.product_model)
    }
}
