//! The exposure ([`super::exposure`]) kept as roll-ups, so MTBF and the
//! failure-rate trend read cells instead of every unit and failure:
//! - [`INSTALLED`]: the installed base's dated units and lots, moved by each
//!   registration ([`super::base::register`]);
//! - [`UNITS`] and [`FAILURES`]: what each serial seen in tickets adds (its
//!   unit, when its date comes from its tickets, and its relevant
//!   failures under its member's model, batch and date).
//!
//! A serial's member depends on all its tickets and on the installed base,
//! so it is not a function of one stream: FRACAS keeps what each serial
//! adds in [`SERIALS`] and [`settle`] recomputes the serials a batch (or a
//! registration) touched, after their rows are written, and moves the
//! cells by the difference.
//!
//! Invariant: every roll-up row is the sum of what each serial (and each
//! installed unit) adds now. Both writers of a serial's inputs, FRACAS's
//! batches and registrations, hold FRACAS's checkpoint lock while they
//! settle, so they never interleave (`population_tests.rs` checks the
//! cells against [`super::exposure::of_population`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::exposure::Registered;
use super::exposure::{earliest_lots, late_start, member, Exposure, FailureCell, Member, UnitCell};
use super::installed::InstalledUnit;
use super::records::Unit;
use super::reports::{common_clause, decode_unit, Filter, UNIT_COLUMNS};
use crate::db::{Pool, Tx, Val};
use crate::engine::Target;
use crate::rollup::{add, Cells};
use crate::rows::{self, tuple, Conflict, Write};

/// What one serial adds, as FRACAS keeps it in [`SERIALS`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    /// (model, batch, in-service day) of its unit, when counted here.
    unit: Option<[String; 3]>,
    /// (model, batch, failure mode, failure day, late start or "") of
    /// each relevant failure.
    failures: Vec<[String; 5]>,
}

/// Kept per serial: serial, contribution (JSON).
pub const SERIALS: &str = "fracas_serials";

/// Units per model, batch and in-service day, of serials dated by their
/// tickets.
pub const UNITS: crate::rollup::Rollup<Contribution> = crate::rollup::Rollup {
    table: "fracas_population_units",
    keys: &["product_model", "batch", "in_service_on"],
    sums: &["units"],
    cells: |c| {
        let mut out = Cells::new();
        if let Some(u) = &c.unit {
            add(&mut out, u.to_vec(), &[1]);
        }
        out
    },
};

/// Relevant failures per member model, batch, failure mode, failure day
/// and late start.
pub const FAILURES: crate::rollup::Rollup<Contribution> = crate::rollup::Rollup {
    table: "fracas_population_failures",
    keys: &[
        "product_model",
        "batch",
        "failure_mode",
        "failed_on",
        "late_start",
    ],
    sums: &["failures"],
    cells: |c| {
        let mut out = Cells::new();
        for f in &c.failures {
            add(&mut out, f.to_vec(), &[1]);
        }
        out
    },
};

/// The installed base's dated units per model, batch and in-service day
/// (reference data: not a FRACAS table, a rebuild leaves it alone).
pub const INSTALLED: crate::rollup::Rollup<InstalledUnit> = crate::rollup::Rollup {
    table: "installed_unit_counts",
    keys: &["product_model", "batch", "in_service_on"],
    sums: &["units"],
    cells: |u| {
        let mut out = Cells::new();
        if let Some(on) = u.in_service_on {
            let units = i64::try_from(u.quantity).unwrap_or(i64::MAX);
            add(
                &mut out,
                vec![u.product_model.clone(), u.batch.clone(), on.to_string()],
                &[units],
            );
        }
        out
    },
};

/// What a serial whose member is `m` and whose relevant failures are
/// `failures` (mode, day) adds.
pub fn contribution(m: Option<&Member>, failures: &[(String, NaiveDate)]) -> Contribution {
    let Some((m, start)) = m.and_then(|m| Some((m, m.in_service_on?))) else {
        return Contribution::default();
    };
    let (model, batch) = (&m.product_model, &m.batch);
    let mut failures: Vec<[String; 5]> = failures
        .iter()
        .map(|(mode, on)| {
            [
                model.clone(),
                batch.clone(),
                mode.clone(),
                on.to_string(),
                late_start(start, *on)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    failures.sort();
    Contribution {
        unit: m
            .counted_here
            .then(|| [model.clone(), batch.clone(), start.to_string()]),
        failures,
    }
}

/// Serials settled per round of queries.
const CHUNK: usize = 1000;

/// Recomputes what each of `serials` adds at `at` from its rows there and
/// the installed base, and moves the roll-ups by the difference.
pub async fn settle(
    tx: &mut Tx,
    at: &Target,
    serials: &BTreeSet<String>,
) -> Result<(), sqlx::Error> {
    let all: Vec<&String> = serials.iter().collect();
    for chunk in all.chunks(CHUNK) {
        settle_chunk(tx, at, chunk).await?;
    }
    Ok(())
}

fn date(raw: Option<&str>, what: &str) -> Result<NaiveDate, sqlx::Error> {
    raw.and_then(|d| d.parse().ok())
        .ok_or_else(|| sqlx::Error::Decode(format!("{what}: not a date").into()))
}

fn opt_date(raw: Option<&str>) -> Option<NaiveDate> {
    raw.and_then(|d| d.parse().ok())
}

/// The inputs of a chunk of serials, read in five queries.
#[derive(Default)]
struct Inputs {
    kept: BTreeMap<String, Contribution>,
    tickets: BTreeMap<String, Vec<Unit>>,
    failures: BTreeMap<String, Vec<(String, NaiveDate)>>,
    registered: BTreeMap<String, Registered>,
    lots: BTreeMap<(String, String), Option<NaiveDate>>,
}

async fn inputs(tx: &mut Tx, at: &Target, serials: &[&String]) -> Result<Inputs, sqlx::Error> {
    let list = tuple(1, serials.len());
    let binds = || serials.iter().map(|s| Val::Text((*s).clone())).collect();
    let mut out = Inputs::default();
    let sql = format!(
        "SELECT serial, contribution FROM {} WHERE serial IN {list}",
        at.table(SERIALS)
    );
    for c in tx.texts(&sql, binds()).await? {
        let raw = c[1].clone().unwrap_or_default();
        let kept = serde_json::from_str(&raw)
            .map_err(|e| sqlx::Error::Decode(format!("{SERIALS}.contribution: {e}").into()))?;
        out.kept.insert(c[0].clone().unwrap_or_default(), kept);
    }
    let sql = format!(
        "SELECT {UNIT_COLUMNS} FROM {} WHERE serial IN {list}",
        at.table("fracas_units")
    );
    for c in tx.texts(&sql, binds()).await? {
        let unit = decode_unit(&c)?;
        out.tickets
            .entry(unit.serial.clone())
            .or_default()
            .push(unit);
    }
    let sql = format!(
        "SELECT serial, failure_mode, failed_on FROM {} WHERE relevant = 1 AND serial IN {list}",
        at.table("fracas_failures")
    );
    for c in tx.texts(&sql, binds()).await? {
        let on = date(c[2].as_deref(), "fracas_failures.failed_on")?;
        out.failures
            .entry(c[0].clone().unwrap_or_default())
            .or_default()
            .push((c[1].clone().unwrap_or_default(), on));
    }
    let sql = format!(
        "SELECT serial, product_model, batch, in_service_on FROM installed_units
          WHERE serial IN {list}"
    );
    for c in tx.texts(&sql, binds()).await? {
        out.registered.insert(
            c[0].clone().unwrap_or_default(),
            Registered {
                product_model: c[1].clone().unwrap_or_default(),
                batch: c[2].clone().unwrap_or_default(),
                in_service_on: opt_date(c[3].as_deref()),
            },
        );
    }
    let models: BTreeSet<String> = out
        .tickets
        .values()
        .flatten()
        .map(|t| t.product_model.clone())
        .collect();
    if !models.is_empty() {
        let sql = format!(
            "SELECT product_model, batch, in_service_on FROM installed_units
              WHERE serial IS NULL AND product_model IN {}",
            tuple(1, models.len())
        );
        let rows = tx
            .texts(&sql, models.into_iter().map(Val::Text).collect())
            .await?;
        out.lots = earliest_lots(rows.into_iter().map(|c| {
            (
                c[0].clone().unwrap_or_default(),
                c[1].clone().unwrap_or_default(),
                opt_date(c[2].as_deref()),
            )
        }));
    }
    Ok(out)
}

async fn settle_chunk(tx: &mut Tx, at: &Target, serials: &[&String]) -> Result<(), sqlx::Error> {
    let mut input = inputs(tx, at, serials).await?;
    let table = at.table(SERIALS);
    let mut writes = Vec::new();
    for serial in serials {
        let lot = |model: &str, batch: &str| {
            input
                .lots
                .get(&(model.to_owned(), batch.to_owned()))
                .copied()
        };
        let tickets = input.tickets.get(*serial).map(Vec::as_slice);
        let m = member(
            input.registered.get(*serial),
            lot,
            tickets.unwrap_or_default(),
        );
        let failed = input.failures.get(*serial).map(Vec::as_slice);
        let now = contribution(m.as_ref(), failed.unwrap_or_default());
        let was = input.kept.remove(*serial).unwrap_or_default();
        if now == was {
            continue;
        }
        for r in [&UNITS, &FAILURES] {
            writes.extend(r.moves_between(at, Some(&was), Some(&now)));
        }
        if now == Contribution::default() {
            writes.push(Write::clear(&table, "serial", serial));
        } else {
            let raw = serde_json::to_string(&now)
                .map_err(|e| sqlx::Error::Decode(format!("{SERIALS}: {e}").into()))?;
            writes.push(
                Write::row(
                    &table,
                    vec![
                        ("serial", Val::Text((*serial).clone())),
                        ("contribution", Val::Text(raw)),
                    ],
                )
                .on_conflict(Conflict::Update {
                    key: "serial",
                    columns: &["contribution"],
                }),
            );
        }
    }
    rows::apply(tx, writes).await
}

/// Whether the roll-ups answer `filter`: they are keyed by the member's
/// model and batch, the failure mode and day; a serial or a part is not
/// among their keys.
pub fn answers(filter: &Filter) -> bool {
    filter.serial.is_none() && filter.part_number.is_none()
}

/// The exposure of the members of the filter's model and batch, with the
/// failures of its mode and dates.
pub async fn read(store: &Pool, filter: &Filter) -> Result<Exposure, sqlx::Error> {
    let groups = Filter {
        product_model: filter.product_model.clone(),
        batch: filter.batch.clone(),
        ..Filter::default()
    };
    let mut vals = Vec::new();
    let clause = common_clause(&groups, &mut vals);
    let sql = format!(
        "SELECT product_model, batch, in_service_on, CAST(SUM(units) AS TEXT) FROM (
            SELECT product_model, batch, in_service_on, units FROM {}
            UNION ALL
            SELECT product_model, batch, in_service_on, units FROM {}) u
          {clause} GROUP BY product_model, batch, in_service_on",
        UNITS.table, INSTALLED.table
    );
    let count = |raw: Option<&str>, what: &str| {
        raw.and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| sqlx::Error::Decode(format!("{what}: not a count").into()))
    };
    let mut units = Vec::new();
    for c in store.texts(&sql, vals).await? {
        units.push(UnitCell {
            product_model: c[0].clone().unwrap_or_default(),
            batch: c[1].clone().unwrap_or_default(),
            in_service_on: date(c[2].as_deref(), "in_service_on")?,
            units: count(c[3].as_deref(), "units")?,
        });
    }
    let mut vals = Vec::new();
    let clause = common_clause(filter, &mut vals);
    let sql = format!(
        "SELECT product_model, batch, failed_on, late_start, CAST(SUM(failures) AS TEXT)
           FROM {} {clause} GROUP BY product_model, batch, failed_on, late_start",
        FAILURES.table
    );
    let mut failures = Vec::new();
    for c in store.texts(&sql, vals).await? {
        failures.push(FailureCell {
            product_model: c[0].clone().unwrap_or_default(),
            batch: c[1].clone().unwrap_or_default(),
            failed_on: date(c[2].as_deref(), "failed_on")?,
            late_start: opt_date(c[3].as_deref()),
            failures: count(c[4].as_deref(), "failures")?,
        });
    }
    Ok(Exposure { units, failures }.normalised())
}
