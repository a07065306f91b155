//! Writing the SLA projection, on either store, with the same SQL: when an
//! event of a ticket (or one of its alerts) arrives, the ticket's rows are
//! replaced with what its events say now, and the KPI roll-ups
//! ([`super::counts`]) move by the ticket's difference.

use std::collections::BTreeSet;

use domain::TicketEvent;
use serde::{Deserialize, Serialize};

use super::alerts::Alert;
use super::clocks::TicketSla;
use super::counts;
use super::{SlaConfig, ALERT_AGGREGATE, SLA, TABLES};
use crate::db::Val;
use crate::engine::{Context, Target};
use crate::kept::{decode, PerStream, Statements};
use crate::log::RawEvent;
use crate::rows::{cleared, Write};
use crate::{ProjectionError, TICKET};

/// The service-level read model: each ticket's clocks and revisits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sla;

/// What the SLA read model keeps of one ticket: its clocks so far and the
/// alerts already in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    sla: TicketSla,
    noted: Noted,
}

impl Default for Kept {
    fn default() -> Self {
        Self {
            sla: TicketSla::start(),
            noted: Noted::new(),
        }
    }
}

impl PerStream for Sla {
    type State = Kept;
    const NAME: &'static str = SLA;
    const TABLES: &'static [&'static str] = TABLES;
    const STATE_TABLE: &'static str = "sla_state";

    /// A ticket's alerts share its stream (and its id).
    fn stream(event: &RawEvent) -> Option<&'static str> {
        match event.aggregate_type.as_str() {
            TICKET | ALERT_AGGREGATE => Some(TICKET),
            _ => None,
        }
    }

    fn step(
        state: &mut Kept,
        _: &str,
        _: &str,
        event: &RawEvent,
        cx: &Context,
    ) -> Result<(), ProjectionError> {
        if event.aggregate_type == ALERT_AGGREGATE {
            let alert: Alert = decode(event)?;
            state.noted.insert((
                alert.clock().to_owned(),
                alert.cycle(),
                alert.name().to_owned(),
            ));
        } else {
            let ticket: TicketEvent = decode(event)?;
            let at = ticket.occurred_at();
            state
                .sla
                .step(&ticket, at, &cx.sla.policy, &cx.sla.calendars);
        }
        Ok(())
    }

    fn rows(
        at: &Target,
        _: &str,
        id: &str,
        before: &Kept,
        state: &Kept,
        cx: &Context,
    ) -> Statements {
        let was = counts::cells(&before.sla, cx.sla);
        let is = counts::cells(&state.sla, cx.sla);
        let mut out = Statements::new();
        for r in counts::ROLLUPS {
            out.extend(r.moves_between(at, Some(&was), Some(&is)));
        }
        out.extend(replace(at, id, &state.sla, &state.noted, cx.sla));
        out
    }
}

/// (clock, cycle, kind) of the alerts already in the log.
type Noted = BTreeSet<(String, u32, String)>;

/// The statements that replace one ticket's rows.
fn replace(
    at: &Target,
    ticket_id: &str,
    sla: &TicketSla,
    noted: &Noted,
    config: &SlaConfig,
) -> Statements {
    let tables = ["sla_clocks", "sla_revisits"];
    let ([clocks, revisits], mut out) = cleared(at, tables, "ticket_id", ticket_id);
    let id = || Val::Text(ticket_id.to_owned());
    let cal = config.calendars.for_region(&sla.facts.region);
    let t = Val::OptTime;
    let technician = sla.technician.clone().unwrap_or_default();
    for c in &sla.clocks {
        let outcome = c.stopped_at.or(c.deadline);
        let note = |kind: &str| {
            Val::Int(i64::from(noted.contains(&(
                c.clock.clone(),
                c.cycle,
                kind.to_owned(),
            ))))
        };
        out.push(Write::row(
            &clocks,
            vec![
                ("ticket_id", id()),
                ("clock", Val::Text(c.clock.clone())),
                ("cycle", Val::Int(i64::from(c.cycle))),
                ("basis", Val::Text(format!("{:?}", c.basis).to_lowercase())),
                ("target_seconds", Val::Int(c.target)),
                ("started_at", Val::Time(c.started_at)),
                ("state", Val::Text(c.state.as_str().to_owned())),
                ("paused_seconds", Val::Int(c.paused)),
                ("paused_since", t(c.paused_since)),
                ("elapsed_seconds", Val::Int(c.elapsed)),
                ("stopped_at", t(c.stopped_at)),
                ("at_risk_at", t(c.at_risk_at)),
                ("deadline_at", t(c.deadline)),
                ("met", Val::OptInt(c.met.map(i64::from))),
                ("outcome_at", t(outcome)),
                (
                    "outcome_week",
                    Val::OptText(outcome.map(|o| cal.week_of(o))),
                ),
                ("kind", Val::Text(sla.facts.kind.clone())),
                ("priority", Val::Text(sla.facts.priority.clone())),
                ("region", Val::Text(sla.facts.region.clone())),
                ("technician", Val::Text(technician.clone())),
                ("risk_noted", note(Alert::AT_RISK)),
                ("breach_noted", note(Alert::BREACHED)),
            ],
        ));
    }
    for (n, r) in sla.revisits.iter().enumerate() {
        out.push(Write::row(
            &revisits,
            vec![
                ("ticket_id", id()),
                ("n", Val::Int(n as i64 + 1)),
                ("cycle", Val::Int(i64::from(r.cycle))),
                ("revisited_at", Val::Time(r.at)),
                ("week", Val::Text(cal.week_of(r.at))),
                ("resolved", Val::Int(i64::from(r.resolved))),
                ("satisfied", Val::Int(i64::from(r.satisfied))),
                ("region", Val::Text(sla.facts.region.clone())),
                ("technician", Val::Text(technician.clone())),
            ],
        ));
    }
    out
}
