//! Life data for the Weibull analysis (pure): per model (or model and
//! batch), each unit of the population contributes its age at its first
//! relevant failure, or, still running on the as-of date, its age then (a
//! suspension). Method: docs/FRACAS.md, "Weibull analysis".

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::analysis::GroupBy;
use super::installed::Population;
use super::records::FailureRecord;
use super::weibull::{self, Bounded, Fit, Observation, PlotPoint, WeibullError};

/// A failure on or before its unit's in-service date is taken at this age
/// (days), so its logarithm exists.
pub const AGE_AT_START: f64 = 0.5;

/// One group's life data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LifeData {
    pub observations: Vec<Observation>,
    /// Units without a date (or in service after the as-of date): left out.
    pub undated: u64,
}

/// The life data per (model, batch) ("" batch when grouped by model).
pub fn life_data(
    failures: &[FailureRecord],
    pop: &Population,
    as_of: NaiveDate,
    group: GroupBy,
) -> BTreeMap<(String, String), LifeData> {
    // First relevant failure on or before as_of of each serial.
    let mut first: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for f in failures
        .iter()
        .filter(|f| f.relevant() && f.failed_on <= as_of)
    {
        let e = first.entry(f.serial.as_str()).or_insert(f.failed_on);
        *e = (*e).min(f.failed_on);
    }
    // Failure dates per member.
    let mut failed: BTreeMap<usize, Vec<NaiveDate>> = BTreeMap::new();
    for (serial, i) in &pop.by_serial {
        if let Some(on) = first.get(serial.as_str()) {
            failed.entry(*i).or_default().push(*on);
        }
    }
    let mut out: BTreeMap<(String, String), LifeData> = BTreeMap::new();
    for (i, m) in pop.members.iter().enumerate() {
        let batch = match group {
            GroupBy::Model => String::new(),
            GroupBy::Batch => m.batch.clone(),
        };
        let data = out.entry((m.product_model.clone(), batch)).or_default();
        let Some(start) = m.in_service_on.filter(|s| *s <= as_of) else {
            data.undated += m.quantity;
            continue;
        };
        let dates = failed.get(&i).map(Vec::as_slice).unwrap_or_default();
        for on in dates
            .iter()
            .take(usize::try_from(m.quantity).unwrap_or(usize::MAX))
        {
            let days = (*on - start).num_days();
            data.observations.push(Observation::failure(if days > 0 {
                days as f64
            } else {
                AGE_AT_START
            }));
        }
        let running = m.quantity.saturating_sub(dates.len() as u64);
        let age = (as_of - start).num_days();
        if running > 0 && age > 0 {
            data.observations
                .push(Observation::suspension(age as f64, running));
        }
    }
    out
}

/// The Weibull analysis of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub product_model: String,
    pub batch: String,
    pub failures: u64,
    pub suspensions: u64,
    pub undated: u64,
    /// The fit, or why there is none.
    pub fit: Result<Fitted, WeibullError>,
    pub plot: Vec<(PlotPoint, Option<f64>)>,
}

/// The figures of a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    pub beta: Bounded,
    pub eta: Bounded,
    pub b10: Bounded,
    pub reliability: Vec<(f64, Bounded)>,
    pub log_likelihood: f64,
}

/// Analyses every group: `z` is the normal quantile of the bounds
/// ([`weibull::z`]), `ages` the ages to give the reliability at.
pub fn analyse(data: BTreeMap<(String, String), LifeData>, z: f64, ages: &[f64]) -> Vec<Analysis> {
    data.into_iter()
        .map(|((product_model, batch), d)| {
            let count = |failed: bool| {
                d.observations
                    .iter()
                    .filter(|o| o.failed == failed)
                    .map(|o| o.count)
                    .sum()
            };
            let fit = weibull::fit(&d.observations);
            let plot = weibull::plot(&d.observations)
                .into_iter()
                .map(|p| (p, fit.as_ref().ok().map(|f| f.unreliability(p.age))))
                .collect();
            Analysis {
                product_model,
                batch,
                failures: count(true),
                suspensions: count(false),
                undated: d.undated,
                fit: fit.map(|f| figures(&f, z, ages)),
                plot,
            }
        })
        .collect()
}

fn figures(f: &Fit, z: f64, ages: &[f64]) -> Fitted {
    Fitted {
        beta: f.beta_bounds(z),
        eta: f.eta_bounds(z),
        b10: f.life(0.1, z),
        reliability: ages.iter().map(|a| (*a, f.reliability(*a, z))).collect(),
        log_likelihood: f.log_likelihood,
    }
}
