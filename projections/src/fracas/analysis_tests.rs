//! One fixture of failures over two models, three batches and six serials,
//! every figure worked out by hand in the comments. As-of date 2026-03-31.
//!
//! Units (serial, model, batch, in service → days to 2026-03-31):
//! S1 WM-800 B1 2026-01-01 → 31 + 28 + 30 = 89
//! S2 WM-800 B1 2026-01-31 → 28 + 31      = 59
//! S3 WM-800 B2 2026-03-01 → 30
//! S4 WM-900 C1 2025-12-31 → 1 + 31 + 28 + 30 = 90
//! S5 WM-900 C1 no in-service date → not in the population
//! S6 WM-800 B2 2026-04-10 → in service after the as-of date: not counted
//!
//! Records (relevant = a diagnosis, neither NFF nor misuse):
//! t1 S1 MOTOR-OPEN [MTR-100]       2026-02-01 relevant
//! t2 S1 MOTOR-OPEN [MTR-100]       2026-03-01 relevant
//! t2 S1 MOTOR-OPEN QC failed       2026-03-02 signal only
//! t3 S2 DOOR-LEAK  [GSK-20, CLP-5] 2026-02-10 relevant
//! t4 S3 NO-FAULT   []              2026-03-10 no fault found
//! t5 S4 MOTOR-OPEN [MTR-200]       2026-01-15 relevant
//! t6 S4 MOTOR-OPEN [MTR-200]       2026-03-20 relevant
//! t7 S4 PUMP-BLOCK [PMP-1]         2026-02-20 misuse
//! t8 S5 PUMP-BLOCK [PMP-1]         2026-03-05 relevant (undated unit)

use chrono::{NaiveDate, TimeZone, Utc};

use super::analysis::*;
use super::installed::Population;
use super::records::{FailureRecord, Signal, Unit};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn as_of() -> NaiveDate {
    date(2026, 3, 31)
}

fn unit(serial: &str, model: &str, batch: &str, in_service: Option<NaiveDate>) -> Unit {
    Unit {
        ticket_id: format!("u-{serial}"),
        product_model: model.into(),
        serial: serial.into(),
        batch: Some(batch.into()),
        in_service_on: in_service,
        received_on: date(2026, 1, 1),
    }
}

fn units() -> Vec<Unit> {
    vec![
        unit("S1", "WM-800", "B1", Some(date(2026, 1, 1))),
        unit("S2", "WM-800", "B1", Some(date(2026, 1, 31))),
        unit("S3", "WM-800", "B2", Some(date(2026, 3, 1))),
        unit("S4", "WM-900", "C1", Some(date(2025, 12, 31))),
        unit("S5", "WM-900", "C1", None),
        unit("S6", "WM-800", "B2", Some(date(2026, 4, 10))),
    ]
}

fn model_of(serial: &str) -> &'static str {
    if matches!(serial, "S4" | "S5") {
        "WM-900"
    } else {
        "WM-800"
    }
}

fn failure(ticket: &str, serial: &str, mode: &str, parts: &[&str], on: NaiveDate) -> FailureRecord {
    FailureRecord {
        ticket_id: ticket.into(),
        record_no: 1,
        signal: Signal::Diagnosis,
        occurred_at: Utc.from_utc_datetime(&on.and_hms_opt(2, 0, 0).expect("time")),
        failed_on: on,
        product_model: model_of(serial).into(),
        serial: serial.into(),
        batch: None,
        failure_mode: mode.into(),
        symptom: "x".into(),
        failed_parts: parts.iter().map(|p| (*p).to_owned()).collect(),
        root_cause: Some("manufacturing".into()),
        responsible_department: Some("production".into()),
        operating_days: None,
        no_fault_found: false,
        misuse: false,
        cycle: 1,
    }
}

fn failures() -> Vec<FailureRecord> {
    let mut qc = failure("t2", "S1", "MOTOR-OPEN", &["MTR-100"], date(2026, 3, 2));
    qc.signal = Signal::QcFailed;
    qc.record_no = 2;
    let mut nff = failure("t4", "S3", "NO-FAULT", &[], date(2026, 3, 10));
    nff.no_fault_found = true;
    let mut misuse = failure("t7", "S4", "PUMP-BLOCK", &["PMP-1"], date(2026, 2, 20));
    misuse.misuse = true;
    vec![
        failure("t1", "S1", "MOTOR-OPEN", &["MTR-100"], date(2026, 2, 1)),
        failure("t2", "S1", "MOTOR-OPEN", &["MTR-100"], date(2026, 3, 1)),
        qc,
        failure(
            "t3",
            "S2",
            "DOOR-LEAK",
            &["GSK-20", "CLP-5"],
            date(2026, 2, 10),
        ),
        nff,
        failure("t5", "S4", "MOTOR-OPEN", &["MTR-200"], date(2026, 1, 15)),
        failure("t6", "S4", "MOTOR-OPEN", &["MTR-200"], date(2026, 3, 20)),
        misuse,
        failure("t8", "S5", "PUMP-BLOCK", &["PMP-1"], date(2026, 3, 5)),
    ]
}

fn rows(p: Vec<ParetoRow>) -> Vec<(String, u64, String, String)> {
    p.into_iter()
        .map(|r| (r.key, r.count, r.percent, r.cumulative_percent))
        .collect()
}

fn row(k: &str, n: u64, p: &str, c: &str) -> (String, u64, String, String) {
    (k.into(), n, p.into(), c.into())
}

#[test]
fn the_mode_pareto_counts_relevant_failures_largest_first() {
    // Relevant: t1 t2 t5 t6 MOTOR-OPEN (4), t3 DOOR-LEAK (1), t8 PUMP-BLOCK
    // (1); total 6. 4/6 = 66.67% → 66.7; 1/6 = 16.67% → 16.7;
    // cumulative 5/6 = 83.33% → 83.3, then 100.0. Ties by name.
    assert_eq!(
        rows(mode_pareto(&failures())),
        vec![
            row("MOTOR-OPEN", 4, "66.7", "66.7"),
            row("DOOR-LEAK", 1, "16.7", "83.3"),
            row("PUMP-BLOCK", 1, "16.7", "100.0"),
        ]
    );
}

#[test]
fn the_part_pareto_counts_each_part_a_relevant_failure_names() {
    // MTR-100 ×2 (t1 t2), MTR-200 ×2 (t5 t6), CLP-5, GSK-20 (t3), PMP-1
    // (t8); total 7. 2/7 = 28.57 → 28.6, cum 4/7 = 57.14 → 57.1;
    // 1/7 = 14.29 → 14.3, cum 5/7 = 71.43 → 71.4, 6/7 = 85.71 → 85.7, 100.0.
    assert_eq!(
        rows(part_pareto(&failures())),
        vec![
            row("MTR-100", 2, "28.6", "28.6"),
            row("MTR-200", 2, "28.6", "57.1"),
            row("CLP-5", 1, "14.3", "71.4"),
            row("GSK-20", 1, "14.3", "85.7"),
            row("PMP-1", 1, "14.3", "100.0"),
        ]
    );
}

#[test]
fn repeat_failures_are_the_same_serial_and_mode_within_the_limit() {
    // S1 MOTOR-OPEN 02-01 → 03-01: 28 days. S4 MOTOR-OPEN 01-15 → 03-20:
    // 16 + 28 + 20 = 64 days. The QC signal and the misuse do not count.
    let found: Vec<_> = repeats(&failures(), 90)
        .into_iter()
        .map(|r| {
            (
                r.serial,
                r.failure_mode,
                r.first_ticket,
                r.repeat_ticket,
                r.days_between,
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "S1".into(),
                "MOTOR-OPEN".into(),
                "t1".into(),
                "t2".into(),
                28
            ),
            (
                "S4".into(),
                "MOTOR-OPEN".into(),
                "t5".into(),
                "t6".into(),
                64
            ),
        ]
    );
    // Within 30 days only the 28-day pair is a repeat.
    assert_eq!(repeats(&failures(), 30).len(), 1);
}

#[test]
fn mtbf_per_model_counts_the_operating_time_of_units_that_did_not_fail() {
    // WM-800: S1 89 + S2 59 + S3 30 = 178 unit-days, 3 failures (t1 t2 t3);
    //   MTBF 178 / 3 = 59.33 → 59.3; rate 3 / 178 × 1000 = 16.8539 → 16.854.
    // WM-900: S4 90 unit-days (S5 undated), 2 failures (t5 t6; t8 is S5's);
    //   MTBF 90 / 2 = 45.0; rate 2 / 90 × 1000 = 22.2222 → 22.222.
    let got: Vec<_> = reliability(
        &failures(),
        &Population::new(&[], &units()),
        as_of(),
        GroupBy::Model,
    )
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
            ("WM-800".into(), 3, 178, 3, "59.3".into(), "16.854".into()),
            ("WM-900".into(), 1, 90, 2, "45.0".into(), "22.222".into()),
        ]
    );
}

#[test]
fn failure_rate_per_batch_splits_the_same_population() {
    // B1: S1 89 + S2 59 = 148, 3 failures: MTBF 49.33 → 49.3;
    //     rate 3 / 148 × 1000 = 20.2703 → 20.270.
    // B2: S3 30, no relevant failure (t4 is NFF): no MTBF, rate 0.000.
    // C1: S4 90, 2 failures: 45.0, 22.222.
    let got: Vec<_> = reliability(
        &failures(),
        &Population::new(&[], &units()),
        as_of(),
        GroupBy::Batch,
    )
    .into_iter()
    .map(|r| {
        (
            r.batch,
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
            ("B1".into(), 2, 148, 3, "49.3".into(), "20.270".into()),
            ("B2".into(), 1, 30, 0, String::new(), "0.000".into()),
            ("C1".into(), 1, 90, 2, "45.0".into(), "22.222".into()),
        ]
    );
}

#[test]
fn the_nff_rate_is_no_fault_found_diagnoses_over_all_diagnoses() {
    // WM-800: t1 t2 t3 t4 = 4 diagnoses, 1 NFF → 25.0%.
    // WM-900: t5 t6 t7 t8 = 4 diagnoses (misuse included), 0 NFF → 0.0%.
    // All: 1 / 8 = 12.5%. The QC signal is not a diagnosis.
    let got: Vec<_> = nff_rate(&failures())
        .into_iter()
        .map(|r| (r.product_model, r.diagnoses, r.no_fault_found, r.percent))
        .collect();
    assert_eq!(
        got,
        vec![
            ("WM-800".into(), 4, 1, "25.0".into()),
            ("WM-900".into(), 4, 0, "0.0".into()),
            ("(all)".into(), 8, 1, "12.5".into()),
        ]
    );
}

#[test]
fn percentages_round_half_up_to_one_decimal() {
    assert_eq!(percent(1, 8), "12.5");
    assert_eq!(percent(2, 3), "66.7");
    assert_eq!(percent(1, 3), "33.3");
    assert_eq!(percent(0, 0), "");
}
