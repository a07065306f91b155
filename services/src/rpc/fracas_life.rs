//! The installed base and the Weibull analysis of the `Fracas` service
//! (issue #19): parsing the requests and shaping the replies; the figures
//! are `projections::fracas::{installed, life, weibull}`.

use chrono::NaiveDate;
use domain::values::{Problem, ValueError};
use projections::fracas::installed::{parse_all, InstalledUnit, RawUnit};
use projections::fracas::life::{Analysis, Fitted};
use projections::fracas::reports::Filter;
use projections::fracas::trends::Period;
use projections::fracas::weibull::Bounded;
use tonic::Status;

use super::parse as p;
use super::pb;
use super::status::invalid_field;

/// Most units in one RegisterUnits call.
pub const MAX_UNITS: usize = 10_000;
/// Most ages in one AnalyzeWeibull call.
const MAX_AGES: usize = 20;
const DEFAULT_CONFIDENCE: f64 = 0.9;

/// Parses every unit, all or nothing; the first refusal names
/// `units[i].field`.
pub fn units(raw: &[pb::InstalledUnit], today: NaiveDate) -> Result<Vec<InstalledUnit>, Status> {
    if raw.is_empty() || raw.len() > MAX_UNITS {
        return Err(invalid_field("units", "must hold 1 to 10000 units"));
    }
    let labelled: Vec<(String, RawUnit)> = raw
        .iter()
        .enumerate()
        .map(|(i, u)| {
            (
                format!("units[{i}]"),
                RawUnit {
                    product_model: u.product_model.clone(),
                    batch: u.batch.clone(),
                    serial: u.serial.clone(),
                    quantity: match u.quantity {
                        0 => String::new(),
                        q => q.to_string(),
                    },
                    date: u.date.clone(),
                    date_kind: u.date_kind.clone(),
                },
            )
        })
        .collect();
    parse_all(&labelled, today).map_err(|errors| match errors.first() {
        Some((at, e)) => invalid_field(&format!("{at}.{}", e.field()), &e.problem()),
        None => invalid_field("units", "are invalid"),
    })
}

/// The period of the trend reports.
pub fn period(raw: i32) -> Result<Period, ValueError> {
    use pb::TrendPeriod as T;
    match T::try_from(raw) {
        Ok(T::Unspecified | T::Month) => Ok(Period::Month),
        Ok(T::Quarter) => Ok(Period::Quarter),
        Err(_) => Err(Problem::Malformed(format!("has unknown value {raw}")).at("period")),
    }
}

/// What an AnalyzeWeibull call asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct WeibullAsk {
    pub as_of: NaiveDate,
    pub by_batch: bool,
    pub confidence: f64,
    pub z: f64,
    pub ages: Vec<f64>,
}

/// Parses the request's own fields (the filter is parsed by the caller).
pub fn weibull_ask(m: &pb::WeibullRequest, today: NaiveDate) -> Result<WeibullAsk, ValueError> {
    let as_of = p::optional_date("as_of", &m.as_of)?.unwrap_or(today);
    let confidence = if m.confidence == 0.0 {
        DEFAULT_CONFIDENCE
    } else {
        m.confidence
    };
    let z = projections::fracas::weibull::z(confidence)
        .map_err(|_| Problem::Malformed("must be above 0 and below 1".into()).at("confidence"))?;
    if m.ages_days.len() > MAX_AGES {
        return Err(Problem::Malformed("must hold at most 20 ages".into()).at("ages_days"));
    }
    for (i, a) in m.ages_days.iter().enumerate() {
        if !(a.is_finite() && *a > 0.0) {
            return Err(
                Problem::Malformed("must be above 0 days".into()).at(format!("ages_days[{i}]"))
            );
        }
    }
    Ok(WeibullAsk {
        as_of,
        by_batch: m.by_batch,
        confidence,
        z,
        ages: m.ages_days.clone(),
    })
}

/// The failures' filter: the population is selected by model and batch
/// only, so a serial filter would make every other unit a suspension.
pub fn reject_serial(f: &Filter) -> Result<(), ValueError> {
    match f.serial {
        Some(_) => Err(Problem::Malformed(
            "is not allowed here: the analysis is over the population".into(),
        )
        .at("filter.serial_number")),
        None => Ok(()),
    }
}

fn bounds(b: &Bounded) -> Option<pb::Bounds> {
    Some(pb::Bounds {
        value: b.value,
        lower: b.lower,
        upper: b.upper,
    })
}

fn fitted(out: &mut pb::WeibullAnalysis, f: &Fitted) {
    out.beta = bounds(&f.beta);
    out.eta_days = bounds(&f.eta);
    out.b10_days = bounds(&f.b10);
    out.log_likelihood = f.log_likelihood;
    out.reliability = f
        .reliability
        .iter()
        .map(|(age, r)| pb::ReliabilityAtAge {
            age_days: *age,
            reliability: bounds(r),
        })
        .collect();
}

/// One group's analysis as the reply gives it.
pub fn analysis(a: Analysis) -> pb::WeibullAnalysis {
    let mut out = pb::WeibullAnalysis {
        product_model: a.product_model,
        batch: a.batch,
        failures: a.failures,
        suspensions: a.suspensions,
        undated_units: a.undated,
        plot: a
            .plot
            .into_iter()
            .map(|(p, fitted)| pb::ProbabilityPoint {
                age_days: p.age,
                adjusted_rank: p.adjusted_rank,
                median_rank: p.median_rank,
                x: p.x,
                y: p.y,
                fitted_unreliability: fitted.unwrap_or_default(),
            })
            .collect(),
        ..Default::default()
    };
    match &a.fit {
        Ok(f) => fitted(&mut out, f),
        Err(e) => out.no_fit = e.to_string(),
    }
    out
}
