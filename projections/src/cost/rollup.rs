//! Roll-ups the cost ledger keeps ([`crate::rollup`]), so that a report
//! reads one row per cell instead of every ledger line. A ticket whose
//! costing stopped on a problem adds nothing. Adding one: a [`Rollup`], a
//! line in [`ROLLUPS`] and `TABLES`, its table in a migration per store.

use chrono::{DateTime, Datelike, Utc};

use super::ledger::{Bearer, Kind, TicketLedger};
use crate::rollup::{add, Cells};

/// A roll-up of the ledger.
pub type Rollup = crate::rollup::Rollup<TicketLedger>;

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
