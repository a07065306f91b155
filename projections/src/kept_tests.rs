//! Kept state: a stream's events applied in random batch splits, with the
//! state stored and read back between batches as the engine does, give
//! exactly the rows one pass over the whole history (a rebuild) gives, for
//! every read model that keeps state.

use chrono::{DateTime, Duration, Utc};
use domain::ticket::types::RootCause;
use domain::ticket::Policies;
use domain::values::ActorId;
use domain::TicketEvent;
use proptest::prelude::*;

use crate::engine::{find, Context, Target};
use crate::fracas::records_tests::{date, diagnosed, label, now, received, text};
use crate::fracas::Fracas;
use crate::kept::{PerStream, Statements};
use crate::log::RawEvent;

/// `event` as the log hands it to a projection.
pub(crate) fn logged(kind: &str, id: &str, n: usize, payload: serde_json::Value) -> RawEvent {
    let at = now() + Duration::hours(i64::try_from(n).unwrap_or(0));
    RawEvent {
        log_position: i64::try_from(n).unwrap_or(0) + 1,
        event_id: format!("e-{n}"),
        aggregate_type: kind.to_owned(),
        ticket_id: id.to_owned(),
        sequence: i64::try_from(n).unwrap_or(0) + 1,
        event_type: String::new(),
        event_version: "1".into(),
        payload,
        metadata: serde_json::json!({}),
        recorded_at: at,
        occurred_at: at,
    }
}

/// The rows of the stream of `events` after applying them in the batches
/// that `cuts` split them into (none: one pass).
pub(crate) fn rows_after<P: PerStream>(events: &[RawEvent], cuts: &[usize]) -> Statements {
    let cx = Context::new(Policies::default().local_time());
    let first = events.first().expect("a stream has events");
    let (kind, id) = (
        P::stream(first).expect("followed"),
        first.ticket_id.as_str(),
    );
    let mut bounds: Vec<usize> = cuts.iter().map(|c| 1 + c % events.len()).collect();
    bounds.push(events.len());
    bounds.sort_unstable();
    // Between batches the state is stored and read back, as the engine
    // does; one pass (no cut) never stores it.
    let (mut state, mut start) = (P::State::default(), 0);
    for end in bounds {
        if start > 0 {
            let kept = serde_json::to_string(&state).expect("kept state writes");
            state = serde_json::from_str(&kept).expect("kept state reads back");
        }
        for e in &events[start..end] {
            P::step(&mut state, kind, id, e, &cx).expect("step");
        }
        start = end;
    }
    let at = Target::live(find(P::NAME).expect("registered"));
    P::rows(&at, kind, id, &state, &cx)
}

fn at(hours: u32) -> DateTime<Utc> {
    now() + Duration::hours(i64::from(hours))
}

/// A random ticket history as FRACAS reads it: diagnoses, QC failures and
/// reopenings in any order after the reception.
fn failure_history() -> impl Strategy<Value = Vec<TicketEvent>> {
    let step = prop_oneof![
        (0..4_usize).prop_map(|c| (0, c)),
        Just((1, 0)),
        any::<bool>().prop_map(|same| (2, usize::from(same))),
    ];
    prop::collection::vec(step, 0..12).prop_map(|steps| {
        let mut out = vec![received(Some(date(2026, 1, 19)), None)];
        let mut cycle = 1;
        for (n, (kind, arg)) in steps.into_iter().enumerate() {
            let when = at(u32::try_from(n).unwrap_or(0) + 1);
            out.push(match kind {
                0 => diagnosed(
                    [
                        RootCause::Assembly,
                        RootCause::NoFaultFound,
                        RootCause::Misuse,
                        RootCause::Wear,
                    ][arg],
                    when,
                ),
                1 => TicketEvent::QcFailed {
                    inspector: ActorId::parse("qc-1").expect("id"),
                    defects: vec![label("noise")],
                    rework: 1,
                    at: when,
                },
                _ => {
                    cycle += 1;
                    TicketEvent::TicketReopened {
                        reason: text("again"),
                        same_fault: arg == 1,
                        cycle,
                        at: when,
                    }
                }
            });
        }
        out
    })
}

fn ticket_stream(events: &[TicketEvent]) -> Vec<RawEvent> {
    events
        .iter()
        .enumerate()
        .map(|(n, e)| logged("Ticket", "t-1", n, serde_json::to_value(e).expect("json")))
        .collect()
}

proptest! {
    #[test]
    fn fracas_rows_after_any_batch_split_equal_a_rebuilds(
        history in failure_history(),
        cuts in prop::collection::vec(0..20_usize, 0..5),
    ) {
        let stream = ticket_stream(&history);
        prop_assert_eq!(rows_after::<Fracas>(&stream, &cuts), rows_after::<Fracas>(&stream, &[]));
    }
}

#[test]
fn fracas_kept_state_gives_the_records_the_whole_history_gives() {
    let history = vec![
        received(Some(date(2026, 1, 19)), None),
        diagnosed(RootCause::Assembly, at(1)),
        diagnosed(RootCause::Misuse, at(2)),
    ];
    let rows = rows_after::<Fracas>(&ticket_stream(&history), &[1, 2]);
    let inserts = rows
        .iter()
        .filter(|(sql, _)| sql.starts_with("INSERT INTO fracas_failures "))
        .count();
    assert_eq!(inserts, 2);
}

mod sla {
    use chrono::Duration;
    use domain::TicketEvent;
    use proptest::prelude::*;

    use super::{logged, rows_after};
    use crate::log::RawEvent;
    use crate::sla::alerts::Alert;
    use crate::sla::clocks::tests::{arrived, diagnosed, quoted, repair, sh, tech};
    use crate::sla::{Sla, ALERT_AGGREGATE};

    /// A random ticket history as the SLA clocks read it (starts, pauses,
    /// resumes, stops, cancellations and reopenings, hours apart), with
    /// the watcher's alerts among it.
    fn sla_history() -> impl Strategy<Value = Vec<RawEvent>> {
        prop::collection::vec((0..9_u8, 1..30_i64), 0..14).prop_map(|steps| {
            let mut when = sh("2026-01-06", "09:00");
            let mut out = vec![serde_json::to_value(repair()).expect("json")];
            let mut cycle = 1;
            for (kind, gap) in steps {
                when += Duration::hours(gap);
                let event = match kind {
                    0 => arrived(when),
                    1 => diagnosed(when),
                    2 => quoted(when),
                    3 => TicketEvent::QuoteAccepted { at: when },
                    4 => TicketEvent::QcPassed {
                        inspector: tech(),
                        at: when,
                    },
                    5 => {
                        cycle += 1;
                        TicketEvent::TicketReopened {
                            reason: super::text("again"),
                            same_fault: true,
                            cycle,
                            at: when,
                        }
                    }
                    6 => TicketEvent::QuoteDeclined {
                        reason: super::text("too dear"),
                        at: when,
                    },
                    _ => {
                        let alert = Alert::SlaAtRisk {
                            clock: "repair_cycle".into(),
                            cycle,
                            due_at: when,
                            at: when,
                        };
                        out.push(serde_json::to_value(alert).expect("json"));
                        continue;
                    }
                };
                out.push(serde_json::to_value(event).expect("json"));
            }
            out.into_iter()
                .enumerate()
                .map(|(n, payload)| {
                    let kind = if payload.get(Alert::AT_RISK).is_some() {
                        ALERT_AGGREGATE
                    } else {
                        "Ticket"
                    };
                    logged(kind, "t-1", n, payload)
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn sla_rows_after_any_batch_split_equal_a_rebuilds(
            stream in sla_history(),
            cuts in prop::collection::vec(0..20_usize, 0..5),
        ) {
            prop_assert_eq!(rows_after::<Sla>(&stream, &cuts), rows_after::<Sla>(&stream, &[]));
        }
    }
}
