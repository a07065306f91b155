//! Given/when/then tests of the corrective action: every transition, every
//! rejection, and who may take each step.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use super::*;
use crate::clock::FixedClock;
use crate::roles::Actor;
use crate::ticket::Policies;
use crate::values::{ActorId, Problem};

type Framework = TestFramework<CorrectiveAction>;

/// "Now": 2026-03-20 10:00 Beijing time.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 20, 2, 0, 0)
        .single()
        .expect("valid instant")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn framework() -> Framework {
    TestFramework::with(TicketServices::new(
        Arc::new(FixedClock::at(now())),
        Policies::default(),
    ))
}

fn label(s: &str) -> Label {
    Label::parse(s).expect("valid label")
}

fn text(s: &str) -> Text {
    Text::parse(s).expect("valid text")
}

fn actor_id(role: Role) -> ActorId {
    ActorId::parse(&format!("{role}-1")).expect("valid id")
}

fn by(role: Role, command: ActionCommand) -> Authored<ActionCommand> {
    Authored::now(
        Actor {
            id: actor_id(role),
            role,
        },
        command,
    )
}

const RE: Role = Role::ReliabilityEngineer;
const FRB: Role = Role::FailureReviewBoard;

fn open() -> ActionCommand {
    ActionCommand::Open(OpenAction {
        title: text("Motor winding opens under load"),
        failure_modes: vec![label("MOTOR-OPEN"), label("MOTOR-OPEN")],
        models: vec![label("WM-800")],
        verification_window_days: 30,
    })
}

fn opened() -> ActionEvent {
    ActionEvent::CorrectiveActionOpened {
        title: text("Motor winding opens under load"),
        failure_modes: vec![label("MOTOR-OPEN")],
        models: vec![label("WM-800")],
        verification_window_days: 30,
        by: actor_id(RE),
        role: RE,
        at: now(),
    }
}

fn analyse() -> ActionCommand {
    ActionCommand::RecordRootCause {
        category: RootCause::Material,
        analysis: text("enamel wire from lot 7 too thin"),
    }
}

fn analysed() -> ActionEvent {
    ActionEvent::RootCauseAnalysed {
        category: RootCause::Material,
        analysis: text("enamel wire from lot 7 too thin"),
        by: actor_id(RE),
        role: RE,
        at: now(),
    }
}

fn implement(on: NaiveDate) -> ActionCommand {
    ActionCommand::RecordImplementation {
        description: text("supplier changed; incoming inspection of wire gauge"),
        implemented_on: on,
    }
}

/// Implemented on 2026-01-01: the 30-day window runs to 2026-01-31.
fn implemented() -> ActionEvent {
    ActionEvent::ActionImplemented {
        description: text("supplier changed; incoming inspection of wire gauge"),
        implemented_on: date(2026, 1, 1),
        by: actor_id(RE),
        role: RE,
        at: now(),
    }
}

fn verify() -> ActionCommand {
    ActionCommand::VerifyEffectiveness {
        evidence: text("no MOTOR-OPEN returns since January"),
    }
}

fn verified() -> ActionEvent {
    ActionEvent::EffectivenessVerified {
        evidence: text("no MOTOR-OPEN returns since January"),
        window_from: date(2026, 1, 1),
        window_to: date(2026, 1, 31),
        by: actor_id(RE),
        role: RE,
        at: now(),
    }
}

fn failure(mode: &str, model: &str, on: NaiveDate) -> Recurrence {
    Recurrence {
        ticket_id: format!("t-{mode}-{model}-{on}"),
        serial: "SN-1".into(),
        product_model: model.into(),
        failure_mode: mode.into(),
        failed_on: on,
    }
}

fn close(recurrences: Vec<Recurrence>) -> ActionCommand {
    ActionCommand::Close { recurrences }
}

fn closed(checked: u32) -> ActionEvent {
    ActionEvent::CorrectiveActionClosed {
        failures_checked: checked,
        by: actor_id(FRB),
        role: FRB,
        at: now(),
    }
}

#[test]
fn a_reliability_engineer_opens_an_action_against_modes_and_models() {
    framework()
        .given_no_previous_events()
        .when(by(RE, open()))
        .then_expect_events(vec![opened()]);
}

#[test]
fn an_action_cannot_be_opened_twice() {
    framework()
        .given(vec![opened()])
        .when(by(RE, open()))
        .then_expect_error(ActionError::AlreadyOpened);
}

#[test]
fn an_action_needs_at_least_one_failure_mode() {
    let command = ActionCommand::Open(OpenAction {
        failure_modes: vec![],
        ..match open() {
            ActionCommand::Open(o) => o,
            _ => unreachable!(),
        }
    });
    framework()
        .given_no_previous_events()
        .when(by(RE, command))
        .then_expect_error(Problem::Empty.at("failure_modes").into());
}

#[test]
fn an_action_needs_at_least_one_model() {
    let command = ActionCommand::Open(OpenAction {
        title: text("t"),
        failure_modes: vec![label("M")],
        models: vec![],
        verification_window_days: 30,
    });
    framework()
        .given_no_previous_events()
        .when(by(RE, command))
        .then_expect_error(Problem::Empty.at("models").into());
}

#[test]
fn the_verification_window_is_one_day_to_ten_years() {
    for days in [0, MAX_WINDOW_DAYS + 1] {
        let command = ActionCommand::Open(OpenAction {
            title: text("t"),
            failure_modes: vec![label("M")],
            models: vec![label("WM-800")],
            verification_window_days: days,
        });
        framework()
            .given_no_previous_events()
            .when(by(RE, command))
            .then_expect_error(
                Problem::OutOfRange { min: 1, max: 3650 }
                    .at("verification_window_days")
                    .into(),
            );
    }
}

#[test]
fn the_root_cause_is_recorded_on_an_open_action() {
    framework()
        .given(vec![opened()])
        .when(by(RE, analyse()))
        .then_expect_events(vec![analysed()]);
}

#[test]
fn a_step_on_an_action_never_opened_is_not_found() {
    framework()
        .given_no_previous_events()
        .when(by(RE, analyse()))
        .then_expect_error(ActionError::UnknownAction);
}

#[test]
fn the_implementation_is_recorded_after_the_root_cause() {
    framework()
        .given(vec![opened(), analysed()])
        .when(by(RE, implement(date(2026, 1, 1))))
        .then_expect_events(vec![implemented()]);
}

#[test]
fn the_implementation_cannot_come_before_the_root_cause() {
    framework()
        .given(vec![opened()])
        .when(by(RE, implement(date(2026, 1, 1))))
        .then_expect_error(ActionError::NotAllowed {
            command: ActionCommandKind::RecordImplementation,
            status: ActionStatus::Opened,
        });
}

#[test]
fn an_implementation_date_in_the_future_is_refused() {
    framework()
        .given(vec![opened(), analysed()])
        .when(by(RE, implement(date(2026, 3, 21))))
        .then_expect_error(
            Problem::Malformed("must not be after today (2026-03-20)".into())
                .at("implemented_on")
                .into(),
        );
}

#[test]
fn effectiveness_is_verified_once_the_window_has_passed() {
    framework()
        .given(vec![opened(), analysed(), implemented()])
        .when(by(RE, verify()))
        .then_expect_events(vec![verified()]);
}

#[test]
fn effectiveness_cannot_be_verified_while_the_window_is_open() {
    let recent = ActionEvent::ActionImplemented {
        description: text("x"),
        implemented_on: date(2026, 3, 1),
        by: actor_id(RE),
        role: RE,
        at: now(),
    };
    framework()
        .given(vec![opened(), analysed(), recent])
        .when(by(RE, verify()))
        .then_expect_error(ActionError::WindowStillOpen {
            until: date(2026, 3, 31),
            status: ActionStatus::Implemented,
        });
}

#[test]
fn effectiveness_cannot_be_verified_before_implementation() {
    framework()
        .given(vec![opened(), analysed()])
        .when(by(RE, verify()))
        .then_expect_error(ActionError::NotAllowed {
            command: ActionCommandKind::VerifyEffectiveness,
            status: ActionStatus::RootCauseAnalysed,
        });
}

#[test]
fn the_board_closes_a_verified_action_when_nothing_recurred() {
    framework()
        .given(vec![opened(), analysed(), implemented(), verified()])
        .when(by(FRB, close(vec![])))
        .then_expect_events(vec![closed(0)]);
}

#[test]
fn closing_is_refused_when_the_mode_recurred_on_the_model_in_the_window() {
    framework()
        .given(vec![opened(), analysed(), implemented(), verified()])
        .when(by(
            FRB,
            close(vec![
                failure("MOTOR-OPEN", "WM-800", date(2026, 1, 20)),
                failure("MOTOR-OPEN", "WM-800", date(2026, 1, 5)),
            ]),
        ))
        .then_expect_error(ActionError::Recurred {
            count: 2,
            first_ticket: "t-MOTOR-OPEN-WM-800-2026-01-05".into(),
            first_on: date(2026, 1, 5),
            from: date(2026, 1, 1),
            to: date(2026, 1, 31),
            status: ActionStatus::Verified,
        });
}

#[test]
fn the_window_includes_its_first_and_last_day() {
    for on in [date(2026, 1, 1), date(2026, 1, 31)] {
        let result = framework()
            .given(vec![opened(), analysed(), implemented(), verified()])
            .when(by(FRB, close(vec![failure("MOTOR-OPEN", "WM-800", on)])))
            .inspect_result();
        assert!(
            matches!(result, Err(ActionError::Recurred { count: 1, .. })),
            "{on}"
        );
    }
}

#[test]
fn failures_outside_the_window_or_of_other_modes_or_models_do_not_block_closing() {
    framework()
        .given(vec![opened(), analysed(), implemented(), verified()])
        .when(by(
            FRB,
            close(vec![
                failure("MOTOR-OPEN", "WM-800", date(2025, 12, 31)),
                failure("MOTOR-OPEN", "WM-800", date(2026, 2, 1)),
                failure("DOOR-LEAK", "WM-800", date(2026, 1, 10)),
                failure("MOTOR-OPEN", "WM-900", date(2026, 1, 10)),
            ]),
        ))
        .then_expect_events(vec![closed(4)]);
}

#[test]
fn an_action_cannot_close_before_its_effectiveness_is_verified() {
    framework()
        .given(vec![opened(), analysed(), implemented()])
        .when(by(FRB, close(vec![])))
        .then_expect_error(ActionError::NotAllowed {
            command: ActionCommandKind::Close,
            status: ActionStatus::Implemented,
        });
}

#[test]
fn a_closed_action_takes_no_further_step() {
    framework()
        .given(vec![
            opened(),
            analysed(),
            implemented(),
            verified(),
            closed(0),
        ])
        .when(by(FRB, close(vec![])))
        .then_expect_error(ActionError::NotAllowed {
            command: ActionCommandKind::Close,
            status: ActionStatus::Closed,
        });
}

#[test]
fn a_reliability_engineer_may_not_close_an_action() {
    framework()
        .given(vec![opened(), analysed(), implemented(), verified()])
        .when(by(RE, close(vec![])))
        .then_expect_error(ActionError::Forbidden {
            role: RE,
            command: ActionCommandKind::Close,
        });
}

#[test]
fn the_failure_review_board_may_not_open_an_action() {
    framework()
        .given_no_previous_events()
        .when(by(FRB, open()))
        .then_expect_error(ActionError::Forbidden {
            role: FRB,
            command: ActionCommandKind::Open,
        });
}

/// Each step with the history it needs, and the one role allowed it.
fn each_step() -> Vec<(Vec<ActionEvent>, ActionCommand, Role)> {
    vec![
        (vec![], open(), RE),
        (vec![opened()], analyse(), RE),
        (vec![opened(), analysed()], implement(date(2026, 1, 1)), RE),
        (vec![opened(), analysed(), implemented()], verify(), RE),
        (
            vec![opened(), analysed(), implemented(), verified()],
            close(vec![]),
            FRB,
        ),
    ]
}

#[test]
fn every_step_is_refused_to_every_other_role_and_taken_by_its_own() {
    for (given, command, allowed) in each_step() {
        let kind = command.kind();
        for role in Role::ALL {
            let result = framework()
                .given(given.clone())
                .when(by(role, command.clone()))
                .inspect_result();
            if role == allowed {
                assert!(
                    result.is_ok(),
                    "{role} should be allowed {kind}: {result:?}"
                );
            } else {
                assert_eq!(
                    result,
                    Err(ActionError::Forbidden {
                        role,
                        command: kind
                    }),
                    "{role} must not {kind}"
                );
            }
        }
    }
}

#[test]
fn each_step_records_who_took_it_and_when() {
    let mut action = CorrectiveAction::default();
    for event in [opened(), analysed(), implemented(), verified(), closed(0)] {
        action.apply(event);
    }
    let steps: Vec<_> = action
        .steps
        .iter()
        .map(|s| (s.step, s.by.to_string(), s.role, s.at))
        .collect();
    assert_eq!(
        steps,
        vec![
            (
                ActionStatus::Opened,
                "reliability_engineer-1".into(),
                RE,
                now()
            ),
            (
                ActionStatus::RootCauseAnalysed,
                "reliability_engineer-1".into(),
                RE,
                now()
            ),
            (
                ActionStatus::Implemented,
                "reliability_engineer-1".into(),
                RE,
                now()
            ),
            (
                ActionStatus::Verified,
                "reliability_engineer-1".into(),
                RE,
                now()
            ),
            (
                ActionStatus::Closed,
                "failure_review_board-1".into(),
                FRB,
                now()
            ),
        ]
    );
    assert_eq!(action.status, ActionStatus::Closed);
    assert_eq!(action.version, 5);
    assert_eq!(action.closed_at(), Some(now()));
}
