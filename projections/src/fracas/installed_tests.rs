//! The installed base: parsing units and import files, and the population
//! MTBF and failure rate are computed over, every figure worked by hand.
//!
//! As-of date 2026-03-31. Installed base:
//! A1 WM-800 B1 serial, sold 2026-01-01          → 89 days
//! A2 WM-800 B1 serial, no date; its ticket says bought 2026-01-31 → 59 days
//! lot WM-800 B2 × 10, shipped 2026-03-01        → 10 × 30 = 300 unit-days
//! A3 WM-900 C1 serial, no date, in no ticket    → cannot be aged: left out
//! Units known only from tickets:
//! T9 WM-800 B2 (a lot of WM-800 B2 exists)     → one of the lot, not a unit more
//! T8 WM-900 C2 bought 2026-02-28                → 31 days
//! Relevant failures: A1 02-01, A2 03-01, T9 03-15, T8 03-20, A3 03-25.
//! WM-800: 12 units, 89 + 59 + 300 = 448 unit-days, 3 failures (A1 A2 T9)
//!   MTBF 448 / 3 = 149.33 → 149.3; rate 3 / 448 × 1000 = 6.6964 → 6.696.
//! WM-900: A3 undated (its failure left out), T8 1 unit, 31 unit-days,
//!   1 failure: MTBF 31.0; rate 1 / 31 × 1000 = 32.2581 → 32.258.

use chrono::{NaiveDate, TimeZone, Utc};

use super::analysis::{reliability, GroupBy};
use super::installed::*;
use super::records::{FailureRecord, Signal, Unit};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn today() -> NaiveDate {
    date(2026, 3, 31)
}

fn raw(model: &str, batch: &str, serial: &str, quantity: &str, on: &str) -> RawUnit {
    RawUnit {
        product_model: model.into(),
        batch: batch.into(),
        serial: serial.into(),
        quantity: quantity.into(),
        date: on.into(),
        date_kind: String::new(),
    }
}

fn parse(r: RawUnit) -> Result<InstalledUnit, UnitError> {
    InstalledUnit::parse(&r, today())
}

#[test]
fn a_serialised_unit_is_one_unit_sold_on_its_date() {
    let u = parse(raw(" WM-800 ", "B1", "A1", "", "2026-01-01")).expect("unit");
    assert_eq!(
        (u.quantity, u.in_service_on, u.date_kind, u.key()),
        (1, Some(date(2026, 1, 1)), DateKind::Sold, "S:A1".to_owned())
    );
    assert_eq!(u.product_model, "WM-800");
}

#[test]
fn a_lot_without_serial_needs_a_quantity_and_is_keyed_by_model_batch_and_date() {
    let lot = parse(RawUnit {
        date_kind: "shipped".into(),
        ..raw("WM-800", "B2", "", "10", "2026-03-01")
    })
    .expect("lot");
    assert_eq!(lot.key(), "L:WM-800|B2|2026-03-01|shipped");
    assert_eq!(
        parse(raw("WM-800", "B2", "", "", "")),
        Err(UnitError::NoSerialNoQuantity)
    );
}

#[test]
fn each_bad_field_is_refused_by_name() {
    let cases = [
        (
            raw("", "", "A1", "", ""),
            "product_model: must not be empty",
        ),
        (
            raw("WM", "", "A1", "2", ""),
            "quantity: a serialised unit is one unit (leave it empty or 1)",
        ),
        (
            raw("WM", "", "", "0", ""),
            "quantity: must be a whole number from 1 to 10000000, got \"0\"",
        ),
        (
            raw("WM", "", "A1", "", "2026-02-30"),
            "date: must be YYYY-MM-DD, got \"2026-02-30\"",
        ),
        (
            raw("WM", "", "A1", "", "2026-04-01"),
            "date: 2026-04-01 is after today (2026-03-31)",
        ),
        (
            RawUnit {
                date_kind: "made".into(),
                ..raw("WM", "", "A1", "", "")
            },
            "date_kind: must be sold or shipped, got \"made\"",
        ),
    ];
    for (r, message) in cases {
        assert_eq!(parse(r).map_err(|e| e.to_string()), Err(message.to_owned()));
    }
}

#[test]
fn a_batch_with_any_bad_unit_gives_every_error_and_no_unit() {
    let lines = vec![
        ("line 2".to_owned(), raw("WM", "", "A1", "", "")),
        ("line 3".to_owned(), raw("", "", "A2", "", "")),
        ("line 4".to_owned(), raw("WM", "", "A1", "", "")),
    ];
    assert_eq!(
        parse_all(&lines, today()),
        Err(vec![
            (
                "line 3".to_owned(),
                UnitError::Empty {
                    field: "product_model"
                }
            ),
            (
                "line 4".to_owned(),
                UnitError::Duplicate {
                    serial: "A1".into(),
                    first: "line 2".into()
                }
            ),
        ])
    );
}

#[test]
fn an_import_file_is_read_by_header_name_with_line_numbers() {
    let text =
        "serial,product_model,quantity,date\nA1,WM-800,,2026-01-01\n\n,WM-800,10,2026-03-01\n";
    let got = read_csv(text).expect("read");
    assert_eq!(
        got,
        vec![
            (
                "line 2".to_owned(),
                raw("WM-800", "", "A1", "", "2026-01-01")
            ),
            (
                "line 4".to_owned(),
                raw("WM-800", "", "", "10", "2026-03-01")
            ),
        ]
    );
    assert_eq!(
        read_csv("model,serial\nWM,A1\n"),
        Err(CsvError::Header(CSV_COLUMNS.join(",")))
    );
    assert_eq!(read_csv("product_model\n"), Err(CsvError::NoUnit));
}

fn ticket_unit(serial: &str, model: &str, batch: &str, on: Option<NaiveDate>) -> Unit {
    Unit {
        ticket_id: format!("t-{serial}"),
        product_model: model.into(),
        serial: serial.into(),
        batch: Some(batch.into()),
        in_service_on: on,
        received_on: date(2026, 3, 1),
    }
}

pub(super) fn failure(serial: &str, model: &str, on: NaiveDate) -> FailureRecord {
    FailureRecord {
        ticket_id: format!("t-{serial}"),
        record_no: 1,
        signal: Signal::Diagnosis,
        occurred_at: Utc.from_utc_datetime(&on.and_hms_opt(2, 0, 0).expect("time")),
        failed_on: on,
        product_model: model.into(),
        serial: serial.into(),
        batch: None,
        failure_mode: "MOTOR-OPEN".into(),
        symptom: "x".into(),
        failed_parts: vec![],
        root_cause: Some("manufacturing".into()),
        responsible_department: None,
        operating_days: None,
        no_fault_found: false,
        misuse: false,
        cycle: 1,
    }
}

fn fixture() -> Population {
    let base: Vec<InstalledUnit> = [
        raw("WM-800", "B1", "A1", "", "2026-01-01"),
        raw("WM-800", "B1", "A2", "", ""),
        raw("WM-800", "B2", "", "10", "2026-03-01"),
        raw("WM-900", "C1", "A3", "", ""),
    ]
    .into_iter()
    .map(|r| parse(r).expect("unit"))
    .collect();
    let tickets = [
        ticket_unit("A1", "WM-800", "B1", Some(date(2025, 12, 1))),
        ticket_unit("A2", "WM-800", "B1", Some(date(2026, 1, 31))),
        ticket_unit("T9", "WM-800", "B2", Some(date(2026, 2, 1))),
        ticket_unit("T8", "WM-900", "C2", Some(date(2026, 2, 28))),
    ];
    Population::new(&base, &tickets)
}

#[test]
fn the_population_is_the_installed_base_plus_units_known_only_from_tickets() {
    let pop = fixture();
    let of = |s: &str| {
        pop.of(s)
            .map(|m| (m.quantity, m.in_service_on, m.from_tickets))
    };
    assert_eq!(of("A1"), Some((1, Some(date(2026, 1, 1)), false)));
    assert_eq!(of("A2"), Some((1, Some(date(2026, 1, 31)), false)));
    assert_eq!(of("T9"), Some((10, Some(date(2026, 3, 1)), false)));
    assert_eq!(of("T8"), Some((1, Some(date(2026, 2, 28)), true)));
    assert_eq!(of("A3"), Some((1, None, false)));
    assert_eq!(pop.members.len(), 5);
}

#[test]
fn mtbf_counts_every_unit_of_the_installed_base_not_only_those_that_failed() {
    let failures = [
        failure("A1", "WM-800", date(2026, 2, 1)),
        failure("A2", "WM-800", date(2026, 3, 1)),
        failure("T9", "WM-800", date(2026, 3, 15)),
        failure("T8", "WM-900", date(2026, 3, 20)),
        failure("A3", "WM-900", date(2026, 3, 25)),
    ];
    let got: Vec<_> = reliability(&failures, &fixture(), today(), GroupBy::Model)
        .into_iter()
        .map(|r| {
            (
                r.product_model,
                r.units,
                r.unit_days,
                r.failures,
                r.mtbf_days,
                r.failures_per_1000_unit_days,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("WM-800".into(), 12, 448, 3, "149.3".into(), "6.696".into()),
            ("WM-900".into(), 1, 31, 1, "31.0".into(), "32.258".into()),
        ]
    );
}
