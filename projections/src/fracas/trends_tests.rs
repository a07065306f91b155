//! Trends, worked by hand. As-of date 2026-03-11, by month.
//!
//! Population: A1 WM-800 B1 (serial) in service 2026-01-16; a lot of 2
//! WM-800 B1 from 2026-02-01; T1 WM-800 B2 known only from a ticket, from
//! 2026-02-15. L1 is a WM-800 B1 serial seen in a ticket only: one of the lot.
//! Relevant failures: A1 01-20 MOTOR-OPEN, L1 02-10 MOTOR-OPEN, A1 03-05
//! MOTOR-OPEN, T1 03-01 DOOR-LEAK.
//!
//! B1 Jan: A1 01-16..01-31 = 16 days, 1 unit, 1 failure → 62.500 per 1,000.
//! B1 Feb: A1 28 + lot 2 × 28 = 84 days, 3 units, 1 failure → 11.905.
//! B1 Mar: (03-01..03-10) 10 × 3 = 30 days, 3 units, 1 failure → 33.333.
//! (A1: 16 + 28 + 10 = 54 = 2026-03-11 − 2026-01-16, its MTBF unit-days.)
//! B2 Feb: T1 02-15..02-28 = 14 days, no failure → 0.000.
//! B2 Mar: 10 days, 1 failure → 100.000.
//! Mode Pareto, March: DOOR-LEAK 1 (50.0, 50.0), MOTOR-OPEN 1 (50.0, 100.0);
//! by quarter, 2026-Q1: MOTOR-OPEN 3 (75.0, 75.0), DOOR-LEAK 1 (25.0, 100.0).

use chrono::NaiveDate;

use super::counts::{of_records, Key};
use super::installed::{DateKind, InstalledUnit, Population};
use super::installed_tests::failure;
use super::records::{FailureRecord, Unit};
use super::trends::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn unit(serial: Option<&str>, quantity: u64, on: NaiveDate) -> InstalledUnit {
    InstalledUnit {
        product_model: "WM-800".into(),
        batch: "B1".into(),
        serial: serial.map(str::to_owned),
        quantity,
        in_service_on: Some(on),
        date_kind: DateKind::Sold,
    }
}

fn ticket(serial: &str, batch: &str, on: NaiveDate) -> Unit {
    Unit {
        ticket_id: format!("t-{serial}"),
        product_model: "WM-800".into(),
        serial: serial.into(),
        batch: Some(batch.into()),
        in_service_on: Some(on),
        received_on: on,
    }
}

fn population() -> Population {
    Population::new(
        &[
            unit(Some("A1"), 1, date(2026, 1, 16)),
            unit(None, 2, date(2026, 2, 1)),
        ],
        &[
            ticket("L1", "B1", date(2026, 2, 1)),
            ticket("T1", "B2", date(2026, 2, 15)),
        ],
    )
}

fn failures() -> Vec<FailureRecord> {
    [
        ("A1", date(2026, 1, 20), "MOTOR-OPEN"),
        ("L1", date(2026, 2, 10), "MOTOR-OPEN"),
        ("A1", date(2026, 3, 5), "MOTOR-OPEN"),
        ("T1", date(2026, 3, 1), "DOOR-LEAK"),
    ]
    .into_iter()
    .map(|(s, on, mode)| {
        let mut f = failure(s, "WM-800", on);
        f.failure_mode = mode.into();
        f
    })
    .collect()
}

#[test]
fn periods_are_calendar_months_or_quarters() {
    let d = date(2026, 8, 17);
    assert_eq!(Period::Month.start(d), date(2026, 8, 1));
    assert_eq!(Period::Quarter.start(d), date(2026, 7, 1));
    assert_eq!(Period::Quarter.next(date(2026, 10, 1)), date(2027, 1, 1));
    assert_eq!(
        (Period::Month.label(d), Period::Quarter.label(d)),
        ("2026-08".to_owned(), "2026-Q3".to_owned())
    );
}

#[test]
fn the_failure_rate_per_batch_and_month_shares_out_each_units_days() {
    let got: Vec<_> = rate_trend(
        &failures(),
        &population(),
        date(2026, 3, 11),
        None,
        None,
        Period::Month,
    )
    .into_iter()
    .map(|r| {
        (
            r.batch,
            r.period,
            r.units,
            r.unit_days,
            r.failures,
            r.failures_per_1000_unit_days,
        )
    })
    .collect();
    let row = |b: &str, p: &str, u, d, f, r: &str| (b.into(), p.into(), u, d, f, r.into());
    assert_eq!(
        got,
        vec![
            row("B1", "2026-01", 1, 16, 1, "62.500"),
            row("B1", "2026-02", 3, 84, 1, "11.905"),
            row("B1", "2026-03", 3, 30, 1, "33.333"),
            row("B2", "2026-02", 1, 14, 0, "0.000"),
            row("B2", "2026-03", 1, 10, 1, "100.000"),
        ]
    );
}

#[test]
fn the_mode_pareto_is_counted_per_period_and_model() {
    let rows = |period| -> Vec<(String, String, u64, String, String)> {
        pareto_by_period(&of_records(&failures(), Key::FailureMode), period)
            .into_iter()
            .map(|p| {
                (
                    p.period,
                    p.row.key,
                    p.row.count,
                    p.row.percent,
                    p.row.cumulative_percent,
                )
            })
            .collect()
    };
    let r = |p: &str, k: &str, n, a: &str, c: &str| (p.into(), k.into(), n, a.into(), c.into());
    assert_eq!(
        rows(Period::Month)[2..],
        [
            r("2026-03", "DOOR-LEAK", 1, "50.0", "50.0"),
            r("2026-03", "MOTOR-OPEN", 1, "50.0", "100.0"),
        ]
    );
    assert_eq!(
        rows(Period::Quarter),
        vec![
            r("2026-Q1", "MOTOR-OPEN", 3, "75.0", "75.0"),
            r("2026-Q1", "DOOR-LEAK", 1, "25.0", "100.0"),
        ]
    );
}
