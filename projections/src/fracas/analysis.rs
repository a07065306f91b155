//! The reliability figures (pure), computed from failure records and units
//! as the store returns them. The method is written down in docs/FRACAS.md;
//! `analysis_tests.rs` works a fixture out by hand.
//!
//! Percentages are exact integer tenths (rounded half up) so a figure
//! never depends on floating point.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::counts::{of_records, Count, Key};
use super::exposure::{self, Exposure};
use super::installed::Population;
use super::records::FailureRecord;

/// `part / whole` as a percentage with one decimal, rounded half up.
pub fn percent(part: u64, whole: u64) -> String {
    (part * 1_000 + whole / 2)
        .checked_div(whole)
        .map(|tenths| format!("{}.{}", tenths / 10, tenths % 10))
        .unwrap_or_default()
}

/// One bar of a Pareto chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParetoRow {
    pub key: String,
    pub count: u64,
    /// Share of all counted, "12.5".
    pub percent: String,
    /// Share of this bar and every bar before it.
    pub cumulative_percent: String,
}

/// Counts `keys`, largest first (ties by key), with cumulative shares.
pub fn pareto(keys: impl IntoIterator<Item = String>) -> Vec<ParetoRow> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for k in keys {
        *counts.entry(k).or_default() += 1;
    }
    pareto_counts(counts)
}

/// The bars of `counts` (a key counted 0 times has none), largest first
/// (ties by key), with cumulative shares.
pub fn pareto_counts(counts: BTreeMap<String, u64>) -> Vec<ParetoRow> {
    let total: u64 = counts.values().sum();
    let mut rows: Vec<(String, u64)> = counts.into_iter().filter(|c| c.1 > 0).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut running = 0;
    rows.into_iter()
        .map(|(key, count)| {
            running += count;
            ParetoRow {
                key,
                count,
                percent: percent(count, total),
                cumulative_percent: percent(running, total),
            }
        })
        .collect()
}

/// The Pareto of relevant failures over the keys of `counts`.
pub fn pareto_of(counts: &[Count]) -> Vec<ParetoRow> {
    let mut per: BTreeMap<String, u64> = BTreeMap::new();
    for c in counts {
        *per.entry(c.key.clone()).or_default() += c.relevant;
    }
    pareto_counts(per)
}

/// Pareto of failure modes over relevant failures.
pub fn mode_pareto(failures: &[FailureRecord]) -> Vec<ParetoRow> {
    pareto_of(&of_records(failures, Key::FailureMode))
}

/// Pareto of failed parts over relevant failures: each part named by a
/// failure counts once.
pub fn part_pareto(failures: &[FailureRecord]) -> Vec<ParetoRow> {
    pareto_of(&of_records(failures, Key::PartNumber))
}

/// A relevant failure of a serial that follows an earlier relevant failure
/// of the same mode on the same serial within the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeat {
    pub serial: String,
    pub product_model: String,
    pub failure_mode: String,
    pub first_ticket: String,
    pub first_on: NaiveDate,
    pub repeat_ticket: String,
    pub repeat_on: NaiveDate,
    pub days_between: i64,
}

/// Repeat failures: consecutive relevant failures of the same serial and
/// mode at most `within_days` apart (each pair listed once).
pub fn repeats(failures: &[FailureRecord], within_days: i64) -> Vec<Repeat> {
    let mut by_key: BTreeMap<(&str, &str), Vec<&FailureRecord>> = BTreeMap::new();
    for f in failures.iter().filter(|f| f.relevant()) {
        by_key
            .entry((f.serial.as_str(), f.failure_mode.as_str()))
            .or_default()
            .push(f);
    }
    let mut out = Vec::new();
    for list in by_key.values_mut() {
        list.sort_by(|a, b| {
            (a.occurred_at, &a.ticket_id, a.record_no).cmp(&(
                b.occurred_at,
                &b.ticket_id,
                b.record_no,
            ))
        });
        for pair in list.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let days = (b.failed_on - a.failed_on).num_days();
            if days <= within_days {
                out.push(Repeat {
                    serial: b.serial.clone(),
                    product_model: b.product_model.clone(),
                    failure_mode: b.failure_mode.clone(),
                    first_ticket: a.ticket_id.clone(),
                    first_on: a.failed_on,
                    repeat_ticket: b.ticket_id.clone(),
                    repeat_on: b.failed_on,
                    days_between: days,
                });
            }
        }
    }
    out.sort_by(|a, b| {
        (a.repeat_on, &a.serial, &a.failure_mode).cmp(&(b.repeat_on, &b.serial, &b.failure_mode))
    });
    out
}

/// What MTBF and failure rate are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Model,
    Batch,
}

/// MTBF and failure rate of one model or batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reliability {
    pub product_model: String,
    /// Empty when grouped by model; "" batch is "no batch recorded".
    pub batch: String,
    /// Units (distinct serials) in service on the as-of date.
    pub units: u64,
    /// Operating time of every unit, failed or not, to the as-of date.
    pub unit_days: i64,
    pub failures: u64,
    /// unit_days / failures, one decimal; empty with no failure.
    pub mtbf_days: String,
    /// failures per 1,000 unit-days, three decimals.
    pub failures_per_1000_unit_days: String,
}

/// MTBF and failure rate per model or batch on `as_of`, method of
/// docs/FRACAS.md: the population is the installed base plus the units
/// known only from tickets ([`Population`]); each unit in service on or
/// before `as_of` contributes `as_of - in_service` days whether it failed or
/// not (a repaired unit goes on operating); failures are the relevant
/// failures of those units on or before `as_of`. Units with no date are
/// left out, and so are their failures.
pub fn reliability(
    failures: &[FailureRecord],
    pop: &Population,
    as_of: NaiveDate,
    group: GroupBy,
) -> Vec<Reliability> {
    reliability_of(&exposure::of_population(pop, failures), as_of, group)
}

/// [`reliability`] from the exposure's cells: a unit cell in service on
/// `as_of` adds its units and their days; a failure cell on or before
/// `as_of` whose unit is in service then adds its failures.
pub fn reliability_of(e: &Exposure, as_of: NaiveDate, group: GroupBy) -> Vec<Reliability> {
    let key = |model: &str, batch: &str| match group {
        GroupBy::Model => (model.to_owned(), String::new()),
        GroupBy::Batch => (model.to_owned(), batch.to_owned()),
    };
    let mut groups: BTreeMap<(String, String), (u64, i64, u64)> = BTreeMap::new();
    for u in e.units.iter().filter(|u| u.in_service_on <= as_of) {
        let g = groups.entry(key(&u.product_model, &u.batch)).or_default();
        g.0 += u.units;
        g.1 += (as_of - u.in_service_on).num_days() * i64::try_from(u.units).unwrap_or(i64::MAX);
    }
    for f in e
        .failures
        .iter()
        .filter(|f| f.failed_on <= as_of && f.late_start.is_none_or(|s| s <= as_of))
    {
        groups.entry(key(&f.product_model, &f.batch)).or_default().2 += f.failures;
    }
    groups
        .into_iter()
        .map(|((product_model, batch), (units, unit_days, failures))| {
            let days = u64::try_from(unit_days).unwrap_or(0);
            Reliability {
                product_model,
                batch,
                units,
                unit_days,
                failures,
                mtbf_days: mtbf(days, failures),
                failures_per_1000_unit_days: rate_per_1000(failures, days),
            }
        })
        .collect()
}

/// `days / failures`, one decimal rounded half up; empty with no failure.
pub fn mtbf(days: u64, failures: u64) -> String {
    (days * 10 + failures / 2)
        .checked_div(failures)
        .map(|tenths| format!("{}.{}", tenths / 10, tenths % 10))
        .unwrap_or_default()
}

/// Failures per 1,000 unit-days, three decimals rounded half up; empty with
/// no unit-day.
pub fn rate_per_1000(failures: u64, days: u64) -> String {
    (failures * 1_000_000 + days / 2)
        .checked_div(days)
        .map(|t| format!("{}.{:03}", t / 1000, t % 1000))
        .unwrap_or_default()
}

/// No-fault-found rate of one model (or of all, `product_model` "(all)").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NffRate {
    pub product_model: String,
    pub diagnoses: u64,
    pub no_fault_found: u64,
    pub percent: String,
}

/// NFF diagnoses over all diagnoses, per model and overall (last row).
pub fn nff_rate(failures: &[FailureRecord]) -> Vec<NffRate> {
    nff_of(&of_records(failures, Key::FailureMode))
}

/// The NFF rate from failure-mode counts: per model with a diagnosis, and
/// overall (last row).
pub fn nff_of(counts: &[Count]) -> Vec<NffRate> {
    let mut per: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for c in counts.iter().filter(|c| c.diagnoses > 0) {
        let e = per.entry(c.product_model.as_str()).or_default();
        e.0 += c.diagnoses;
        e.1 += c.no_fault_found;
    }
    let (all_d, all_n) = per
        .values()
        .fold((0, 0), |(d, n), (d2, n2)| (d + d2, n + n2));
    per.into_iter()
        .map(|(m, (d, n))| (m.to_owned(), d, n))
        .chain(std::iter::once(("(all)".to_owned(), all_d, all_n)))
        .map(|(product_model, diagnoses, no_fault_found)| NffRate {
            product_model,
            diagnoses,
            no_fault_found,
            percent: percent(no_fault_found, diagnoses),
        })
        .collect()
}
