//! Every read model: a stream's events applied in random batch splits
//! (kept state stored and read back between batches, as the engine does)
//! give exactly the rows one pass over the whole history (a rebuild) gives.

use chrono::{DateTime, Duration, Utc};
use domain::ticket::types::RootCause;
use domain::ticket::Policies;
use domain::values::ActorId;
use domain::TicketEvent;
use proptest::prelude::*;

use sqlx::sqlite::SqlitePoolOptions;
use sqlx::Row;

use crate::db::Pool;
use crate::engine::{Context, Projection, Target};
use crate::fracas::records_tests::{date, diagnosed, label, now, received, text};
use crate::fracas::Fracas;
use crate::log::RawEvent;
use crate::sla::SlaConfig;
use crate::ticket_summary::TicketSummary;

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
        payload: payload.to_string(),
        metadata: "{}".into(),
        recorded_at: at,
        occurred_at: at,
    }
}

/// Ticket streams logged one after another, stream n as ticket `t-n`.
pub(crate) fn logged_tickets(streams: impl IntoIterator<Item = Vec<TicketEvent>>) -> Vec<RawEvent> {
    let mut out = Vec::new();
    for (n, events) in streams.into_iter().enumerate() {
        for e in events {
            let json = serde_json::to_value(e).expect("json");
            out.push(logged("Ticket", &format!("t-{n}"), out.len(), json));
        }
    }
    out
}

/// Runs `f` to completion on a runtime of its own. An in-memory store
/// lives as long as its connection, so a test keeps its store's work
/// inside one call.
pub(crate) fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// A fresh SQLite database with the migrations after applying `events`
/// in the batches that `cuts` split them into (none: one pass, as a
/// rebuild reads one stream), through the engine's own
/// `Projection::apply`: the kept state is stored and read back between
/// batches, as in service.
pub(crate) async fn applied<P: Projection + Default>(events: &[RawEvent], cuts: &[usize]) -> Pool {
    let pool = memory_store().await;
    let mut bounds: Vec<usize> = cuts.iter().map(|c| 1 + c % events.len().max(1)).collect();
    bounds.push(events.len());
    bounds.sort_unstable();
    let mut start = 0;
    for end in bounds {
        apply_batch(&pool, &P::default(), &events[start..end]).await;
        start = end;
    }
    pool
}

/// A fresh in-memory SQLite database with the migrations.
pub(crate) async fn memory_store() -> Pool {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    sqlx::migrate!("../migrations/sqlite")
        .run(&pool)
        .await
        .expect("migrations");
    Pool::Sqlite(pool)
}

/// Applies `events` to `p`'s live tables as one batch, in one transaction.
pub(crate) async fn apply_batch(pool: &Pool, p: &dyn Projection, events: &[RawEvent]) {
    let cx = Context::new(Policies::default().local_time(), SlaConfig::shipped());
    let mut tx = pool.begin().await.expect("begin");
    p.apply(&mut tx, &Target::live(p), events, &cx)
        .await
        .expect("apply");
    tx.commit().await.expect("commit");
}

/// Every row of every table of `P` (but a kept-state table), as text, after
/// [`applied`].
pub(crate) fn rows_after<P: Projection + Default>(
    events: &[RawEvent],
    cuts: &[usize],
) -> Vec<Vec<Option<String>>> {
    block_on(async {
        let pool = applied::<P>(events, cuts).await;
        let mut rows = Vec::new();
        for table in P::default()
            .tables()
            .iter()
            .filter(|t| !t.ends_with("_state"))
        {
            rows.push(vec![Some((*table).to_owned())]);
            rows.extend(dump(&pool, table).await);
        }
        rows
    })
}

/// Every row of `table` in a stable order, each cell as text.
async fn dump(pool: &Pool, table: &str) -> Vec<Vec<Option<String>>> {
    let Pool::Sqlite(pool) = pool else {
        unreachable!("the tests use SQLite")
    };
    let mut rows: Vec<Vec<Option<String>>> = sqlx::query(&format!("SELECT * FROM {table}"))
        .fetch_all(pool)
        .await
        .expect("dump")
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    r.try_get::<Option<String>, _>(i)
                        .or_else(|_| {
                            r.try_get::<Option<i64>, _>(i)
                                .map(|v| v.map(|v| v.to_string()))
                        })
                        .expect("text or integer")
                })
                .collect()
        })
        .collect();
    rows.sort();
    rows
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
                    failed_checks: vec![label("noise")],
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

proptest! {
    #[test]
    fn ticket_summary_rows_after_any_batch_split_equal_a_rebuilds(
        history in failure_history(),
        cuts in prop::collection::vec(0..20_usize, 0..5),
    ) {
        let stream = ticket_stream(&history);
        prop_assert_eq!(
            rows_after::<TicketSummary>(&stream, &cuts),
            rows_after::<TicketSummary>(&stream, &[])
        );
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
    let at = |name: &str| {
        rows.iter()
            .position(|r| r == &vec![Some(name.to_owned())])
            .expect("table")
    };
    // Two failure records between the fracas_failures header and the next.
    assert_eq!(at("fracas_units") - at("fracas_failures") - 1, 2);
}

pub(crate) mod sla {
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
    pub(crate) fn sla_history() -> impl Strategy<Value = Vec<RawEvent>> {
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
