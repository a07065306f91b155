//! Given/when/then tests of the 8D: planning with owners and due dates,
//! recording D1/D2/D3/D7, linking failure reports, and overdue steps.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;
use crate::roles::Actor;
use crate::values::{ActorId, Problem};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 20, 2, 0, 0)
        .single()
        .expect("valid instant")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn id(s: &str) -> ActorId {
    ActorId::parse(s).expect("valid id")
}

fn text(s: &str) -> Text {
    Text::parse(s).expect("valid text")
}

fn as_engineer(command: EightDCommand) -> Authored<ActionCommand> {
    Authored::now(
        Actor {
            id: id("rel-1"),
            role: Role::ReliabilityEngineer,
        },
        ActionCommand::EightD(command),
    )
}

/// An opened action with D2 due 03-10 (not done) and D4 due 03-15.
fn given_opened() -> CorrectiveAction {
    let mut a = CorrectiveAction::default();
    a.apply(ActionEvent::CorrectiveActionOpened {
        title: text("Motor winding opens"),
        failure_modes: vec![Label::parse("MOTOR-OPEN").expect("label")],
        models: vec![Label::parse("WM-800").expect("label")],
        verification_window_days: 30,
        by: id("rel-1"),
        role: Role::ReliabilityEngineer,
        at: now(),
    });
    for (discipline, due_on) in [
        (Discipline::D2Problem, date(2026, 3, 10)),
        (Discipline::D4RootCause, date(2026, 3, 15)),
    ] {
        let e = a
            .decide(
                as_engineer(EightDCommand::PlanStep {
                    discipline,
                    owner: id("eng-7"),
                    due_on,
                }),
                now(),
                date(2026, 3, 20),
            )
            .expect("planned");
        a.apply(e);
    }
    a
}

#[test]
fn planned_steps_not_done_by_their_due_date_are_overdue() {
    let a = given_opened();
    let overdue: Vec<_> = a
        .overdue(date(2026, 3, 20))
        .into_iter()
        .map(|(d, p)| (d, p.owner.to_string(), p.due_on))
        .collect();
    assert_eq!(
        overdue,
        vec![
            (Discipline::D2Problem, "eng-7".into(), date(2026, 3, 10)),
            (Discipline::D4RootCause, "eng-7".into(), date(2026, 3, 15)),
        ]
    );
    assert!(
        a.overdue(date(2026, 3, 10)).is_empty(),
        "due today is not late"
    );
    assert_eq!(a.version, 3, "8D events count as versions");
    assert_eq!(
        a.status,
        ActionStatus::Opened,
        "8D events keep the lifecycle"
    );
}

#[test]
fn recording_a_step_makes_it_done_and_d1_keeps_its_team() {
    let mut a = given_opened();
    for (discipline, team) in [
        (Discipline::D2Problem, vec![]),
        (
            Discipline::D1Team,
            vec![id("eng-7"), id("qa-2"), id("eng-7")],
        ),
    ] {
        let e = a
            .decide(
                as_engineer(EightDCommand::RecordStep {
                    discipline,
                    content: text("done"),
                    team,
                }),
                now(),
                date(2026, 3, 20),
            )
            .expect("recorded");
        a.apply(e);
    }
    assert!(a.done(Discipline::D2Problem) && a.done(Discipline::D1Team));
    assert_eq!(a.eight_d.team, vec![id("eng-7"), id("qa-2")]);
    let late: Vec<_> = a
        .overdue(date(2026, 3, 20))
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    assert_eq!(late, vec![Discipline::D4RootCause]);
}

#[test]
fn a_step_with_its_own_command_or_a_team_outside_d1_is_refused_by_field() {
    let a = given_opened();
    let record = |discipline, team| {
        a.decide(
            as_engineer(EightDCommand::RecordStep {
                discipline,
                content: text("x"),
                team,
            }),
            now(),
            date(2026, 3, 20),
        )
    };
    let field = |r: Result<ActionEvent, ActionError>| match r {
        Err(ActionError::Invalid(e)) => e.field,
        other => panic!("expected invalid, got {other:?}"),
    };
    assert_eq!(field(record(Discipline::D4RootCause, vec![])), "discipline");
    assert_eq!(field(record(Discipline::D1Team, vec![])), "team");
    assert_eq!(
        field(record(Discipline::D3Containment, vec![id("x")])),
        "team"
    );
}

#[test]
fn linked_failure_reports_accumulate_without_duplicates() {
    let mut a = given_opened();
    for ids in [vec!["T-2", "T-1", "T-2"], vec!["T-3", "T-1"]] {
        let e = a
            .decide(
                as_engineer(EightDCommand::LinkFailures {
                    ticket_ids: ids.into_iter().map(str::to_owned).collect(),
                }),
                now(),
                date(2026, 3, 20),
            )
            .expect("linked");
        a.apply(e);
    }
    let linked: Vec<&str> = a
        .eight_d
        .linked_tickets
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(linked, vec!["T-1", "T-2", "T-3"]);
    let empty = a.decide(
        as_engineer(EightDCommand::LinkFailures { ticket_ids: vec![] }),
        now(),
        date(2026, 3, 20),
    );
    assert_eq!(empty, Err(Problem::Empty.at("ticket_ids").into()));
}

#[test]
fn no_8d_command_is_taken_on_an_action_that_was_never_opened() {
    let r = CorrectiveAction::default().decide(
        as_engineer(EightDCommand::LinkFailures {
            ticket_ids: vec!["T-1".into()],
        }),
        now(),
        date(2026, 3, 20),
    );
    assert_eq!(r, Err(ActionError::UnknownAction));
}
