//! The exposure roll-ups FRACAS and registrations keep give the cells the
//! population and the failure records give, however the log was batched
//! and whenever the installed base was registered.

use chrono::{Duration, NaiveDate};
use domain::ticket::types::RootCause;
use domain::values::SerialNumber;
use domain::TicketEvent;
use proptest::prelude::*;

use super::analysis::{reliability, reliability_of, GroupBy};
use super::base::{installed, register};
use super::exposure::{of_population, Exposure};
use super::installed::{DateKind, InstalledUnit, Population};
use super::population::read;
use super::records_tests::{date, diagnosed, label, now, received};
use super::reports::{relevant, units, Filter};
use super::Fracas;
use crate::db::Pool;
use crate::kept_tests::{self, apply_batch, block_on, memory_store};
use crate::log::RawEvent;

const MODELS: [&str; 2] = ["WM-800", "WM-900"];
const MODES: [&str; 2] = ["MOTOR-OPEN", "PUMP-LEAK"];

/// A ticket: serial, model, batch (0: none), purchase day (None: none),
/// diagnoses (relevant or not, mode, days after reception).
type Ticket = (usize, usize, usize, Option<i64>, Vec<(bool, usize, i64)>);

/// A registration: serial (None: a lot of 3), model, batch, day.
type Registration = (Option<usize>, usize, usize, Option<i64>);

fn ticket() -> impl Strategy<Value = Ticket> {
    (
        0..4_usize,
        0..2_usize,
        0..3_usize,
        prop::option::of(0..400_i64),
        prop::collection::vec((any::<bool>(), 0..2_usize, 0..30_i64), 0..3),
    )
}

fn registration() -> impl Strategy<Value = Registration> {
    (
        prop::option::of(0..5_usize),
        0..2_usize,
        0..3_usize,
        prop::option::of(0..400_i64),
    )
}

fn day(d: i64) -> NaiveDate {
    date(2025, 1, 1) + Duration::days(d)
}

const BATCHES: [Option<&str>; 3] = [None, Some("B1"), Some("B2")];

fn events(n: usize, (serial, model, batch, bought, diagnoses): &Ticket) -> Vec<TicketEvent> {
    let mut receipt = received(bought.map(day), None);
    let at = now() + Duration::days(i64::try_from(n).unwrap_or(0) % 3);
    if let TicketEvent::TicketReceived {
        product,
        received_at,
        ..
    } = &mut receipt
    {
        product.model = label(MODELS[*model]);
        product.batch = BATCHES[*batch].map(label);
        product.serial = SerialNumber::parse(&format!("SN-{serial}")).expect("serial");
        *received_at = at;
    }
    let mut out = vec![receipt];
    for (counts, mode, days) in diagnoses {
        let cause = if *counts {
            RootCause::Assembly
        } else {
            RootCause::NoFaultFound
        };
        let mut d = diagnosed(cause, at + Duration::days(*days));
        if let TicketEvent::FaultDiagnosed { failure_mode, .. } = &mut d {
            *failure_mode = label(MODES[*mode]);
        }
        out.push(d);
    }
    out
}

fn logged_tickets(tickets: &[Ticket]) -> Vec<RawEvent> {
    kept_tests::logged_tickets(tickets.iter().enumerate().map(|(n, t)| events(n, t)))
}

fn unit((serial, model, batch, on): &Registration) -> InstalledUnit {
    InstalledUnit {
        product_model: MODELS[*model].to_owned(),
        batch: BATCHES[*batch].unwrap_or_default().to_owned(),
        serial: serial.map(|s| format!("SN-{s}")),
        quantity: if serial.is_some() { 1 } else { 3 },
        in_service_on: on.map(day),
        date_kind: DateKind::Sold,
    }
}

/// The store after the log, cut at `cuts`, with `rounds` registered
/// before the event each names (past the end: after the last).
async fn kept(log: &[RawEvent], cuts: &[usize], rounds: &[(usize, Vec<Registration>)]) -> Pool {
    kept_checked(log, cuts, rounds).await.0
}

/// [`kept`], with the exposure (read, recomputed) after every batch and
/// registration.
async fn kept_checked(
    log: &[RawEvent],
    cuts: &[usize],
    rounds: &[(usize, Vec<Registration>)],
) -> (Pool, Vec<(Exposure, Exposure)>) {
    let mut seen = Vec::new();
    let store = memory_store().await;
    let at = |c: usize| c.min(log.len());
    let mut stops: Vec<usize> = cuts
        .iter()
        .chain(rounds.iter().map(|r| &r.0))
        .map(|c| at(*c))
        .collect();
    stops.push(log.len());
    stops.sort_unstable();
    stops.dedup();
    let mut start = 0;
    for stop in stops {
        if stop > start {
            apply_batch(&store, &Fracas, &log[start..stop]).await;
            start = stop;
            seen.push(both(&store).await);
        }
        for (_, round) in rounds.iter().filter(|r| at(r.0) == stop) {
            let units: Vec<InstalledUnit> = round.iter().map(unit).collect();
            register(&store, &units, now()).await.expect("register");
            seen.push(both(&store).await);
        }
    }
    (store, seen)
}

/// The unfiltered exposure (read, recomputed).
async fn both(store: &Pool) -> (Exposure, Exposure) {
    let all = Filter::default();
    let got = read(store, &all).await.expect("read");
    (got, recomputed(store, &all).await)
}

/// The exposure computed from the population and the records.
async fn recomputed(store: &Pool, filter: &Filter) -> Exposure {
    let pop = Population::new(
        &installed(store, &Filter::default())
            .await
            .expect("installed"),
        &units(store, &Filter::default()).await.expect("units"),
    );
    of_population(&pop, &relevant(store, filter).await.expect("relevant"))
}

fn failure_filter() -> impl Strategy<Value = Filter> {
    let mode = prop::option::of(prop::sample::select(MODES.to_vec()));
    let d = prop::option::of(0..420_i64);
    (mode, d.clone(), d).prop_map(|(m, from, to)| Filter {
        failure_mode: m.map(str::to_owned),
        from: from.map(|d| (now() + Duration::days(d - 200)).date_naive()),
        to: to.map(|d| (now() + Duration::days(d - 200)).date_naive()),
        ..Filter::default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_exposure_kept_equals_the_population_recomputed_whatever_the_batches_and_registrations(
        tickets in prop::collection::vec(ticket(), 1..7),
        cuts in prop::collection::vec(0..30_usize, 0..3),
        rounds in prop::collection::vec(
            (0..30_usize, prop::collection::vec(registration(), 1..4)), 0..3),
        filters in prop::collection::vec(failure_filter(), 1..3),
    ) {
        let log = logged_tickets(&tickets);
        block_on(async {
            let (store, seen) = kept_checked(&log, &cuts, &rounds).await;
            for (step, (got, want)) in seen.into_iter().enumerate() {
                prop_assert_eq!(got, want, "after step {}", step);
            }
            for f in filters.iter().chain([&Filter::default()]) {
                let got = read(&store, f).await.expect("read");
                prop_assert_eq!(got, recomputed(&store, f).await, "{:?}", f);
            }
            Ok(())
        })?;
    }
}

fn model(m: &str) -> Filter {
    Filter {
        product_model: Some(m.to_owned()),
        ..Filter::default()
    }
}

/// The store after `tickets` and `rounds` (see [`kept`]), with its
/// exposure read unfiltered and recomputed. One runtime: the in-memory
/// database lives as long as its connection.
fn exposure_after(
    tickets: &[Ticket],
    rounds: &[(usize, Vec<Registration>)],
    filter: &Filter,
) -> (Exposure, Exposure) {
    block_on(async {
        let store = kept(&logged_tickets(tickets), &[], rounds).await;
        let got = read(&store, filter).await.expect("read");
        (got, recomputed(&store, filter).await)
    })
}

#[test]
fn given_serials_seen_first_when_a_lot_of_their_model_is_registered_then_their_failures_are_the_lots(
) {
    // SN-0 fails (WM-800, batch B1); then a lot of WM-800 B1 from day 10.
    let tickets = vec![(0, 0, 1, Some(0), vec![(true, 0, 5)])];
    let lot = (None, 0, 1, Some(10));
    let (e, recomputed) = exposure_after(&tickets, &[(99, vec![lot])], &Filter::default());
    // The lot's 3 units from day 10, the serial no unit of its own.
    assert_eq!(e.units.len(), 1);
    assert_eq!((e.units[0].units, e.units[0].in_service_on), (3, day(10)));
    assert_eq!(e.failures.len(), 1);
    assert_eq!(e.failures[0].failures, 1);
    assert_eq!(e, recomputed);
}

#[test]
fn given_a_unit_registered_again_when_read_then_only_its_new_model_and_date_count() {
    let first = (Some(0), 0, 0, Some(5));
    let again = (Some(0), 1, 0, Some(20));
    let rounds = [(0, vec![first]), (0, vec![again])];
    let (old, _) = exposure_after(&[], &rounds, &model("WM-800"));
    let (new, _) = exposure_after(&[], &rounds, &model("WM-900"));
    assert_eq!(old, Exposure::default());
    assert_eq!(new.units.len(), 1);
    assert_eq!(new.units[0].in_service_on, day(20));
}

#[test]
fn given_a_serial_registered_without_a_date_when_its_ticket_arrives_then_its_tickets_date_it() {
    let undated = (Some(2), 1, 2, None);
    let tickets = vec![(2, 0, 0, Some(30), vec![(true, 1, 1)])];
    let (e, recomputed) = exposure_after(&tickets, &[(0, vec![undated])], &Filter::default());
    // The installed base's model and batch, the ticket's purchase date.
    assert_eq!(e.units.len(), 1);
    let u = &e.units[0];
    assert_eq!(
        (u.product_model.as_str(), u.batch.as_str(), u.in_service_on),
        ("WM-900", "B2", day(30))
    );
    assert_eq!(e, recomputed);
}

#[test]
fn given_the_kept_exposure_when_mtbf_is_computed_then_it_equals_mtbf_from_every_record() {
    let tickets = vec![
        (0, 0, 1, Some(0), vec![(true, 0, 5), (true, 1, 9)]),
        (1, 0, 1, Some(40), vec![(false, 0, 2)]),
        (0, 0, 1, Some(0), vec![(true, 0, 20)]),
    ];
    let as_of = now().date_naive() + Duration::days(60);
    let (got, want) = block_on(async {
        let store = kept(&logged_tickets(&tickets), &[2, 5], &[]).await;
        let e = read(&store, &Filter::default()).await.expect("read");
        let pop = Population::new(
            &installed(&store, &Filter::default())
                .await
                .expect("installed"),
            &units(&store, &Filter::default()).await.expect("units"),
        );
        let all = relevant(&store, &Filter::default())
            .await
            .expect("relevant");
        (
            reliability_of(&e, as_of, GroupBy::Model),
            reliability(&all, &pop, as_of, GroupBy::Model),
        )
    });
    assert_eq!(got, want);
    // Two serials, three relevant failures (the NFF diagnosis is not one).
    assert_eq!((got[0].units, got[0].failures), (2, 3));
}
