//! Writing FRACAS rows, on either store, with the same SQL: when an event
//! of a ticket (or of a corrective action) arrives, that ticket's
//! (action's) rows are replaced with what its events say now.

use cqrs_es::Aggregate;
use domain::capa::{ActionEvent, ActionStatus, CorrectiveAction};
use domain::TicketEvent;
use serde::{Deserialize, Serialize};

use super::records::{FailureRecord, TicketFailures, Unit};
use super::{FRACAS, TABLES};
use crate::db::Val;
use crate::engine::{Context, Target};
use crate::kept::{decode, PerStream, Statements};
use crate::log::RawEvent;
use crate::rows::{Conflict, Write};
use crate::ProjectionError;

/// The FRACAS read model: failure records per ticket, corrective actions.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fracas;

/// What FRACAS keeps of one stream: a ticket's failures or an action.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    failures: Option<TicketFailures>,
    action: Option<CorrectiveAction>,
}

const TICKET: &str = "Ticket";
const ACTION: &str = "CorrectiveAction";

impl PerStream for Fracas {
    type State = Kept;
    const NAME: &'static str = FRACAS;
    const TABLES: &'static [&'static str] = TABLES;
    const STATE_TABLE: &'static str = "fracas_state";

    fn stream(event: &RawEvent) -> Option<&'static str> {
        match event.aggregate_type.as_str() {
            TICKET => Some(TICKET),
            ACTION => Some(ACTION),
            _ => None,
        }
    }

    fn step(
        state: &mut Kept,
        kind: &str,
        id: &str,
        event: &RawEvent,
        cx: &Context,
    ) -> Result<(), ProjectionError> {
        if kind == TICKET {
            let failures = state.failures.get_or_insert_with(TicketFailures::default);
            failures.step(id, &decode::<TicketEvent>(event)?, cx.local);
        } else {
            let action = state.action.get_or_insert_with(CorrectiveAction::default);
            action.apply(decode::<ActionEvent>(event)?);
        }
        Ok(())
    }

    fn rows(at: &Target, kind: &str, id: &str, _: &Kept, state: &Kept, _: &Context) -> Statements {
        match (kind, &state.failures, &state.action) {
            (TICKET, Some(f), _) => replace_ticket(at, id, f.unit.clone(), f.records.clone()),
            (_, _, Some(a)) => replace_action(at, id, a),
            _ => Vec::new(),
        }
    }
}

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
        Write::clear(&parts, "ticket_id", ticket_id),
        Write::clear(&failures, "ticket_id", ticket_id),
        Write::clear(&units, "ticket_id", ticket_id),
    ];
    if let Some(u) = unit {
        out.push(Write::insert(
            &units,
            &[
                "ticket_id",
                "product_model",
                "serial",
                "batch",
                "in_service_on",
                "received_on",
            ],
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
            out.push(
                Write::insert(
                    &parts,
                    &["ticket_id", "record_no", "part_number"],
                    vec![id(), no.clone(), Val::Text(part.clone())],
                )
                .on_conflict(Conflict::Ignore),
            );
        }
        let relevant = r.relevant();
        out.push(Write::insert(
            &failures,
            &[
                "ticket_id",
                "record_no",
                "signal",
                "occurred_at",
                "failed_on",
                "product_model",
                "serial",
                "batch",
                "failure_mode",
                "symptom",
                "failed_parts",
                "root_cause",
                "responsible_department",
                "operating_days",
                "no_fault_found",
                "misuse",
                "relevant",
                "cycle",
            ],
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
        Write::clear(&scope, "action_id", action_id),
        Write::clear(&actions, "action_id", action_id),
        Write::clear(&plan, "action_id", action_id),
        Write::clear(&links, "action_id", action_id),
    ];
    let Some(opened) = a.steps.first() else {
        return out;
    };
    let closed = a.steps.iter().find(|s| s.step == ActionStatus::Closed);
    out.push(Write::insert(
        &actions,
        &[
            "action_id",
            "title",
            "status",
            "verification_window_days",
            "root_cause",
            "implemented_on",
            "window_to",
            "opened_at",
            "opened_by",
            "closed_at",
            "closed_by",
            "version",
        ],
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
        out.push(Write::insert(
            &plan,
            &["action_id", "discipline", "owner", "due_on", "done"],
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
        out.push(Write::insert(
            &links,
            &["action_id", "ticket_id"],
            vec![id(), Val::Text(t.clone())],
        ));
    }
    for (kind, values) in [("mode", &a.failure_modes), ("model", &a.models)] {
        for v in values {
            out.push(Write::insert(
                &scope,
                &["action_id", "kind", "value"],
                vec![id(), Val::Text(kind.to_owned()), Val::Text(v.to_string())],
            ));
        }
    }
    out
}
