//! Trends (pure): Paretos per model and period, and the failure rate per
//! model, batch and period, so a reliability engineer can see whether a
//! corrective action bent the curve. Method: docs/FRACAS.md, "Trends";
//! fixture in `trends_tests.rs`.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};

use super::analysis::{pareto_counts, rate_per_1000, ParetoRow};
use super::counts::Count;
use super::exposure::{self, Exposure};
use super::installed::Population;
use super::records::FailureRecord;

/// A calendar period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month,
    Quarter,
}

impl Period {
    fn months(self) -> u32 {
        match self {
            Period::Month => 1,
            Period::Quarter => 3,
        }
    }

    /// The first day of the period holding `d`.
    pub fn start(self, d: NaiveDate) -> NaiveDate {
        let m0 = (d.month0() / self.months()) * self.months();
        NaiveDate::from_ymd_opt(d.year(), m0 + 1, 1).unwrap_or(d)
    }

    /// The first day of the next period.
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        start
            .checked_add_months(Months::new(self.months()))
            .unwrap_or(NaiveDate::MAX)
    }

    /// "2026-03" or "2026-Q1".
    pub fn label(self, d: NaiveDate) -> String {
        match self {
            Period::Month => format!("{}-{:02}", d.year(), d.month()),
            Period::Quarter => format!("{}-Q{}", d.year(), d.month0() / 3 + 1),
        }
    }
}

/// One bar of a Pareto of one model in one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodPareto {
    pub period: String,
    pub product_model: String,
    pub row: ParetoRow,
}

/// A Pareto of relevant failures per period and model, over the keys of
/// `counts` (failure modes, or part numbers).
pub fn pareto_by_period(counts: &[Count], period: Period) -> Vec<PeriodPareto> {
    let mut groups: BTreeMap<(NaiveDate, &str), BTreeMap<String, u64>> = BTreeMap::new();
    for c in counts {
        *groups
            .entry((period.start(c.failed_on), c.product_model.as_str()))
            .or_default()
            .entry(c.key.clone())
            .or_default() += c.relevant;
    }
    groups
        .into_iter()
        .flat_map(|((start, model), counts)| {
            pareto_counts(counts)
                .into_iter()
                .map(move |row| PeriodPareto {
                    period: period.label(start),
                    product_model: model.to_owned(),
                    row,
                })
        })
        .collect()
}

/// The failure rate of one batch in one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateTrend {
    pub product_model: String,
    pub batch: String,
    pub period: String,
    /// Units in service at some time in the period.
    pub units: u64,
    /// Days in service inside the period (up to the as-of date).
    pub unit_days: i64,
    pub failures: u64,
    /// Failures per 1,000 unit-days, three decimals.
    pub failures_per_1000_unit_days: String,
}

/// Period start → (units, unit-days, failures).
type Periods = BTreeMap<NaiveDate, (u64, i64, u64)>;

/// The failure rate per model, batch and period from `from` (or the
/// earliest in-service date) to `to` (at most `as_of`): each dated unit
/// contributes the days of [in service, as_of) that fall in the period and
/// on or after `from`, so without `from` a unit's days over all periods
/// add up to its MTBF unit-days. Failures are the units' relevant failures
/// dated in the period.
pub fn rate_trend(
    failures: &[FailureRecord],
    pop: &Population,
    as_of: NaiveDate,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    period: Period,
) -> Vec<RateTrend> {
    let e = exposure::of_population(pop, failures);
    rate_trend_of(&e, as_of, from, to, period)
}

/// [`rate_trend`] from the exposure's cells.
pub fn rate_trend_of(
    e: &Exposure,
    as_of: NaiveDate,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    period: Period,
) -> Vec<RateTrend> {
    let end = to.map_or(as_of, |t| t.min(as_of));
    let mut out: BTreeMap<(&str, &str), Periods> = BTreeMap::new();
    let earliest = e.units.iter().map(|u| u.in_service_on).min();
    let Some(first) = from.max(earliest) else {
        return Vec::new();
    };
    for u in e.units.iter().filter(|u| u.in_service_on < as_of) {
        let start = u.in_service_on;
        let periods = out
            .entry((u.product_model.as_str(), u.batch.as_str()))
            .or_default();
        let mut p = period.start(first.max(start));
        while p <= end {
            let next = period.next(p);
            let days = (next.min(as_of) - start.max(p).max(first)).num_days();
            if days > 0 {
                let e = periods.entry(p).or_default();
                e.0 += u.units;
                e.1 += days * i64::try_from(u.units).unwrap_or(i64::MAX);
            }
            p = next;
        }
    }
    for f in e
        .failures
        .iter()
        .filter(|f| f.failed_on <= end && f.failed_on >= first)
    {
        out.entry((f.product_model.as_str(), f.batch.as_str()))
            .or_default()
            .entry(period.start(f.failed_on))
            .or_default()
            .2 += f.failures;
    }
    out.into_iter()
        .flat_map(|((model, batch), periods)| {
            periods
                .into_iter()
                .map(move |(p, (units, unit_days, failures))| RateTrend {
                    product_model: model.to_owned(),
                    batch: batch.to_owned(),
                    period: period.label(p),
                    units,
                    unit_days,
                    failures,
                    failures_per_1000_unit_days: rate_per_1000(
                        failures,
                        u64::try_from(unit_days).unwrap_or(0),
                    ),
                })
        })
        .collect()
}
