//! Exposure (pure): the units in service per model, batch and in-service
//! day, and the relevant failures attributed to them, which is all the
//! MTBF and failure-rate figures need ([`super::analysis::reliability_of`],
//! [`super::trends::rate_trend_of`]).
//!
//! FRACAS keeps it as roll-ups ([`super::population`]), so those reports
//! sum cells instead of merging every unit and failure. [`of_population`]
//! computes the same cells from a [`Population`] and failure records; the
//! property tests check both give the same cells.
//!
//! Who a failure belongs to is [`Population::new`]'s rule, restated per
//! serial in [`member`].

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::installed::Population;
use super::records::{FailureRecord, Unit};

/// Units of one model and batch that entered service on one day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnitCell {
    pub product_model: String,
    /// "" when no batch is recorded.
    pub batch: String,
    pub in_service_on: NaiveDate,
    pub units: u64,
}

/// Relevant failures of units of one model and batch, on one day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FailureCell {
    pub product_model: String,
    pub batch: String,
    pub failed_on: NaiveDate,
    /// The unit's in-service date when it is after the failure (a failure
    /// before the recorded start), else `None`. MTBF counts a failure only
    /// when its unit is in service on the as-of date: always, when the
    /// start is not after the failure.
    pub late_start: Option<NaiveDate>,
    pub failures: u64,
}

/// Every dated unit and the relevant failures of dated units. Units and
/// failures without an in-service date are in no figure, so not here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exposure {
    pub units: Vec<UnitCell>,
    pub failures: Vec<FailureCell>,
}

impl Exposure {
    /// Sums equal cells and sorts them, so equal exposures compare equal.
    pub fn normalised(self) -> Self {
        let mut units: BTreeMap<(String, String, NaiveDate), u64> = BTreeMap::new();
        for u in self.units {
            *units
                .entry((u.product_model, u.batch, u.in_service_on))
                .or_default() += u.units;
        }
        let mut failures: BTreeMap<_, u64> = BTreeMap::new();
        for f in self.failures {
            *failures
                .entry((f.product_model, f.batch, f.failed_on, f.late_start))
                .or_default() += f.failures;
        }
        Exposure {
            units: units
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|((product_model, batch, in_service_on), units)| UnitCell {
                    product_model,
                    batch,
                    in_service_on,
                    units,
                })
                .collect(),
            failures: failures
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(
                    |((product_model, batch, failed_on, late_start), failures)| FailureCell {
                        product_model,
                        batch,
                        failed_on,
                        late_start,
                        failures,
                    },
                )
                .collect(),
        }
    }
}

/// The failure's late start: the unit's start when it is after the
/// failure.
pub fn late_start(in_service_on: NaiveDate, failed_on: NaiveDate) -> Option<NaiveDate> {
    (in_service_on > failed_on).then_some(in_service_on)
}

/// The exposure of `pop` and the relevant ones of `failures`.
pub fn of_population(pop: &Population, failures: &[FailureRecord]) -> Exposure {
    let units = pop
        .members
        .iter()
        .filter_map(|m| {
            Some(UnitCell {
                product_model: m.product_model.clone(),
                batch: m.batch.clone(),
                in_service_on: m.in_service_on?,
                units: m.quantity,
            })
        })
        .collect();
    let failures = failures
        .iter()
        .filter(|f| f.relevant())
        .filter_map(|f| {
            let m = pop.of(&f.serial)?;
            let start = m.in_service_on?;
            Some(FailureCell {
                product_model: m.product_model.clone(),
                batch: m.batch.clone(),
                failed_on: f.failed_on,
                late_start: late_start(start, f.failed_on),
                failures: 1,
            })
        })
        .collect();
    Exposure { units, failures }.normalised()
}

/// A serial registered in the installed base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub product_model: String,
    pub batch: String,
    pub in_service_on: Option<NaiveDate>,
}

/// The member a serial belongs to, per [`Population::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub product_model: String,
    pub batch: String,
    pub in_service_on: Option<NaiveDate>,
    /// The serial is a unit of its own whose date its tickets give, so
    /// the unit is counted with the serial (a registered, dated unit and a
    /// lot are counted with the installed base).
    pub counted_here: bool,
}

/// Whom a serial's failures belong to: its registration, else the earliest
/// lot of its first ticket's model and batch (`lot` gives that lot's date,
/// `Some(None)` for a lot without one), else itself with the model and
/// batch of its first ticket and the earliest date its tickets give.
/// `None`: neither registered nor seen in a ticket.
pub fn member(
    registered: Option<&Registered>,
    lot: impl Fn(&str, &str) -> Option<Option<NaiveDate>>,
    tickets: &[Unit],
) -> Option<Member> {
    let dated = tickets.iter().filter_map(|t| t.in_service_on).min();
    if let Some(r) = registered {
        return Some(Member {
            product_model: r.product_model.clone(),
            batch: r.batch.clone(),
            in_service_on: r.in_service_on.or(dated),
            counted_here: r.in_service_on.is_none(),
        });
    }
    let first = tickets
        .iter()
        .min_by(|a, b| (a.received_on, &a.ticket_id).cmp(&(b.received_on, &b.ticket_id)))?;
    let batch = first.batch.clone().unwrap_or_default();
    Some(match lot(&first.product_model, &batch) {
        Some(lot_date) => Member {
            product_model: first.product_model.clone(),
            batch,
            in_service_on: lot_date,
            counted_here: false,
        },
        None => Member {
            product_model: first.product_model.clone(),
            batch,
            in_service_on: dated,
            counted_here: true,
        },
    })
}

/// The earliest lot's date among `lots` (a lot without a date first), per
/// model and batch.
pub fn earliest_lots(
    lots: impl IntoIterator<Item = (String, String, Option<NaiveDate>)>,
) -> BTreeMap<(String, String), Option<NaiveDate>> {
    let mut out: BTreeMap<(String, String), Option<NaiveDate>> = BTreeMap::new();
    for (model, batch, on) in lots {
        let e = out.entry((model, batch)).or_insert(on);
        *e = (*e).min(on);
    }
    out
}
