//! Writing the cost ledger, on either store, with the same SQL: when an
//! event of a ticket arrives, the ticket's rows are replaced with what its
//! events say now.

use domain::TicketEvent;
use serde::{Deserialize, Serialize};

use super::ledger::{Costing, TicketLedger};
use super::rollup::{month, ROLLUPS};
use super::{COST_LEDGER, TABLES};
use crate::db::Val;
use crate::engine::{Context, Target};
use crate::kept::{decode, PerStream, Statements};
use crate::log::RawEvent;
use crate::rows::{cleared, Write};
use crate::{ProjectionError, TICKET};

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
        let (was, is) = (before.ledger(), state.ledger());
        let mut out = Statements::new();
        for r in ROLLUPS {
            out.extend(r.moves_between(at, was.as_ref().ok(), is.as_ref().ok()));
        }
        out.extend(replace(at, id, is));
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
