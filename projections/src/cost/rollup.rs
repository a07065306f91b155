//! Roll-ups the cost ledger keeps, so that a report reads one row per cell
//! (its key columns: how many tickets contribute, the sums they add)
//! instead of every ledger line.
//!
//! Invariant: a row is the sum over tickets of what each one's ledger adds
//! to that cell now: a changed ledger moves each cell by the difference and
//! deletes a cell no ticket is left in (`kept_tests` checks it against a
//! rebuild). Adding one: a [`Rollup`], a line in [`ROLLUPS`] and `TABLES`,
//! its table in a migration per store.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};

use super::ledger::{Bearer, Kind, TicketLedger};
use crate::engine::Target;
use crate::kept::Statements;
use crate::rows::Write;

/// What one ticket adds to a roll-up: per cell (its key values), its sums.
pub type Cells = BTreeMap<Vec<String>, Vec<i64>>;

/// One roll-up table.
#[derive(Debug)]
pub struct Rollup {
    pub table: &'static str,
    pub keys: &'static [&'static str],
    pub sums: &'static [&'static str],
    /// What a ticket's ledger adds to it.
    pub cells: fn(&TicketLedger) -> Cells,
}

/// Every roll-up the ledger keeps.
pub const ROLLUPS: &[Rollup] = &[WARRANTY, PARTS, QUOTE_ACTUAL];

/// Company-borne cost per basis ("sale": the month of the sale, '' when
/// unknown; "repair": the month of the cost), product model, month, region
/// and currency: the warranty reports.
pub const WARRANTY: Rollup = Rollup {
    table: "cost_warranty",
    keys: &["basis", "product_model", "month", "region", "currency"],
    sums: &["amount_minor"],
    cells: warranty,
};

/// Parts per part number, month of use, currency, product model, region
/// and bearer: the parts-by-month report.
pub const PARTS: Rollup = Rollup {
    table: "cost_parts",
    keys: &[
        "part_number",
        "month",
        "currency",
        "product_model",
        "region",
        "bearer",
    ],
    sums: &["quantity", "amount_minor"],
    cells: parts,
};

/// Quoted and actual amounts per line kind and currency, by the ticket's
/// month of receipt, product model and region (what the ticket filter of
/// the quote-versus-actual report selects on): that report.
pub const QUOTE_ACTUAL: Rollup = Rollup {
    table: "cost_quote_actual",
    keys: &["first_month", "product_model", "region", "kind", "currency"],
    sums: &["quoted_minor", "actual_minor"],
    cells: quote_actual,
};

/// "YYYY-MM" of an instant.
pub fn month(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

fn add(cells: &mut Cells, key: Vec<String>, sums: &[i64]) {
    let sum = cells.entry(key).or_insert_with(|| vec![0; sums.len()]);
    for (s, v) in sum.iter_mut().zip(sums) {
        *s += v;
    }
}

fn warranty(l: &TicketLedger) -> Cells {
    let mut out = Cells::new();
    for line in l.lines.iter().filter(|l| l.bearer == Bearer::Company) {
        let sale = l.sale_month.clone().unwrap_or_default();
        for (basis, month) in [("sale", sale), ("repair", month(line.occurred_at))] {
            let (model, region) = (l.product_model.clone(), l.region.clone());
            let currency = line.amount.currency().to_string();
            let key = vec![basis.to_owned(), model, month, region, currency];
            add(&mut out, key, &[line.amount.minor()]);
        }
    }
    out
}

fn parts(l: &TicketLedger) -> Cells {
    let mut out = Cells::new();
    for line in l.lines.iter().filter(|l| l.kind == Kind::Parts) {
        let key = vec![
            line.part_number.clone().unwrap_or_default(),
            month(line.occurred_at),
            line.amount.currency().to_string(),
            l.product_model.clone(),
            l.region.clone(),
            line.bearer.as_str().to_owned(),
        ];
        let quantity = i64::from(line.quantity.unwrap_or(0));
        add(&mut out, key, &[quantity, line.amount.minor()]);
    }
    out
}

fn quote_actual(l: &TicketLedger) -> Cells {
    let mut out = Cells::new();
    let first = l.received_at.map(month).unwrap_or_default();
    let key = |kind: Kind, currency: String| {
        let ticket = [&first, &l.product_model, &l.region];
        let mut key: Vec<String> = ticket.into_iter().cloned().collect();
        key.extend([kind.as_str().to_owned(), currency]);
        key
    };
    let quote_currency = l.currency.as_ref().map(ToString::to_string);
    for (kind, amount) in &l.quoted {
        let currency = quote_currency.clone().unwrap_or_default();
        add(&mut out, key(*kind, currency), &[*amount, 0]);
    }
    for line in &l.lines {
        let currency = line.amount.currency().to_string();
        add(
            &mut out,
            key(line.kind, currency),
            &[0, line.amount.minor()],
        );
    }
    out
}

impl Rollup {
    /// What `ledger` adds (nothing while a problem stops the ticket's costing).
    pub fn of(&self, ledger: &Result<TicketLedger, String>) -> Cells {
        ledger.as_ref().map(self.cells).unwrap_or_default()
    }

    /// The statements that move the roll-up at `at` from what a ticket
    /// added `before` to what it adds `now`.
    pub fn moves(&self, at: &Target, before: &Cells, now: &Cells) -> Statements {
        let table = at.table(self.table);
        let mut out = Statements::new();
        for cell in before
            .keys()
            .chain(now.keys().filter(|c| !before.contains_key(*c)))
        {
            let (was, is) = (before.get(cell), now.get(cell));
            let tickets = i64::from(is.is_some()) - i64::from(was.is_some());
            let at = |sums: Option<&Vec<i64>>, i: usize| sums.map_or(0, |s| s[i]);
            let moved: Vec<i64> = (0..self.sums.len())
                .map(|i| at(is, i) - at(was, i))
                .collect();
            if tickets == 0 && moved.iter().all(|m| *m == 0) {
                continue;
            }
            out.push(Write::Add {
                table: table.clone(),
                keys: self.keys,
                key: cell.clone(),
                members: tickets,
                sums: self.sums,
                deltas: moved,
            });
        }
        out
    }
}
