//! Turning refusals into gRPC statuses. One place decides every code:
//!
//! | refusal | code |
//! |---|---|
//! | a field is missing or malformed | INVALID_ARGUMENT + BadRequest field violation |
//! | role may not issue the command / approve the tier | PERMISSION_DENIED |
//! | no actor in the request | UNAUTHENTICATED |
//! | unknown ticket or corrective action | NOT_FOUND |
//! | ticket id taken | ALREADY_EXISTS |
//! | not allowed in the current state (incl. a corrective action's closure gate) | FAILED_PRECONDITION (message names the state) |
//! | lost a race / expected version mismatch | ABORTED |
//! | store unreachable | UNAVAILABLE |
//! | anything else | INTERNAL (logged; the message says no more than needed) |

use domain::capa::ActionError;
use domain::timing::{self, TimingError};
use domain::values::ValueError;
use domain::TicketError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::bus::CommandError;

/// Longest message or field description a status carries. Messages may
/// quote what the client sent; a reply must still fit the HTTP/2 header
/// limits of any client (the grpc-message trailer).
const MAX_MESSAGE_CHARS: usize = 1_000;

fn bounded(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

pub(crate) fn invalid(error: &ValueError) -> Status {
    invalid_field(&error.field, &error.problem.to_string())
}

pub(crate) fn invalid_field(field: &str, description: &str) -> Status {
    let (field, description) = (bounded(field), bounded(description));
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field} {description}"),
        ErrorDetails::with_bad_request_violation(field, description),
    )
}

/// A refused `context.occurred_at`: the role may not back-date at all
/// (permission denied), or the value breaks a rule (invalid argument).
pub(crate) fn from_timing_error(error: &TimingError) -> Status {
    if error.is_permission() {
        Status::permission_denied(bounded(&format!("{}: {error}", timing::FIELD)))
    } else {
        invalid_field(timing::FIELD, &error.to_string())
    }
}

pub(crate) fn from_ticket_error(error: &TicketError) -> Status {
    let message = bounded(&error.to_string());
    match error {
        TicketError::Invalid(value) => invalid(value),
        TicketError::Timing(timing) => from_timing_error(timing),
        TicketError::Forbidden { .. }
        | TicketError::InsufficientAuthority { .. }
        | TicketError::NotYourJob { .. } => Status::permission_denied(message),
        TicketError::UnknownTicket => Status::not_found(message),
        TicketError::AlreadyReceived => Status::already_exists(message),
        _ => Status::failed_precondition(message),
    }
}

pub(crate) fn from_action_error(error: &ActionError) -> Status {
    let message = error.to_string();
    match error {
        ActionError::Invalid(value) => invalid(value),
        ActionError::Timing(timing) => from_timing_error(timing),
        ActionError::Forbidden { .. } => Status::permission_denied(message),
        ActionError::UnknownAction => Status::not_found(message),
        ActionError::AlreadyOpened => Status::already_exists(message),
        ActionError::NotAllowed { .. }
        | ActionError::WindowStillOpen { .. }
        | ActionError::Recurred { .. } => Status::failed_precondition(message),
    }
}

pub(crate) fn from_command_error(error: CommandError) -> Status {
    match error {
        CommandError::Rejected(e) => from_ticket_error(&e),
        CommandError::ActionRejected(e) => from_action_error(&e),
        CommandError::VersionMismatch { .. } | CommandError::Contention => {
            Status::aborted(error.to_string())
        }
        CommandError::RequestIdReused { .. } => {
            invalid_field("context.request_id", &error.to_string())
        }
        CommandError::Unavailable(detail) => {
            tracing::warn!(%detail, "event store unavailable");
            Status::unavailable("event store unavailable; retry later")
        }
        CommandError::DiskFull(detail) => {
            tracing::error!(%detail, "the event store's disk is full");
            Status::unavailable(
                "the event store's disk is full: nothing was written; retry once space is freed",
            )
        }
        CommandError::Internal(detail) => {
            tracing::error!(%detail, "internal error");
            Status::internal("internal error; see the server log")
        }
    }
}

pub(crate) fn from_sqlx(error: sqlx::Error) -> Status {
    from_command_error(CommandError::from(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_description_is_cut_to_the_message_limit() {
        let status = invalid_field("description", &"x".repeat(100_000));
        assert!(status.message().chars().count() <= 2 * MAX_MESSAGE_CHARS + 2);
        assert!(status.message().ends_with('…'));
    }

    #[test]
    fn a_short_message_is_kept_whole() {
        assert_eq!(bounded("ticket T-1 not found"), "ticket T-1 not found");
    }
}
