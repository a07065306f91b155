//! Writing FRACAS rows, on either store, with the same SQL: when an event
//! of a ticket (or of a corrective action) arrives, that ticket's
//! (action's) rows are replaced with what its events say now.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::NaiveDate;
use cqrs_es::Aggregate;
use domain::capa::{ActionEvent, ActionStatus, CorrectiveAction};
use domain::TicketEvent;
use serde::{Deserialize, Serialize};

use super::counts::ROLLUPS;
use super::population;
use super::records::{FailureRecord, TicketFailures, Unit};
use super::{FRACAS, TABLES};
use crate::db::{Tx, Val};
use crate::engine::{Context, Target};
use crate::kept::{decode, PerStream, Statements};
use crate::log::RawEvent;
use crate::rows::{cleared, Conflict, Write};
use crate::{ProjectionError, TICKET};

/// The FRACAS read model: failure records per ticket, corrective actions.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fracas;

/// What FRACAS keeps of one stream: a ticket's failures or an action.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    failures: Option<TicketFailures>,
    action: Option<CorrectiveAction>,
}

const ACTION: &str = "CorrectiveAction";

#[async_trait]
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

    fn rows(
        at: &Target,
        kind: &str,
        id: &str,
        before: &Kept,
        state: &Kept,
        _: &Context,
    ) -> Statements {
        match (kind, &state.failures, &state.action) {
            (TICKET, Some(f), _) => {
                let mut out = Statements::new();
                for r in ROLLUPS {
                    out.extend(r.moves_between(at, before.failures.as_ref(), Some(f)));
                }
                out.extend(replace_ticket(at, id, f.unit.clone(), f.records.clone()));
                out
            }
            (_, _, Some(a)) => replace_action(at, id, a),
            _ => Vec::new(),
        }
    }

    /// The serials of a ticket whose unit or relevant failures changed:
    /// their members' exposure ([`super::population`]). Compared in place
    /// first: most events change neither, and then nothing is copied.
    fn shared(before: &Kept, state: &Kept) -> Vec<String> {
        let (was, is) = (before.failures.as_ref(), state.failures.as_ref());
        if exposure(was).eq(exposure(is)) {
            return Vec::new();
        }
        exposure(was)
            .chain(exposure(is))
            .map(|(serial, _, _)| serial.to_owned())
            .collect()
    }

    async fn settle(
        tx: &mut Tx,
        at: &Target,
        serials: BTreeSet<String>,
    ) -> Result<(), ProjectionError> {
        Ok(population::settle(tx, at, &serials).await?)
    }
}

/// What of a ticket's failures its members' exposure depends on: its
/// unit's serial (with the unit's other facts), then each relevant
/// failure's serial, mode and day.
fn exposure(
    failures: Option<&TicketFailures>,
) -> impl Iterator<Item = (&str, Option<&Unit>, Option<(&str, NaiveDate)>)> {
    let unit = failures
        .and_then(|f| f.unit.as_ref())
        .map(|u| (u.serial.as_str(), Some(u), None));
    let failed = failures
        .into_iter()
        .flat_map(|f| f.records.iter().filter(|r| r.relevant()))
        .map(|r| {
            let mode = (r.failure_mode.as_str(), r.failed_on);
            (r.serial.as_str(), None, Some(mode))
        });
    unit.into_iter().chain(failed)
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
    let tables = ["fracas_failure_parts", "fracas_failures", "fracas_units"];
    let ([parts, failures, units], mut out) = cleared(at, tables, "ticket_id", ticket_id);
    let id = || Val::Text(ticket_id.to_owned());
    if let Some(u) = unit {
        out.push(Write::row(
            &units,
            vec![
                ("ticket_id", id()),
                ("product_model", Val::Text(u.product_model)),
                ("serial", Val::Text(u.serial)),
                ("batch", Val::OptText(u.batch)),
                (
                    "in_service_on",
                    Val::OptText(u.in_service_on.map(|d| d.to_string())),
                ),
                ("received_on", Val::Text(u.received_on.to_string())),
            ],
        ));
    }
    for r in records {
        let no = Val::Int(i64::from(r.record_no));
        for part in &r.failed_parts {
            out.push(
                Write::row(
                    &parts,
                    vec![
                        ("ticket_id", id()),
                        ("record_no", no.clone()),
                        ("part_number", Val::Text(part.clone())),
                    ],
                )
                .on_conflict(Conflict::Ignore),
            );
        }
        let relevant = r.relevant();
        out.push(Write::row(
            &failures,
            vec![
                ("ticket_id", id()),
                ("record_no", no),
                ("signal", Val::Text(r.signal.as_str().to_owned())),
                ("occurred_at", Val::Time(r.occurred_at)),
                ("failed_on", Val::Text(r.failed_on.to_string())),
                ("product_model", Val::Text(r.product_model)),
                ("serial", Val::Text(r.serial)),
                ("batch", Val::OptText(r.batch)),
                ("failure_mode", Val::Text(r.failure_mode)),
                ("symptom", Val::Text(r.symptom)),
                ("failed_parts", Val::Text(r.failed_parts.join(","))),
                ("root_cause", Val::OptText(r.root_cause)),
                (
                    "responsible_department",
                    Val::OptText(r.responsible_department),
                ),
                ("operating_days", Val::OptInt(r.operating_days)),
                ("no_fault_found", flag(r.no_fault_found)),
                ("misuse", flag(r.misuse)),
                ("relevant", flag(relevant)),
                ("cycle", Val::Int(i64::from(r.cycle))),
            ],
        ));
    }
    out
}

/// The statements that replace one corrective action's rows.
fn replace_action(at: &Target, action_id: &str, a: &CorrectiveAction) -> Statements {
    let tables = [
        "fracas_action_scope",
        "fracas_actions",
        "fracas_action_plan",
        "fracas_action_links",
    ];
    let ([scope, actions, plan, links], mut out) = cleared(at, tables, "action_id", action_id);
    let id = || Val::Text(action_id.to_owned());
    let Some(opened) = a.steps.first() else {
        return out;
    };
    let closed = a.steps.iter().find(|s| s.step == ActionStatus::Closed);
    out.push(Write::row(
        &actions,
        vec![
            ("action_id", id()),
            (
                "title",
                Val::Text(
                    a.title
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                ),
            ),
            ("status", Val::Text(a.status.as_str().to_owned())),
            (
                "verification_window_days",
                Val::Int(i64::from(a.verification_window_days)),
            ),
            (
                "root_cause",
                Val::OptText(a.root_cause.map(|r| r.as_str().to_owned())),
            ),
            (
                "implemented_on",
                Val::OptText(a.implemented_on.map(|d| d.to_string())),
            ),
            (
                "window_to",
                Val::OptText(a.window().map(|(_, to)| to.to_string())),
            ),
            ("opened_at", Val::Time(opened.at)),
            ("opened_by", Val::Text(opened.by.to_string())),
            ("closed_at", Val::OptTime(closed.map(|s| s.at))),
            ("closed_by", Val::OptText(closed.map(|s| s.by.to_string()))),
            (
                "version",
                Val::Int(i64::try_from(a.version).unwrap_or(i64::MAX)),
            ),
        ],
    ));
    for (d, p) in &a.eight_d.plan {
        out.push(Write::row(
            &plan,
            vec![
                ("action_id", id()),
                ("discipline", Val::Text(d.as_str().to_owned())),
                ("owner", Val::Text(p.owner.to_string())),
                ("due_on", Val::Text(p.due_on.to_string())),
                ("done", flag(a.done(*d))),
            ],
        ));
    }
    for t in &a.eight_d.linked_tickets {
        out.push(Write::row(
            &links,
            vec![("action_id", id()), ("ticket_id", Val::Text(t.clone()))],
        ));
    }
    for (kind, values) in [("mode", &a.failure_modes), ("model", &a.models)] {
        for v in values {
            out.push(Write::row(
                &scope,
                vec![
                    ("action_id", id()),
                    ("kind", Val::Text(kind.to_owned())),
                    ("value", Val::Text(v.to_string())),
                ],
            ));
        }
    }
    out
}
