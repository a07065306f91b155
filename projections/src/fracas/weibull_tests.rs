//! Weibull analysis against a published worked example, and hand-worked
//! fixtures for the ranks and the life data.
//!
//! Source: NIST/SEMATECH e-Handbook of Statistical Methods, §8.4.1.3
//! "Reliability analysis using Weibull data"
//! (https://www.itl.nist.gov/div898/handbook/apr/section4/apr413.htm), the
//! data of §8.2.2.1: 20 units on test, failures at 54, 187, 216, 240, 244,
//! 335, 361, 373, 375 and 386 hours, the 10 others removed unfailed at 500
//! hours. Published maximum-likelihood estimates: η = 606.5280,
//! β = 1.7208, log-likelihood −75.135 (printed as 75.135).
//!
//! The handbook gives no bounds; the Fisher-matrix figures below were
//! worked independently (plain Python, same formulas as docs/FRACAS.md) at
//! 90 % two-sided (z = 1.644854): Var β = 0.252155, Var η = 15602.67,
//! Cov = −28.3136; β ∈ [1.0648, 2.7809]; η ∈ [432.25, 851.07];
//! B10 = η (−ln 0.9)^(1/β) = 164.022; R(100) = exp(−(100/η)^β) = 0.95603.

use chrono::NaiveDate;

use super::analysis::GroupBy;
use super::installed::{DateKind, InstalledUnit, Population};
use super::life::{analyse, life_data};
use super::weibull::*;

fn nist() -> Vec<Observation> {
    let mut data: Vec<Observation> = [54., 187., 216., 240., 244., 335., 361., 373., 375., 386.]
        .into_iter()
        .map(Observation::failure)
        .collect();
    data.push(Observation::suspension(500.0, 10));
    data
}

fn close(got: f64, want: f64, tolerance: f64) -> bool {
    (got - want).abs() <= tolerance
}

#[test]
fn the_nist_example_gives_the_published_beta_eta_and_log_likelihood() {
    let f = fit(&nist()).expect("fit");
    assert!(close(f.beta, 1.7208, 0.0001), "beta {}", f.beta);
    assert!(close(f.eta, 606.5280, 0.01), "eta {}", f.eta);
    assert!(
        close(f.log_likelihood, -75.135, 0.001),
        "ll {}",
        f.log_likelihood
    );
    assert_eq!((f.failures, f.suspensions), (10, 10));
}

#[test]
fn fisher_bounds_b10_and_reliability_of_the_nist_example_match_the_hand_worked_figures() {
    let f = fit(&nist()).expect("fit");
    assert!(close(f.var_beta, 0.252155, 1e-5), "var beta {}", f.var_beta);
    assert!(close(f.var_eta, 15602.67, 0.05), "var eta {}", f.var_eta);
    assert!(close(f.cov, -28.3136, 1e-3), "cov {}", f.cov);
    let z = z(0.9).expect("z");
    assert!(close(z, 1.644854, 1e-6));
    let b = f.beta_bounds(z);
    assert!(
        close(b.lower, 1.0648, 1e-4) && close(b.upper, 2.7809, 1e-4),
        "{b:?}"
    );
    let e = f.eta_bounds(z);
    assert!(
        close(e.lower, 432.25, 0.01) && close(e.upper, 851.07, 0.01),
        "{e:?}"
    );
    let b10 = f.life(0.1, z);
    assert!(close(b10.value, 164.022, 0.01), "{b10:?}");
    assert!(b10.lower < b10.value && b10.value < b10.upper);
    let r = f.reliability(100.0, z);
    assert!(close(r.value, 0.95603, 1e-5), "{r:?}");
    assert!(r.lower < r.value && r.value < r.upper && r.upper < 1.0);
}

#[test]
fn fewer_than_two_failures_or_a_bad_confidence_are_refused() {
    let one = [Observation::failure(10.0), Observation::suspension(50.0, 3)];
    assert_eq!(fit(&one), Err(WeibullError::TooFewFailures(1)));
    let same = [Observation::failure(10.0), Observation::failure(10.0)];
    assert_eq!(fit(&same), Err(WeibullError::TooFewFailures(2)));
    assert_eq!(z(1.0), Err(WeibullError::BadConfidence));
}

#[test]
fn adjusted_ranks_step_over_suspensions_as_johnson_says() {
    // N = 4: F10, S20, F30, F40. Reverse ranks 4, (3), 2, 1.
    // i1 = (4·0 + 5) / 5 = 1; i2 = (2·1 + 5) / 3 = 7/3; i3 = (1·7/3 + 5) / 2 = 11/3.
    // Bernard: (1 − 0.3)/4.4 = 0.159091; (7/3 − 0.3)/4.4 = 0.462121;
    // (11/3 − 0.3)/4.4 = 0.765152.
    let data = [
        Observation::failure(30.0),
        Observation::suspension(20.0, 1),
        Observation::failure(10.0),
        Observation::failure(40.0),
    ];
    let got: Vec<(f64, f64, f64)> = plot(&data)
        .into_iter()
        .map(|p| (p.age, p.adjusted_rank, p.median_rank))
        .collect();
    let want = [
        (10.0, 1.0, 0.159091),
        (30.0, 7.0 / 3.0, 0.462121),
        (40.0, 11.0 / 3.0, 0.765152),
    ];
    assert_eq!(got.len(), 3);
    for (g, w) in got.iter().zip(want) {
        assert!(
            close(g.0, w.0, 0.0) && close(g.1, w.1, 1e-9) && close(g.2, w.2, 1e-6),
            "{g:?}"
        );
    }
}

#[test]
fn with_every_suspension_last_the_ranks_are_the_order_numbers() {
    // NIST data: the suspensions at 500 follow every failure, so i = 1..10
    // and the first median rank is 0.7 / 20.4 = 0.034314.
    let points = plot(&nist());
    let ranks: Vec<f64> = points.iter().map(|p| p.adjusted_rank).collect();
    assert!(ranks
        .iter()
        .zip(1..=10)
        .all(|(r, i)| close(*r, f64::from(i), 1e-9)));
    assert!(close(points[0].median_rank, 0.034314, 1e-6));
    assert!(close(points[0].x, 54f64.ln(), 1e-12));
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

#[test]
fn a_lot_gives_its_first_failures_and_the_rest_as_one_suspension() {
    // Lot of 5 WM-800 shipped 2026-01-01; serials L1, L2 (known from
    // tickets, same model and batch) fail 2026-01-11 and 2026-01-31 (twice:
    // only the first counts). As of 2026-03-02 (60 days): failures at 10 and
    // 30 days, 3 suspensions at 60 days. An undated serialised unit: left out.
    let base = [
        InstalledUnit {
            product_model: "WM-800".into(),
            batch: "B1".into(),
            serial: None,
            quantity: 5,
            in_service_on: Some(date(2026, 1, 1)),
            date_kind: DateKind::Shipped,
        },
        InstalledUnit {
            product_model: "WM-800".into(),
            batch: "B1".into(),
            serial: Some("U9".into()),
            quantity: 1,
            in_service_on: None,
            date_kind: DateKind::Sold,
        },
    ];
    let tickets: Vec<_> = ["L1", "L2"]
        .into_iter()
        .map(|s| super::records::Unit {
            ticket_id: format!("t-{s}"),
            product_model: "WM-800".into(),
            serial: s.into(),
            batch: Some("B1".into()),
            in_service_on: None,
            received_on: date(2026, 1, 11),
        })
        .collect();
    let pop = Population::new(&base, &tickets);
    let failures: Vec<_> = [
        ("L1", date(2026, 1, 11)),
        ("L2", date(2026, 1, 31)),
        ("L2", date(2026, 2, 20)),
    ]
    .into_iter()
    .map(|(s, on)| {
        let mut f = super::installed_tests::failure(s, "WM-800", on);
        f.batch = Some("B1".into());
        f
    })
    .collect();
    let data = life_data(&failures, &pop, date(2026, 3, 2), GroupBy::Batch);
    let d = &data[&("WM-800".to_owned(), "B1".to_owned())];
    assert_eq!(
        d.observations,
        vec![
            Observation::failure(10.0),
            Observation::failure(30.0),
            Observation::suspension(60.0, 3)
        ]
    );
    assert_eq!(d.undated, 1);
    let a = analyse(data, 1.644854, &[20.0]);
    assert_eq!((a[0].failures, a[0].suspensions, a[0].undated), (2, 3, 1));
    assert!(a[0].fit.is_ok());
}
