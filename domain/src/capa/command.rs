//! Commands on a corrective action. Each yields exactly one event.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::eight_d::EightDCommand;
use crate::ticket::types::RootCause;
use crate::values::{Label, Text};

/// Opens a corrective action against failure modes on product models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAction {
    pub title: Text,
    pub failure_modes: Vec<Label>,
    pub models: Vec<Label>,
    /// Days after implementation during which the modes must not recur on
    /// the models for the action to close.
    pub verification_window_days: u32,
}

/// A failure of one of the action's modes on one of its models, as the
/// FRACAS failure reports know it. The service looks these up and passes
/// them in: the aggregate does no I/O.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
    pub ticket_id: String,
    pub serial: String,
    pub product_model: String,
    pub failure_mode: String,
    pub failed_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionCommand {
    Open(OpenAction),
    RecordRootCause {
        category: RootCause,
        analysis: Text,
    },
    RecordImplementation {
        description: Text,
        /// When the fix took effect (a business date; may be in the past,
        /// never in the future).
        implemented_on: NaiveDate,
    },
    VerifyEffectiveness {
        evidence: Text,
    },
    Close {
        /// Every failure of the action's modes on its models known to
        /// FRACAS from the implementation date on.
        recurrences: Vec<Recurrence>,
    },
    /// Plan or record an 8D discipline, or link failure reports.
    EightD(EightDCommand),
}

/// The kind of a command, for permissions and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionCommandKind {
    Open,
    RecordRootCause,
    RecordImplementation,
    VerifyEffectiveness,
    Close,
    PlanStep,
    RecordStep,
    LinkFailures,
}

impl ActionCommandKind {
    pub const ALL: [ActionCommandKind; 8] = [
        ActionCommandKind::Open,
        ActionCommandKind::RecordRootCause,
        ActionCommandKind::RecordImplementation,
        ActionCommandKind::VerifyEffectiveness,
        ActionCommandKind::Close,
        ActionCommandKind::PlanStep,
        ActionCommandKind::RecordStep,
        ActionCommandKind::LinkFailures,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionCommandKind::Open => "OpenCorrectiveAction",
            ActionCommandKind::RecordRootCause => "RecordRootCause",
            ActionCommandKind::RecordImplementation => "RecordImplementation",
            ActionCommandKind::VerifyEffectiveness => "VerifyEffectiveness",
            ActionCommandKind::Close => "CloseCorrectiveAction",
            ActionCommandKind::PlanStep => "PlanActionStep",
            ActionCommandKind::RecordStep => "RecordActionStep",
            ActionCommandKind::LinkFailures => "LinkFailures",
        }
    }
}

impl std::fmt::Display for ActionCommandKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ActionCommand {
    pub fn kind(&self) -> ActionCommandKind {
        match self {
            ActionCommand::Open(_) => ActionCommandKind::Open,
            ActionCommand::RecordRootCause { .. } => ActionCommandKind::RecordRootCause,
            ActionCommand::RecordImplementation { .. } => ActionCommandKind::RecordImplementation,
            ActionCommand::VerifyEffectiveness { .. } => ActionCommandKind::VerifyEffectiveness,
            ActionCommand::Close { .. } => ActionCommandKind::Close,
            ActionCommand::EightD(EightDCommand::PlanStep { .. }) => ActionCommandKind::PlanStep,
            ActionCommand::EightD(EightDCommand::RecordStep { .. }) => {
                ActionCommandKind::RecordStep
            }
            ActionCommand::EightD(EightDCommand::LinkFailures { .. }) => {
                ActionCommandKind::LinkFailures
            }
        }
    }
}
