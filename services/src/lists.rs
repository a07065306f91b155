//! Lists read at query time from a few event types (found through the
//! `events_by_type` index), each ticket's events folded with the domain's
//! own fold, so a list and the ticket never disagree and never lag: the
//! items in the company's hands (`Custody::step`, issue #16.6) and the
//! open escalations the general manager sees (`Escalation::step`, #16.11).

use std::collections::BTreeMap;

use domain::ticket::custody::Custody;
use domain::ticket::escalation::Escalation;
use domain::TicketEvent;
use sqlx::Row;

use crate::store::Pool;

/// One item the company holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldItem {
    pub ticket_id: String,
    pub custody: Custody,
}

const POSTGRES: &str = "SELECT aggregate_id, event_type, event_version, payload FROM events \
     WHERE event_type = ANY($1) AND aggregate_type = 'Ticket' \
     ORDER BY aggregate_id, sequence";

const SQLITE: &str = "SELECT aggregate_id, event_type, event_version, payload FROM events \
     WHERE event_type IN (SELECT value FROM json_each($1)) AND aggregate_type = 'Ticket' \
     ORDER BY aggregate_id, sequence";

/// A stored event in its current shape (see `projections::log::current_value`).
fn decode(
    (event_type, version): (String, String),
    payload: serde_json::Value,
) -> Result<TicketEvent, sqlx::Error> {
    projections::log::decode_value(&event_type, &version, payload)
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// One ticket escalated in its current cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalated {
    pub ticket_id: String,
    pub escalation: Escalation,
}

/// Every item in custody, longest held first; only those at `location`
/// when it is given.
pub async fn held(db: &Pool, location: Option<&str>) -> Result<Vec<HeldItem>, sqlx::Error> {
    let events = events_of_types(db, Custody::EVENT_TYPES).await?;
    Ok(fold(events, location))
}

/// Every open escalation, oldest first.
pub async fn escalated(db: &Pool) -> Result<Vec<Escalated>, sqlx::Error> {
    let events = events_of_types(db, Escalation::EVENT_TYPES).await?;
    let mut by_ticket: BTreeMap<String, Option<Escalation>> = BTreeMap::new();
    for (ticket_id, event) in events {
        let slot = by_ticket.entry(ticket_id).or_default();
        *slot = Escalation::step(slot.take(), &event);
    }
    let mut open: Vec<Escalated> = by_ticket
        .into_iter()
        .filter_map(|(ticket_id, e)| {
            e.map(|escalation| Escalated {
                ticket_id,
                escalation,
            })
        })
        .collect();
    open.sort_by(|a, b| {
        (a.escalation.since, &a.ticket_id).cmp(&(b.escalation.since, &b.ticket_id))
    });
    Ok(open)
}

/// The ticket events of `types`, ticket by ticket in stream order.
async fn events_of_types(
    db: &Pool,
    types: &[&str],
) -> Result<Vec<(String, TicketEvent)>, sqlx::Error> {
    let types: Vec<String> = types.iter().map(|s| (*s).to_owned()).collect();
    let events: Vec<(String, TicketEvent)> = match db {
        Pool::Postgres(pool) => {
            let rows = sqlx::query(POSTGRES).bind(&types).fetch_all(pool).await?;
            rows.into_iter()
                .map(|r| {
                    Ok((
                        r.try_get("aggregate_id")?,
                        decode(
                            (r.try_get("event_type")?, r.try_get("event_version")?),
                            r.try_get("payload")?,
                        )?,
                    ))
                })
                .collect::<Result<_, sqlx::Error>>()?
        }
        Pool::Sqlite(pool) => {
            let list = serde_json::Value::from(types).to_string();
            let rows = sqlx::query(SQLITE).bind(list).fetch_all(pool).await?;
            rows.into_iter()
                .map(|r| {
                    let payload: String = r.try_get("payload")?;
                    let value = serde_json::from_str(&payload)
                        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                    let shape = (r.try_get("event_type")?, r.try_get("event_version")?);
                    Ok((r.try_get("aggregate_id")?, decode(shape, value)?))
                })
                .collect::<Result<_, sqlx::Error>>()?
        }
    };
    Ok(events)
}

/// Folds each ticket's custody events, in stream order, into what is held.
fn fold(events: Vec<(String, TicketEvent)>, location: Option<&str>) -> Vec<HeldItem> {
    let mut by_ticket: BTreeMap<String, Option<Custody>> = BTreeMap::new();
    for (ticket_id, event) in events {
        let slot = by_ticket.entry(ticket_id).or_default();
        *slot = Custody::step(slot.take(), &event);
    }
    let mut held: Vec<HeldItem> = by_ticket
        .into_iter()
        .filter_map(|(ticket_id, custody)| custody.map(|custody| HeldItem { ticket_id, custody }))
        .filter(|h| location.is_none_or(|l| h.custody.location.as_str() == l))
        .collect();
    held.sort_by(|a, b| (a.custody.since, &a.ticket_id).cmp(&(b.custody.since, &b.ticket_id)));
    held
}
