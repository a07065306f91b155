//! The count roll-ups FRACAS keeps give the counts the failure records
//! give, for every filter they answer, however the log was batched; the
//! repeat candidates read in SQL give the repeats all relevant failures
//! give.

use chrono::Duration;
use domain::ticket::types::RootCause;
use domain::values::{PartNumber, SerialNumber};
use domain::TicketEvent;
use proptest::prelude::*;

use super::analysis::repeats;
use super::counts::{answers, of_records, read, Count, Key};
use super::records_tests::{date, diagnosed, label, now, received};
use super::reports::{failures, relevant, repeat_candidates, Filter};
use super::Fracas;
use crate::db::Pool;
use crate::kept_tests::{self, applied, block_on};
use crate::log::RawEvent;

const MODELS: [&str; 2] = ["WM-800", "WM-900"];
const MODES: [&str; 3] = ["MOTOR-OPEN", "PUMP-LEAK", "BELT-WORN"];
const PARTS: [&str; 3] = ["MTR-100", "PMP-200", "BLT-300"];
const CAUSES: [RootCause; 4] = [
    RootCause::Assembly,
    RootCause::NoFaultFound,
    RootCause::Misuse,
    RootCause::Wear,
];

/// One diagnosis: cause, mode, parts named (bits of `PARTS`, a part may
/// be named twice), days after the reception.
type Diagnosis = (usize, usize, u8, i64);

/// A ticket: model, batch (0: none), its diagnoses.
type Ticket = (usize, usize, Vec<Diagnosis>);

fn ticket() -> impl Strategy<Value = Ticket> {
    let diagnosis = (0..4_usize, 0..3_usize, 0..16_u8, 0..60_i64);
    (
        0..2_usize,
        0..3_usize,
        prop::collection::vec(diagnosis, 0..4),
    )
}

fn events(n: usize, (model, batch, diagnoses): &Ticket) -> Vec<TicketEvent> {
    let mut receipt = received(Some(date(2026, 1, 19)), None);
    if let TicketEvent::TicketReceived { product, .. } = &mut receipt {
        product.model = label(MODELS[*model]);
        product.batch = [None, Some("B1"), Some("B2")][*batch].map(label);
        // Three serials, so that serials fail more than once.
        product.serial = SerialNumber::parse(&format!("SN-{}", n % 3)).expect("serial");
    }
    let mut out = vec![receipt];
    for (cause, mode, parts, days) in diagnoses {
        let mut d = diagnosed(CAUSES[*cause], now() + Duration::days(*days));
        if let TicketEvent::FaultDiagnosed {
            failure_mode,
            failed_parts,
            ..
        } = &mut d
        {
            *failure_mode = label(MODES[*mode]);
            *failed_parts = (0..4)
                .filter(|bit| parts & (1 << bit) != 0)
                .map(|bit| PartNumber::parse(PARTS[bit % 3]).expect("part"))
                .collect();
        }
        out.push(d);
    }
    out
}

fn logged_tickets(tickets: &[Ticket]) -> Vec<RawEvent> {
    kept_tests::logged_tickets(tickets.iter().enumerate().map(|(n, t)| events(n, t)))
}

fn filter() -> impl Strategy<Value = Filter> {
    let model = prop::option::of(prop::sample::select(MODELS.to_vec()));
    let batch = prop::option::of(prop::sample::select(vec!["B1", "B2"]));
    let mode = prop::option::of(prop::sample::select(MODES.to_vec()));
    let day = prop::option::of(0..70_i64);
    (model, batch, mode, day.clone(), day).prop_map(|(m, b, f, from, to)| {
        let on = |d: i64| (now() + Duration::days(d)).date_naive();
        Filter {
            product_model: m.map(str::to_owned),
            batch: b.map(str::to_owned),
            failure_mode: f.map(str::to_owned),
            from: from.map(on),
            to: to.map(on),
            ..Filter::default()
        }
    })
}

/// (from the roll-ups, from the records) for `key`, after `tickets`.
fn counts_after(tickets: &[Ticket], filter: &Filter, key: Key) -> (Vec<Count>, Vec<Count>) {
    block_on(async {
        let store = applied::<Fracas>(&logged_tickets(tickets), &[1]).await;
        both(&store, filter, key).await
    })
}

/// (from the roll-ups, from the records) for `key`.
async fn both(store: &Pool, filter: &Filter, key: Key) -> (Vec<Count>, Vec<Count>) {
    let kept = read(store, filter, key).await.expect("roll-ups");
    let records = failures(store, filter).await.expect("records");
    (kept, of_records(&records, key))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_roll_ups_count_what_the_records_count_for_any_filter_and_batching(
        tickets in prop::collection::vec(ticket(), 1..6),
        cuts in prop::collection::vec(0..40_usize, 0..4),
        filters in prop::collection::vec(filter(), 1..4),
    ) {
        let log = logged_tickets(&tickets);
        block_on(async {
            let store = applied::<Fracas>(&log, &cuts).await;
            for f in filters.iter().chain([&Filter::default()]) {
                prop_assert!(answers(f));
                for key in [Key::FailureMode, Key::PartNumber] {
                    let (kept, counted) = both(&store, f, key).await;
                    prop_assert_eq!(kept, counted, "{:?} {:?}", key, f);
                }
                let candidates = repeat_candidates(&store, f).await.expect("candidates");
                let all = relevant(&store, f).await.expect("relevant");
                prop_assert_eq!(repeats(&candidates, 30), repeats(&all, 30), "{:?}", f);
            }
            Ok(())
        })?;
    }
}

#[test]
fn given_two_tickets_when_the_modes_are_read_then_each_day_model_and_mode_is_one_count() {
    let tickets = vec![
        (0, 1, vec![(0, 0, 1, 0), (1, 0, 0, 0)]),
        (0, 2, vec![(0, 0, 3, 0), (2, 1, 2, 5)]),
    ];
    let (kept, counted) = counts_after(&tickets, &Filter::default(), Key::FailureMode);
    let day = |d: i64| (now() + Duration::days(d)).date_naive();
    let count = |d, key: &str, diagnoses, relevant, no_fault_found| Count {
        failed_on: day(d),
        product_model: "WM-800".into(),
        key: key.into(),
        diagnoses,
        relevant,
        no_fault_found,
    };
    let want = vec![
        count(0, "MOTOR-OPEN", 3, 2, 1),
        count(5, "PUMP-LEAK", 1, 0, 0),
    ];
    assert_eq!(kept, want);
    assert_eq!(counted, want);
}

#[test]
fn given_parts_named_twice_when_parts_are_read_then_a_failure_counts_each_part_once() {
    // Bits 0 and 3 both name MTR-100.
    let tickets = vec![(1, 0, vec![(3, 2, 0b1001, 1)])];
    let (kept, counted) = counts_after(&tickets, &Filter::default(), Key::PartNumber);
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].key.as_str(), kept[0].relevant), ("MTR-100", 1));
    assert_eq!(kept, counted);
}

#[test]
fn a_serial_a_part_or_an_empty_batch_is_not_a_filter_the_roll_ups_answer() {
    let with = |f: Filter| answers(&f);
    assert!(with(Filter::default()));
    assert!(!with(Filter {
        serial: Some("SN-1".into()),
        ..Filter::default()
    }));
    assert!(!with(Filter {
        part_number: Some("MTR-100".into()),
        ..Filter::default()
    }));
    assert!(!with(Filter {
        batch: Some(String::new()),
        ..Filter::default()
    }));
}

#[test]
fn given_a_serial_filter_when_counts_are_read_then_they_come_from_that_serials_records() {
    let tickets = vec![(0, 1, vec![(0, 0, 1, 0)]), (0, 1, vec![(0, 0, 1, 0)])];
    // Tickets 0 and 1: serials SN-0 and SN-1.
    let f = Filter {
        serial: Some("SN-1".into()),
        ..Filter::default()
    };
    let (kept, _) = counts_after(&tickets, &f, Key::FailureMode);
    assert_eq!(kept.iter().map(|c| c.relevant).sum::<u64>(), 1);
}

#[test]
fn given_eleven_records_at_one_instant_when_history_is_read_then_record_numbers_ascend() {
    let same_instant = (0..11).map(|_| (0, 0, 1, 3)).collect();
    let tickets = vec![(0, 1, same_instant)];
    let numbers = block_on(async {
        let store = applied::<Fracas>(&logged_tickets(&tickets), &[]).await;
        let all = failures(&store, &Filter::default()).await.expect("records");
        all.into_iter().map(|r| r.record_no).collect::<Vec<_>>()
    });
    assert_eq!(numbers, (1..=11).collect::<Vec<u32>>());
}
