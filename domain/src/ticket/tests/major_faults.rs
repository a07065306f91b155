//! Major faults reach the general manager (001 篇一 第八条): a diagnosis
//! marked major escalates the ticket by itself.

use super::fixtures::*;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::escalation::Escalation;
use crate::ticket::types::*;
use crate::ticket::{TicketError, TicketEvent};

fn major() -> DiagnoseFault {
    DiagnoseFault {
        major: true,
        ..diagnose(RootCause::Design, false, RepairPath::WorkshopRepair)
    }
}

#[test]
fn a_diagnosis_marked_major_is_recorded_as_such() {
    framework()
        .given(vec![received(), in_warranty()])
        .when(by(Role::Technician, TicketCommand::DiagnoseFault(major())))
        .then_expect_events(vec![diagnosed_event(major())]);
}

#[test]
fn a_major_diagnosis_escalates_the_ticket_by_itself() {
    let ticket = state_after(vec![received(), in_warranty(), diagnosed_event(major())]);
    assert!(ticket.escalated);
    let open = [received(), in_warranty(), diagnosed_event(major())]
        .iter()
        .fold(None, Escalation::step)
        .expect("escalated");
    assert!(open.major_fault);
    assert_eq!(open.reason, "major fault MOTOR-OPEN");
}

#[test]
fn a_ticket_a_major_diagnosis_escalated_is_not_escalated_again() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed_event(major())])
        .when(by(Role::ServiceManager, escalate()))
        .then_expect_error(TicketError::AlreadyEscalated);
}

#[test]
fn an_ordinary_diagnosis_escalates_nothing() {
    let ticket = state_after(vec![received(), in_warranty(), diagnosed()]);
    assert!(!ticket.escalated);
    assert_eq!(Escalation::step(None, &diagnosed()), None);
}

#[test]
fn the_escalation_leaves_the_list_when_the_ticket_closes_or_reopens() {
    let open = Escalation::step(None, &escalated());
    assert!(open.is_some());
    assert_eq!(Escalation::step(open.clone(), &closed()), None);
    assert_eq!(Escalation::step(open, &reopened(true, 2)), None);
    let events: Vec<TicketEvent> = vec![escalated(), diagnosed_event(major())];
    let kept = events.iter().fold(None, Escalation::step);
    assert_eq!(kept.map(|e| e.major_fault), Some(false));
}
