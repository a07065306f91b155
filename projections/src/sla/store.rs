//! Writing the SLA projection, on either store, with the same SQL: when an
//! event of a ticket (or one of its alerts) arrives, the ticket's rows are
//! replaced with what its events say now.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::TicketEvent;

use super::alerts::Alert;
use super::clocks::{derive, TicketSla};
use super::{SlaConfig, ALERT_AGGREGATE, SLA, TABLES};
use crate::db::{Stored, Tx, Val};
use crate::engine::{touched, Context, Projection, Target};
use crate::log::RawEvent;
use crate::ProjectionError;

/// The service-level read model: each ticket's clocks and revisits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sla;

#[async_trait]
impl Projection for Sla {
    fn name(&self) -> &'static str {
        SLA
    }

    fn tables(&self) -> &'static [&'static str] {
        TABLES
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        at: &Target,
        batch: &[RawEvent],
        cx: &Context,
    ) -> Result<(), ProjectionError> {
        let upto = batch.last().map_or(0, |e| e.log_position);
        for id in touched(batch, &["Ticket", ALERT_AGGREGATE]) {
            let rows = tx.history(("Ticket", ALERT_AGGREGATE), id, upto).await?;
            let (events, noted) = decode(rows)?;
            let sla = derive(&events, &cx.sla.policy, &cx.sla.calendars);
            for (sql, vals) in replace(at, id, &sla, &noted, cx.sla) {
                tx.run(&sql, vals).await?;
            }
        }
        Ok(())
    }
}

/// When an event happened, as the event says (its `at`, or `received_at`).
pub fn occurred_at(payload: &serde_json::Value) -> Option<DateTime<Utc>> {
    let body = payload.as_object()?.values().next()?;
    let at = body.get("at").or_else(|| body.get("received_at"))?;
    serde_json::from_value(at.clone()).ok()
}

/// (clock, cycle, kind) of the alerts already in the log.
type Noted = BTreeSet<(String, u32, String)>;

/// Ticket events with the instant each happened.
type Timed = Vec<(TicketEvent, DateTime<Utc>)>;

/// Decodes a ticket's stored events (both aggregate types, log order).
fn decode(rows: Vec<Stored>) -> Result<(Timed, Noted), ProjectionError> {
    let mut events = Vec::new();
    let mut noted = Noted::new();
    for (kind, payload, stored_at) in rows {
        let undecodable = |source| ProjectionError::Undecodable {
            position: 0,
            source,
        };
        if kind == ALERT_AGGREGATE {
            let alert: Alert = serde_json::from_value(payload).map_err(undecodable)?;
            noted.insert((
                alert.clock().to_owned(),
                alert.cycle(),
                alert.name().to_owned(),
            ));
        } else {
            let at = occurred_at(&payload).unwrap_or(stored_at);
            events.push((serde_json::from_value(payload).map_err(undecodable)?, at));
        }
    }
    Ok((events, noted))
}

/// The statements that replace one ticket's rows.
fn replace(
    at: &Target,
    ticket_id: &str,
    sla: &TicketSla,
    noted: &Noted,
    config: &SlaConfig,
) -> Vec<(String, Vec<Val>)> {
    let (clocks, revisits) = (at.table("sla_clocks"), at.table("sla_revisits"));
    let id = || Val::Text(ticket_id.to_owned());
    let mut out: Vec<(String, Vec<Val>)> = vec![
        (
            format!("DELETE FROM {clocks} WHERE ticket_id = $1"),
            vec![id()],
        ),
        (
            format!("DELETE FROM {revisits} WHERE ticket_id = $1"),
            vec![id()],
        ),
    ];
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
        out.push((
            format!("INSERT INTO {clocks} (ticket_id, clock, cycle, basis, target_seconds, started_at, state,
                 paused_seconds, paused_since, elapsed_seconds, stopped_at, at_risk_at, deadline_at, met,
                 outcome_at, outcome_week, kind, priority, region, technician, risk_noted, breach_noted)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                 $20, $21, $22)"),
            vec![
                id(),
                Val::Text(c.clock.clone()),
                Val::Int(i64::from(c.cycle)),
                Val::Text(format!("{:?}", c.basis).to_lowercase()),
                Val::Int(c.target),
                Val::Time(c.started_at),
                Val::Text(c.state.as_str().to_owned()),
                Val::Int(c.paused),
                t(c.paused_since),
                Val::Int(c.elapsed),
                t(c.stopped_at),
                t(c.at_risk_at),
                t(c.deadline),
                Val::OptInt(c.met.map(i64::from)),
                t(outcome),
                Val::OptText(outcome.map(|o| cal.week_of(o))),
                Val::Text(sla.facts.kind.clone()),
                Val::Text(sla.facts.priority.clone()),
                Val::Text(sla.facts.region.clone()),
                Val::Text(technician.clone()),
                note(Alert::AT_RISK),
                note(Alert::BREACHED),
            ],
        ));
    }
    for (n, r) in sla.revisits.iter().enumerate() {
        out.push((
            format!("INSERT INTO {revisits} (ticket_id, n, cycle, revisited_at, week, resolved, satisfied, region, technician)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
            vec![
                id(),
                Val::Int(n as i64 + 1),
                Val::Int(i64::from(r.cycle)),
                Val::Time(r.at),
                Val::Text(cal.week_of(r.at)),
                Val::Int(i64::from(r.resolved)),
                Val::Int(i64::from(r.satisfied)),
                Val::Text(sla.facts.region.clone()),
                Val::Text(technician.clone()),
            ],
        ));
    }
    out
}
