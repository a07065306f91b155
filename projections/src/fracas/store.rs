//! Writing FRACAS rows, on either store, with the same SQL: when an event
//! of a ticket (or of a corrective action) arrives, that ticket's
//! (action's) rows are replaced with what its events say now.

use async_trait::async_trait;
use cqrs_es::Aggregate;
use domain::capa::{ActionEvent, ActionStatus, CorrectiveAction};
use domain::LocalTime;
use domain::TicketEvent;

use super::records::{failures, FailureRecord, Unit};
use super::{FRACAS, TABLES};
use crate::db::{Stored, Tx, Val};
use crate::engine::{touched, Context, Projection, Target};
use crate::log::RawEvent;
use crate::ProjectionError;

/// The FRACAS read model: failure records per ticket, corrective actions.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fracas;

/// The statements for one stream a batch touched.
type Derive = fn(&Target, &str, Vec<Stored>, LocalTime) -> Result<Statements, ProjectionError>;

const AGGREGATES: [(&str, Derive); 2] =
    [("Ticket", ticket_rows), ("CorrectiveAction", action_rows)];

#[async_trait]
impl Projection for Fracas {
    fn name(&self) -> &'static str {
        FRACAS
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
        for (aggregate_type, derive) in AGGREGATES {
            for id in touched(batch, &[aggregate_type]) {
                let rows = tx
                    .history((aggregate_type, aggregate_type), id, upto)
                    .await?;
                for (sql, vals) in derive(at, id, rows, cx.local)? {
                    tx.run(&sql, vals).await?;
                }
            }
        }
        Ok(())
    }
}

type Statements = Vec<(String, Vec<Val>)>;

fn flag(b: bool) -> Val {
    Val::Int(i64::from(b))
}

/// The statements that replace one ticket's rows.
fn replace_ticket(
    at: &Target,
    ticket_id: &str,
    unit: Option<Unit>,
    records: Vec<FailureRecord>,
) -> Statements {
    let (parts, failures, units) = (
        at.table("fracas_failure_parts"),
        at.table("fracas_failures"),
        at.table("fracas_units"),
    );
    let id = || Val::Text(ticket_id.to_owned());
    let mut out: Statements = vec![
        (
            format!("DELETE FROM {parts} WHERE ticket_id = $1"),
            vec![id()],
        ),
        (
            format!("DELETE FROM {failures} WHERE ticket_id = $1"),
            vec![id()],
        ),
        (
            format!("DELETE FROM {units} WHERE ticket_id = $1"),
            vec![id()],
        ),
    ];
    if let Some(u) = unit {
        out.push((
            format!("INSERT INTO {units} (ticket_id, product_model, serial, batch, in_service_on, received_on)
             VALUES ($1, $2, $3, $4, $5, $6)"),
            vec![
                id(),
                Val::Text(u.product_model),
                Val::Text(u.serial),
                Val::OptText(u.batch),
                Val::OptText(u.in_service_on.map(|d| d.to_string())),
                Val::Text(u.received_on.to_string()),
            ],
        ));
    }
    for r in records {
        let no = Val::Int(i64::from(r.record_no));
        for part in &r.failed_parts {
            out.push((
                format!(
                    "INSERT INTO {parts} (ticket_id, record_no, part_number) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING"
                ),
                vec![id(), no.clone(), Val::Text(part.clone())],
            ));
        }
        let relevant = r.relevant();
        out.push((
            format!("INSERT INTO {failures} (ticket_id, record_no, signal, occurred_at, failed_on, product_model,
                 serial, batch, failure_mode, symptom, failed_parts, root_cause, responsible_department,
                 operating_days, no_fault_found, misuse, relevant, cycle)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"),
            vec![
                id(),
                no,
                Val::Text(r.signal.as_str().to_owned()),
                Val::Time(r.occurred_at),
                Val::Text(r.failed_on.to_string()),
                Val::Text(r.product_model),
                Val::Text(r.serial),
                Val::OptText(r.batch),
                Val::Text(r.failure_mode),
                Val::Text(r.symptom),
                Val::Text(r.failed_parts.join(",")),
                Val::OptText(r.root_cause),
                Val::OptText(r.responsible_department),
                Val::OptInt(r.operating_days),
                flag(r.no_fault_found),
                flag(r.misuse),
                flag(relevant),
                Val::Int(i64::from(r.cycle)),
            ],
        ));
    }
    out
}

/// The statements that replace one corrective action's rows.
fn replace_action(at: &Target, action_id: &str, a: &CorrectiveAction) -> Statements {
    let (scope, actions, plan, links) = (
        at.table("fracas_action_scope"),
        at.table("fracas_actions"),
        at.table("fracas_action_plan"),
        at.table("fracas_action_links"),
    );
    let id = || Val::Text(action_id.to_owned());
    let mut out: Statements = vec![
        (
            format!("DELETE FROM {scope} WHERE action_id = $1"),
            vec![id()],
        ),
        (
            format!("DELETE FROM {actions} WHERE action_id = $1"),
            vec![id()],
        ),
        (
            format!("DELETE FROM {plan} WHERE action_id = $1"),
            vec![id()],
        ),
        (
            format!("DELETE FROM {links} WHERE action_id = $1"),
            vec![id()],
        ),
    ];
    let Some(opened) = a.steps.first() else {
        return out;
    };
    let closed = a.steps.iter().find(|s| s.step == ActionStatus::Closed);
    out.push((
        format!(
            "INSERT INTO {actions} (action_id, title, status, verification_window_days, root_cause,
             implemented_on, window_to, opened_at, opened_by, closed_at, closed_by, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ),
        vec![
            id(),
            Val::Text(
                a.title
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            Val::Text(a.status.as_str().to_owned()),
            Val::Int(i64::from(a.verification_window_days)),
            Val::OptText(a.root_cause.map(|r| r.as_str().to_owned())),
            Val::OptText(a.implemented_on.map(|d| d.to_string())),
            Val::OptText(a.window().map(|(_, to)| to.to_string())),
            Val::Time(opened.at),
            Val::Text(opened.by.to_string()),
            Val::OptTime(closed.map(|s| s.at)),
            Val::OptText(closed.map(|s| s.by.to_string())),
            Val::Int(i64::try_from(a.version).unwrap_or(i64::MAX)),
        ],
    ));
    for (d, p) in &a.eight_d.plan {
        out.push((
            format!(
                "INSERT INTO {plan} (action_id, discipline, owner, due_on, done)
             VALUES ($1, $2, $3, $4, $5)"
            ),
            vec![
                id(),
                Val::Text(d.as_str().to_owned()),
                Val::Text(p.owner.to_string()),
                Val::Text(p.due_on.to_string()),
                flag(a.done(*d)),
            ],
        ));
    }
    for t in &a.eight_d.linked_tickets {
        out.push((
            format!("INSERT INTO {links} (action_id, ticket_id) VALUES ($1, $2)"),
            vec![id(), Val::Text(t.clone())],
        ));
    }
    for (kind, values) in [("mode", &a.failure_modes), ("model", &a.models)] {
        for v in values {
            out.push((
                format!("INSERT INTO {scope} (action_id, kind, value) VALUES ($1, $2, $3)"),
                vec![id(), Val::Text(kind.to_owned()), Val::Text(v.to_string())],
            ));
        }
    }
    out
}

fn decode<T: serde::de::DeserializeOwned>(
    payload: serde_json::Value,
) -> Result<T, ProjectionError> {
    serde_json::from_value(payload).map_err(|source| ProjectionError::Undecodable {
        position: 0,
        source,
    })
}

fn ticket_rows(
    at: &Target,
    ticket_id: &str,
    rows: Vec<Stored>,
    local: LocalTime,
) -> Result<Statements, ProjectionError> {
    let mut events = Vec::with_capacity(rows.len());
    for (_, payload, when) in rows {
        events.push((decode::<TicketEvent>(payload)?, when));
    }
    let (unit, records) = failures(ticket_id, &events, local);
    Ok(replace_ticket(at, ticket_id, unit, records))
}

fn action_rows(
    at: &Target,
    action_id: &str,
    rows: Vec<Stored>,
    _: LocalTime,
) -> Result<Statements, ProjectionError> {
    let mut action = CorrectiveAction::default();
    for (_, payload, _) in rows {
        action.apply(decode::<ActionEvent>(payload)?);
    }
    Ok(replace_action(at, action_id, &action))
}
