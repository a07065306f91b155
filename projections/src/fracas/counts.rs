//! The failure counts the count reports are computed from (the Paretos,
//! with or without periods, and the NFF rate): per failure day, product
//! model and key (a failure mode, or a part number), how many diagnoses,
//! relevant failures and no-fault-found diagnoses.
//!
//! FRACAS keeps them as roll-ups ([`ROLLUPS`], [`crate::rollup`]) so a
//! report reads one row per cell instead of every failure record.
//! [`read`] reads the roll-ups when they can answer the filter (model,
//! batch, mode and dates are their key columns) and otherwise counts the
//! matching records ([`of_records`]); both give the same counts
//! (`counts_tests.rs` checks it on random records, on both stores).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::records::{FailureRecord, Signal, TicketFailures};
use super::reports::{common_clause, failures, Filter};
use crate::db::Pool;
use crate::rollup::{add, Cells};

/// A roll-up of a ticket's failure records.
pub type Rollup = crate::rollup::Rollup<TicketFailures>;

/// Every roll-up FRACAS keeps.
pub const ROLLUPS: &[Rollup] = &[MODES, PARTS, SERIAL_MODES];

/// Diagnoses, relevant failures and no-fault-found diagnoses per product
/// model, batch ('' when none is recorded), failure mode and failure day:
/// the mode Paretos and the NFF rate.
pub const MODES: Rollup = Rollup {
    table: "fracas_mode_counts",
    keys: &["product_model", "batch", "failure_mode", "failed_on"],
    sums: &["diagnoses", "relevant", "no_fault_found"],
    cells: modes,
};

/// Relevant failures naming a part (each part once per failure) per
/// product model, batch, failure mode, failure day and part number: the
/// part Paretos.
pub const PARTS: Rollup = Rollup {
    table: "fracas_part_counts",
    keys: &[
        "product_model",
        "batch",
        "failure_mode",
        "failed_on",
        "part_number",
    ],
    sums: &["failures"],
    cells: parts,
};

/// Relevant failures per serial and failure mode: the serials and modes
/// that can have a repeat failure (more than one).
pub const SERIAL_MODES: Rollup = Rollup {
    table: "fracas_serial_mode_counts",
    keys: &["serial", "failure_mode"],
    sums: &["relevant"],
    cells: serial_modes,
};

fn serial_modes(t: &TicketFailures) -> Cells {
    let mut out = Cells::new();
    for r in t.records.iter().filter(|r| r.relevant()) {
        add(
            &mut out,
            vec![r.serial.clone(), r.failure_mode.clone()],
            &[1],
        );
    }
    out
}

fn cell(r: &FailureRecord) -> Vec<String> {
    vec![
        r.product_model.clone(),
        r.batch.clone().unwrap_or_default(),
        r.failure_mode.clone(),
        r.failed_on.to_string(),
    ]
}

fn modes(t: &TicketFailures) -> Cells {
    let mut out = Cells::new();
    for r in t.records.iter().filter(|r| r.signal == Signal::Diagnosis) {
        let sums = [1, i64::from(r.relevant()), i64::from(r.no_fault_found)];
        add(&mut out, cell(r), &sums);
    }
    out
}

fn parts(t: &TicketFailures) -> Cells {
    let mut out = Cells::new();
    for r in t.records.iter().filter(|r| r.relevant()) {
        for part in r.failed_parts.iter().collect::<BTreeSet<_>>() {
            let mut key = cell(r);
            key.push(part.clone());
            add(&mut out, key, &[1]);
        }
    }
    out
}

/// What a count is kept per, besides the day and the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    FailureMode,
    PartNumber,
}

/// The counts of one failure day, product model and key.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Count {
    pub failed_on: NaiveDate,
    pub product_model: String,
    pub key: String,
    /// Diagnoses (for part numbers: always 0).
    pub diagnoses: u64,
    /// Relevant failures.
    pub relevant: u64,
    /// No-fault-found diagnoses (for part numbers: always 0).
    pub no_fault_found: u64,
}

type Sums = BTreeMap<(NaiveDate, String, String), [u64; 3]>;

fn counted(sums: Sums) -> Vec<Count> {
    sums.into_iter()
        .map(|((failed_on, product_model, key), [d, r, n])| Count {
            failed_on,
            product_model,
            key,
            diagnoses: d,
            relevant: r,
            no_fault_found: n,
        })
        .collect()
}

/// The counts of `records`, per day, model and `key`, in that order.
pub fn of_records(records: &[FailureRecord], key: Key) -> Vec<Count> {
    let mut sums = Sums::new();
    for r in records.iter().filter(|r| r.signal == Signal::Diagnosis) {
        let at = |k: &str| (r.failed_on, r.product_model.clone(), k.to_owned());
        match key {
            Key::FailureMode => {
                let s = sums.entry(at(&r.failure_mode)).or_default();
                s[0] += 1;
                s[1] += u64::from(r.relevant());
                s[2] += u64::from(r.no_fault_found);
            }
            Key::PartNumber if r.relevant() => {
                for part in r.failed_parts.iter().collect::<BTreeSet<_>>() {
                    sums.entry(at(part)).or_default()[1] += 1;
                }
            }
            Key::PartNumber => {}
        }
    }
    counted(sums)
}

/// Whether the roll-ups can answer `filter`: a serial or a part is not one
/// of their keys, and an empty batch means "none recorded" only there.
pub fn answers(filter: &Filter) -> bool {
    filter.serial.is_none() && filter.part_number.is_none() && filter.batch.as_deref() != Some("")
}

/// The counts of the failures `filter` selects, per day, model and `key`,
/// in that order: from the roll-ups when they can answer it.
pub async fn read(store: &Pool, filter: &Filter, key: Key) -> Result<Vec<Count>, sqlx::Error> {
    if !answers(filter) {
        return Ok(of_records(&failures(store, filter).await?, key));
    }
    let (table, key_column, sums): (_, _, [&str; 3]) = match key {
        Key::FailureMode => (
            MODES.table,
            "failure_mode",
            ["diagnoses", "relevant", "no_fault_found"],
        ),
        Key::PartNumber => (PARTS.table, "part_number", ["0", "failures", "0"]),
    };
    let sums = sums.map(|s| format!("CAST(SUM({s}) AS TEXT)")).join(", ");
    let mut vals = Vec::new();
    let clause = common_clause(filter, &mut vals);
    let sql = format!(
        "SELECT failed_on, product_model, {key_column}, {sums}
           FROM {table}{clause} GROUP BY failed_on, product_model, {key_column}"
    );
    let bad = |what: &str| sqlx::Error::Decode(format!("{table}.{what}").into());
    let mut sums = Sums::new();
    for c in store.texts(&sql, vals).await? {
        let text = |i: usize| c[i].clone().unwrap_or_default();
        let int = |i: usize| text(i).parse::<u64>().map_err(|_| bad("sums"));
        let day = text(0).parse().map_err(|_| bad("failed_on"))?;
        let s = sums.entry((day, text(1), text(2))).or_default();
        for (i, v) in s.iter_mut().enumerate() {
            *v += int(3 + i)?;
        }
    }
    Ok(counted(sums))
}
