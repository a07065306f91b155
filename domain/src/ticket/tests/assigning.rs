//! Assigning is the service manager's (DOMAIN.md §11): the technician
//! dispatched accepts the job, or declines it and it returns to the queue.

use super::fixtures::*;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::{TicketError, TicketStatus};

#[test]
fn a_technician_may_not_dispatch_anyone() {
    framework()
        .given(vec![received()])
        .when(by(
            Role::Technician,
            TicketCommand::DispatchTechnician(dispatch()),
        ))
        .then_expect_error(TicketError::Forbidden {
            role: Role::Technician,
            command: CommandKind::DispatchTechnician,
        });
}

#[test]
fn the_dispatched_technician_accepts_the_job() {
    framework()
        .given(vec![received(), dispatched()])
        .when(Authored::now(tech_2(), TicketCommand::AcceptDispatch))
        .then_expect_events(vec![dispatch_accepted()]);
}

#[test]
fn another_technician_may_not_accept_the_job() {
    framework()
        .given(vec![received(), dispatched()])
        .when(by(Role::Technician, TicketCommand::AcceptDispatch))
        .then_expect_error(TicketError::NotYourJob {
            technician: id("tech-2"),
        });
}

#[test]
fn a_declined_job_returns_to_the_queue_with_its_reason() {
    framework()
        .given(vec![received(), dispatched()])
        .when(Authored::now(tech_2(), decline_dispatch()))
        .then_expect_events(vec![dispatch_declined(TicketStatus::Received)]);
}

#[test]
fn a_declined_job_of_a_reopened_ticket_returns_to_reopened() {
    let mut given = closed_warranty_repair();
    given.extend([reopened(false, 2), dispatched()]);
    framework()
        .given(given)
        .when(Authored::now(tech_2(), decline_dispatch()))
        .then_expect_events(vec![dispatch_declined(TicketStatus::Reopened)]);
}

#[test]
fn a_declined_job_leaves_the_ticket_unassigned_in_the_queue() {
    let ticket = state_after(vec![
        received(),
        dispatched(),
        dispatch_declined(TicketStatus::Received),
    ]);
    assert_eq!(ticket.status, TicketStatus::Received);
    assert_eq!(ticket.technician, None);
}

#[test]
fn the_service_manager_dispatches_again_after_a_decline() {
    framework()
        .given(vec![
            received(),
            dispatched(),
            dispatch_declined(TicketStatus::Received),
        ])
        .when(by(
            Role::ServiceManager,
            TicketCommand::DispatchTechnician(dispatch()),
        ))
        .then_expect_events(vec![dispatched()]);
}

#[test]
fn no_one_arrives_before_the_job_is_accepted() {
    framework()
        .given(vec![received(), dispatched()])
        .when(by(Role::Technician, TicketCommand::RecordArrival))
        .then_expect_error(TicketError::NotAllowed {
            command: CommandKind::RecordArrival,
            status: TicketStatus::Dispatched,
        });
}

#[test]
fn a_job_not_dispatched_is_not_accepted() {
    framework()
        .given(vec![received()])
        .when(Authored::now(tech_2(), TicketCommand::AcceptDispatch))
        .then_expect_error(TicketError::NotAllowed {
            command: CommandKind::AcceptDispatch,
            status: TicketStatus::Received,
        });
}
