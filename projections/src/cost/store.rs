//! Writing the cost ledger, on either store, with the same SQL: when an
//! event of a ticket arrives, the ticket's rows are replaced with what its
//! events say now.

use chrono::{DateTime, Datelike, Utc};
use domain::TicketEvent;
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use super::ledger::{Bearer, Costing, TicketLedger};
use super::{COST_LEDGER, TABLES, WARRANTY};
use crate::db::Val;
use crate::engine::{Context, Target};
use crate::kept::{decode, PerStream, Statements};
use crate::log::RawEvent;
use crate::rows::{cleared, Write};
use crate::{ProjectionError, TICKET};

fn month(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

/// The cost ledger read model.
#[derive(Debug, Clone, Copy, Default)]
pub struct CostLedger;

/// What the ledger keeps of one ticket: its costing so far, or the
/// problem that stopped it (a currency mismatch stays one).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Kept {
    costing: Costing,
    problem: Option<String>,
}

impl PerStream for CostLedger {
    type State = Kept;
    const NAME: &'static str = COST_LEDGER;
    const TABLES: &'static [&'static str] = TABLES;
    const STATE_TABLE: &'static str = "cost_state";

    fn stream(event: &RawEvent) -> Option<&'static str> {
        (event.aggregate_type == TICKET).then_some(TICKET)
    }

    fn step(
        state: &mut Kept,
        _: &str,
        _: &str,
        event: &RawEvent,
        _: &Context,
    ) -> Result<(), ProjectionError> {
        if state.problem.is_none() {
            let ticket: TicketEvent = decode(event)?;
            if let Err(e) = state.costing.step(&ticket, event.occurred_at) {
                state.problem = Some(e.to_string());
            }
        }
        Ok(())
    }

    fn rows(
        at: &Target,
        _: &str,
        id: &str,
        before: &Kept,
        state: &Kept,
        _: &Context,
    ) -> Statements {
        let mut out = replace(at, id, state.ledger());
        out.extend(warranty_moves(at, &before.ledger(), &state.ledger()));
        out
    }
}

impl Kept {
    fn ledger(&self) -> Result<TicketLedger, String> {
        match &self.problem {
            Some(problem) => Err(problem.clone()),
            None => self.costing.ledger().map_err(|e| e.to_string()),
        }
    }
}

/// A cell of the warranty roll-up: (basis, product model, month, region,
/// currency); the basis is "sale" (the month of the sale, '' when unknown)
/// or "repair" (the month of the cost).
type Cell = (&'static str, String, String, String, String);

/// What one ticket's ledger adds to the warranty roll-up: its
/// company-borne amount per cell.
fn warranty_cells(ledger: &Result<TicketLedger, String>) -> BTreeMap<Cell, i64> {
    let mut out = BTreeMap::new();
    let Ok(l) = ledger else { return out };
    for line in l.lines.iter().filter(|l| l.bearer == Bearer::Company) {
        let sale = l.sale_month.clone().unwrap_or_default();
        for (basis, month) in [("sale", sale), ("repair", month(line.occurred_at))] {
            let cell = (
                basis,
                l.product_model.clone(),
                month,
                l.region.clone(),
                line.amount.currency().to_string(),
            );
            *out.entry(cell).or_insert(0) += line.amount.minor();
        }
    }
    out
}

/// The statements that move the warranty roll-up from what a ticket's
/// ledger added `before` to what it adds now: each cell it leaves loses
/// the ticket and its amount, each cell it enters gains them.
fn warranty_moves(
    at: &Target,
    before: &Result<TicketLedger, String>,
    now: &Result<TicketLedger, String>,
) -> Statements {
    let (old, new) = (warranty_cells(before), warranty_cells(now));
    let table = at.table(WARRANTY);
    let upsert = format!(
        "INSERT INTO {table} (basis, product_model, month, region, currency, tickets, amount_minor)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (basis, product_model, month, region, currency) DO UPDATE
            SET tickets = {table}.tickets + excluded.tickets,
                amount_minor = {table}.amount_minor + excluded.amount_minor"
    );
    let empty = format!(
        "DELETE FROM {table} WHERE basis = $1 AND product_model = $2 AND month = $3
            AND region = $4 AND currency = $5 AND tickets = 0"
    );
    let mut out = Statements::new();
    for cell in old
        .keys()
        .chain(new.keys().filter(|c| !old.contains_key(*c)))
    {
        let (was, is) = (old.get(cell), new.get(cell));
        let tickets = i64::from(is.is_some()) - i64::from(was.is_some());
        let amount = is.unwrap_or(&0) - was.unwrap_or(&0);
        if tickets == 0 && amount == 0 {
            continue;
        }
        let (basis, model, month, region, currency) = cell.clone();
        let key = vec![
            Val::Text(basis.to_owned()),
            Val::Text(model),
            Val::Text(month),
            Val::Text(region),
            Val::Text(currency),
        ];
        let mut vals = key.clone();
        vals.extend([Val::Int(tickets), Val::Int(amount)]);
        out.push(Write::Run(upsert.clone(), vals));
        if tickets < 0 {
            // The last ticket left the cell.
            out.push(Write::Run(empty.clone(), key));
        }
    }
    out
}

/// The statements that replace one ticket's rows with `ledger`.
fn replace(at: &Target, ticket_id: &str, result: Result<TicketLedger, String>) -> Statements {
    let tables = ["cost_lines", "cost_quoted", "cost_tickets"];
    let ([lines, quoted, tickets], mut out) = cleared(at, tables, "ticket_id", ticket_id);
    let id = || Val::Text(ticket_id.to_owned());
    // A ticket whose costing stopped keeps one row: the problem, nothing else.
    let (l, problem) = match result {
        Ok(l) => (l, None),
        Err(problem) => (TicketLedger::default(), Some(problem)),
    };
    let currency = l.currency.as_ref().map(ToString::to_string);
    out.push(Write::row(
        &tickets,
        vec![
            ("ticket_id", id()),
            ("product_model", Val::Text(l.product_model.clone())),
            ("sale_month", Val::OptText(l.sale_month.clone())),
            ("region", Val::Text(l.region.clone())),
            ("currency", Val::OptText(currency.clone())),
            ("invoiced_minor", Val::Int(l.invoiced)),
            ("paid_minor", Val::Int(l.paid)),
            (
                "first_month",
                Val::Text(l.received_at.map(month).unwrap_or_default()),
            ),
            ("problem", Val::OptText(problem)),
        ],
    ));
    for (kind, amount) in &l.quoted {
        out.push(Write::row(
            &quoted,
            vec![
                ("ticket_id", id()),
                ("kind", Val::Text(kind.as_str().to_owned())),
                ("amount_minor", Val::Int(*amount)),
                ("currency", Val::Text(currency.clone().unwrap_or_default())),
            ],
        ));
    }
    for (n, line) in l.lines.iter().enumerate() {
        out.push(Write::row(
            &lines,
            vec![
                ("ticket_id", id()),
                ("line_no", Val::Int(n as i64 + 1)),
                ("cycle", Val::Int(i64::from(line.cycle))),
                ("kind", Val::Text(line.kind.as_str().to_owned())),
                ("bearer", Val::Text(line.bearer.as_str().to_owned())),
                ("amount_minor", Val::Int(line.amount.minor())),
                ("currency", Val::Text(line.amount.currency().to_string())),
                ("part_number", Val::OptText(line.part_number.clone())),
                ("quantity", Val::OptInt(line.quantity.map(i64::from))),
                ("occurred_at", Val::Time(line.occurred_at)),
                ("occurred_month", Val::Text(month(line.occurred_at))),
                ("product_model", Val::Text(l.product_model.clone())),
                ("sale_month", Val::OptText(l.sale_month.clone())),
                ("region", Val::Text(l.region.clone())),
                ("approver", Val::OptText(line.approver.clone())),
                (
                    "tier",
                    Val::OptText(line.tier.map(|t| format!("{t:?}").to_lowercase())),
                ),
            ],
        ));
    }
    out
}
