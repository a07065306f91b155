//! Why a corrective-action command was refused; nothing was written.
//!
//! * `Forbidden`: permission denied. `Invalid`: invalid argument (names the
//!   field). `UnknownAction`: not found. `AlreadyOpened`: already exists.
//! * every other variant: failed precondition; the message names the state
//!   or the rule.

use chrono::NaiveDate;

use super::command::ActionCommandKind;
use super::ActionStatus;
use crate::roles::Role;
use crate::timing::TimingError;
use crate::values::ValueError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("role {role} may not issue {command}")]
    Forbidden {
        role: Role,
        command: ActionCommandKind,
    },
    #[error("invalid argument: {0}")]
    Invalid(#[from] ValueError),
    /// The stated `context.occurred_at` is refused (see [`crate::timing`]).
    #[error("invalid argument context.occurred_at: {0}")]
    Timing(#[from] TimingError),
    #[error("corrective action not found")]
    UnknownAction,
    #[error("corrective action already exists")]
    AlreadyOpened,
    #[error("{command} is not allowed while the corrective action is {status}")]
    NotAllowed {
        command: ActionCommandKind,
        status: ActionStatus,
    },
    #[error("the verification window is open until {until} (corrective action is {status})")]
    WindowStillOpen {
        until: NaiveDate,
        status: ActionStatus,
    },
    #[error(
        "{count} failure(s) recurred in the verification window {from}..{to} (first: ticket {first_ticket} on {first_on}); corrective action stays {status}"
    )]
    Recurred {
        count: usize,
        first_ticket: String,
        first_on: NaiveDate,
        from: NaiveDate,
        to: NaiveDate,
        status: ActionStatus,
    },
}
