//! The 8D of the `Fracas` service (issue #19): parsing the 8D commands and
//! showing the plan; the rules are `domain::capa::eight_d`.

use chrono::NaiveDate;
use domain::capa::{ActionCommand, CorrectiveAction, Discipline, EightDCommand};
use domain::values::{Problem, ValueError};

use super::parse as p;
use super::pb;

/// Most tickets linked in one call.
const MAX_LINKS: usize = 100;

fn discipline(raw: &str) -> Result<Discipline, ValueError> {
    Discipline::parse(raw.trim()).ok_or_else(|| {
        Problem::Malformed(format!("must be one of d1_team … d8_closure, got {raw:?}"))
            .at("discipline")
    })
}

pub fn plan(m: &pb::PlanActionStepRequest) -> Result<ActionCommand, ValueError> {
    Ok(ActionCommand::EightD(EightDCommand::PlanStep {
        discipline: discipline(&m.discipline)?,
        owner: p::actor_id("owner_id", &m.owner_id)?,
        due_on: p::date("due_on", &m.due_on)?,
    }))
}

pub fn record(m: &pb::RecordActionStepRequest) -> Result<ActionCommand, ValueError> {
    Ok(ActionCommand::EightD(EightDCommand::RecordStep {
        discipline: discipline(&m.discipline)?,
        content: p::text("content", &m.content)?,
        team: m
            .team
            .iter()
            .enumerate()
            .map(|(i, t)| p::actor_id(&format!("team[{i}]"), t))
            .collect::<Result<_, _>>()?,
    }))
}

pub fn link(m: &pb::LinkFailuresRequest) -> Result<ActionCommand, ValueError> {
    if m.ticket_ids.len() > MAX_LINKS {
        return Err(Problem::Malformed("must hold at most 100 ids".into()).at("ticket_ids"));
    }
    Ok(ActionCommand::EightD(EightDCommand::LinkFailures {
        ticket_ids: m
            .ticket_ids
            .iter()
            .enumerate()
            .map(|(i, t)| p::ticket_id(&format!("ticket_ids[{i}]"), t))
            .collect::<Result<_, _>>()?,
    }))
}

/// D1 to D8 as the action shows them on `today`.
pub fn disciplines(a: &CorrectiveAction, today: NaiveDate) -> Vec<pb::EightDStep> {
    let late: Vec<Discipline> = a.overdue(today).into_iter().map(|(d, _)| d).collect();
    Discipline::ALL
        .into_iter()
        .map(|d| {
            let planned = a.eight_d.plan.get(&d);
            pb::EightDStep {
                discipline: d.as_str().to_owned(),
                owner_id: planned.map(|s| s.owner.to_string()).unwrap_or_default(),
                due_on: planned.map(|s| s.due_on.to_string()).unwrap_or_default(),
                done: a.done(d),
                overdue: late.contains(&d),
                content: a
                    .eight_d
                    .records
                    .get(&d)
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            }
        })
        .collect()
}
