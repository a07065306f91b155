//! Durable named consumers: positions kept on the server, work split
//! between the streams that share a name, redelivery after a time-out.
//!
//! Invariants (tables in `migrations/*/20261201000501_consumers.sql`):
//! - Every change to a consumer first locks its `consumer_groups` row (an
//!   `UPDATE` of it), so claims, acknowledgements and releases of one
//!   consumer are serialised across every process on the store.
//! - A matching event past `claimed_through` is leased to exactly one
//!   member stream at a time; it leaves `consumer_leases` only when
//!   acknowledged. A lease past its deadline is leased again (delivered at
//!   least once).
//! - `acked_through` is one below the oldest lease (or `claimed_through`
//!   when none): every event up to it is acknowledged.

use projections::db::{Cells, Tx, Val};
use projections::log::RawEvent;
use serde::{Deserialize, Serialize};

use crate::store::Pool;

/// Events read from the log at a time when looking for matching ones, and
/// how many such reads one claim makes at most (it holds the consumer's
/// lock meanwhile).
const SCAN: i64 = 1_000;
const SCANS: usize = 10;

/// What a subscriber receives (a named consumer's is fixed when it is
/// made). Invariant: each list is sorted and without repeats, whether made
/// by [`ConsumerFilter::new`] or read back from the store (`serde(from)`),
/// so equal filters compare equal and [`ConsumerFilter::matches`] can
/// search them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Lists")]
pub struct ConsumerFilter {
    event_types: Vec<String>,
    ticket_ids: Vec<String>,
    product_models: Vec<String>,
}

/// A filter as stored, before its lists are put in order.
#[derive(Deserialize)]
struct Lists {
    event_types: Vec<String>,
    ticket_ids: Vec<String>,
    product_models: Vec<String>,
}

impl From<Lists> for ConsumerFilter {
    fn from(l: Lists) -> Self {
        Self::new(l.event_types, l.ticket_ids, l.product_models)
    }
}

impl ConsumerFilter {
    /// The lists (event types, ticket ids, product models), each in order.
    pub fn into_lists(self) -> (Vec<String>, Vec<String>, Vec<String>) {
        (self.event_types, self.ticket_ids, self.product_models)
    }

    /// Sorted and deduplicated, so equal filters compare equal.
    pub fn new(
        mut event_types: Vec<String>,
        mut ticket_ids: Vec<String>,
        mut product_models: Vec<String>,
    ) -> Self {
        for list in [&mut event_types, &mut ticket_ids, &mut product_models] {
            list.sort();
            list.dedup();
        }
        Self {
            event_types,
            ticket_ids,
            product_models,
        }
    }

    /// Whether `e` is asked for: each list empty or holding its value. The
    /// metadata is read only when a product model is asked for
    /// (unreadable metadata matches no model).
    pub fn matches(&self, e: &RawEvent) -> bool {
        let ok = |list: &[String], value: &str| {
            list.is_empty() || list.binary_search_by(|v| v.as_str().cmp(value)).is_ok()
        };
        ok(&self.event_types, &e.event_type)
            && ok(&self.ticket_ids, &e.ticket_id)
            && (self.product_models.is_empty() || ok(&self.product_models, &e.product_model()))
    }
}

/// A consumer as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    pub name: String,
    /// The actor that made it.
    pub owner: String,
    pub filter: ConsumerFilter,
    pub ack_timeout_ms: i64,
    pub acked_through: i64,
    pub in_flight: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("consumer {0} does not exist")]
    NotFound(String),
    #[error("consumer {name} exists with other filters ({existing}); subscribe with the same ones or choose another name")]
    OtherFilter { name: String, existing: String },
    #[error("event store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("consumer {name} has an unreadable stored filter: {error}")]
    Corrupt { name: String, error: String },
    #[error("consumer {name} belongs to {owner}: only its owner (or a service manager) may subscribe under its name or acknowledge for it")]
    NotOwner { name: String, owner: String },
    #[error("{owner} already owns {max} named consumers, the most one actor may; reuse one")]
    TooMany { owner: String, max: i64 },
}

/// The most named consumers one actor may own.
pub const MAX_PER_OWNER: i64 = 16;

/// Who is acting on a consumer: its owner-to-be, and whether they manage
/// every consumer (`crate::access::manages_consumers`).
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    pub actor: &'a str,
    pub manager: bool,
}

/// Refuses `holder` on consumer `name` unless it owns it or manages every
/// consumer; a consumer made before owners existed is adopted by its
/// first holder. Inside the consumer's lock.
async fn check_owner(tx: &mut Tx, name: &str, holder: Holder<'_>) -> Result<(), ConsumerError> {
    tx.run(
        "UPDATE consumer_groups SET owner = $2 WHERE name = $1 AND owner = ''",
        vec![
            Val::Text(name.to_owned()),
            Val::Text(holder.actor.to_owned()),
        ],
    )
    .await?;
    let rows = tx
        .texts(
            "SELECT owner FROM consumer_groups WHERE name = $1",
            vec![Val::Text(name.to_owned())],
        )
        .await?;
    let owner = rows.first().map(|r| text(r, 0)).unwrap_or_default();
    if owner == holder.actor || holder.manager {
        Ok(())
    } else {
        Err(ConsumerError::NotOwner {
            name: name.to_owned(),
            owner,
        })
    }
}

fn int(cells: &Cells, i: usize) -> i64 {
    cells
        .get(i)
        .cloned()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn text(cells: &Cells, i: usize) -> String {
    cells.get(i).cloned().flatten().unwrap_or_default()
}

/// Locks consumer `name` for this transaction and returns
/// `(claimed_through, filter, ack_timeout_ms)`.
async fn lock(tx: &mut Tx, name: &str) -> Result<(i64, ConsumerFilter, i64), ConsumerError> {
    let changed = tx
        .run(
            "UPDATE consumer_groups SET claimed_through = claimed_through WHERE name = $1",
            vec![Val::Text(name.to_owned())],
        )
        .await?;
    if changed == 0 {
        return Err(ConsumerError::NotFound(name.to_owned()));
    }
    let rows = tx
        .texts(
            "SELECT CAST(claimed_through AS TEXT), filter, CAST(ack_timeout_ms AS TEXT) \
             FROM consumer_groups WHERE name = $1",
            vec![Val::Text(name.to_owned())],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| ConsumerError::NotFound(name.to_owned()))?;
    let filter = serde_json::from_str(&text(row, 1)).map_err(|e| ConsumerError::Corrupt {
        name: name.to_owned(),
        error: e.to_string(),
    })?;
    Ok((int(row, 0), filter, int(row, 2)))
}

/// Moves `acked_through` to one below the oldest lease, or to
/// `claimed_through` when nothing is in flight.
async fn settle(tx: &mut Tx, name: &str) -> Result<i64, ConsumerError> {
    tx.run(
        "UPDATE consumer_groups SET acked_through = COALESCE( \
           (SELECT MIN(position) - 1 FROM consumer_leases WHERE name = $1), claimed_through) \
         WHERE name = $1",
        vec![Val::Text(name.to_owned())],
    )
    .await?;
    let rows = tx
        .texts(
            "SELECT CAST(acked_through AS TEXT) FROM consumer_groups WHERE name = $1",
            vec![Val::Text(name.to_owned())],
        )
        .await?;
    Ok(rows.first().map_or(0, |r| int(r, 0)))
}

/// Makes consumer `name`, owned by `holder`, if it does not exist
/// (starting after `from`; at most [`MAX_PER_OWNER`] per owner), or checks
/// an existing one is the holder's and has the same filter.
pub async fn open(
    db: &Pool,
    name: &str,
    holder: Holder<'_>,
    filter: &ConsumerFilter,
    ack_timeout_ms: i64,
    from: i64,
) -> Result<(), ConsumerError> {
    let json = serde_json::to_string(filter).map_err(|e| ConsumerError::Corrupt {
        name: name.to_owned(),
        error: e.to_string(),
    })?;
    // Written either way: on SQLite the write lock is taken first, so the
    // owner's count stays true until the insert.
    let mut tx = db.begin_write().await?;
    let known = tx
        .texts(
            "SELECT name FROM consumer_groups WHERE name = $1",
            vec![Val::Text(name.to_owned())],
        )
        .await?;
    if known.is_empty() {
        let owned = tx
            .texts(
                "SELECT CAST(COUNT(*) AS TEXT) FROM consumer_groups WHERE owner = $1",
                vec![Val::Text(holder.actor.to_owned())],
            )
            .await?;
        if owned.first().map_or(0, |r| int(r, 0)) >= MAX_PER_OWNER {
            return Err(ConsumerError::TooMany {
                owner: holder.actor.to_owned(),
                max: MAX_PER_OWNER,
            });
        }
    }
    tx.run(
        "INSERT INTO consumer_groups (name, filter, ack_timeout_ms, claimed_through, acked_through, owner) \
         VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (name) DO NOTHING",
        vec![
            Val::Text(name.to_owned()),
            Val::Text(json.clone()),
            Val::Int(ack_timeout_ms),
            Val::Int(from),
            Val::Text(holder.actor.to_owned()),
        ],
    )
    .await?;
    let (_, existing, _) = lock(&mut tx, name).await?;
    check_owner(&mut tx, name, holder).await?;
    if existing != *filter {
        return Err(ConsumerError::OtherFilter {
            name: name.to_owned(),
            existing: serde_json::to_string(&existing).unwrap_or_default(),
        });
    }
    tx.commit().await?;
    Ok(())
}

/// Leases up to `room` events to `member`: first leases whose deadline
/// passed, then matching events past `claimed_through`. Returns them in
/// position order.
pub async fn claim(
    db: &Pool,
    name: &str,
    member: &str,
    room: i64,
    now_ms: i64,
) -> Result<Vec<RawEvent>, ConsumerError> {
    let mut tx = db.begin().await?;
    let (claimed, filter, timeout) = lock(&mut tx, name).await?;
    let deadline = now_ms + timeout;
    let expired = tx
        .texts(
            "SELECT CAST(position AS TEXT) FROM consumer_leases \
             WHERE name = $1 AND deadline_ms < $2 ORDER BY position LIMIT $3",
            vec![Val::Text(name.to_owned()), Val::Int(now_ms), Val::Int(room)],
        )
        .await?;
    let mut positions: Vec<i64> = expired.iter().map(|r| int(r, 0)).collect();
    if let Some(last) = positions.last() {
        tx.run(
            "UPDATE consumer_leases SET member = $2, deadline_ms = $3, deliveries = deliveries + 1 \
             WHERE name = $1 AND deadline_ms < $4 AND position <= $5",
            vec![
                Val::Text(name.to_owned()),
                Val::Text(member.to_owned()),
                Val::Int(deadline),
                Val::Int(now_ms),
                Val::Int(*last),
            ],
        )
        .await?;
    }
    let mut events = Vec::new();
    for p in &positions {
        events.extend(tx.read(p - 1, 1).await?);
    }
    let mut through = claimed;
    for _ in 0..SCANS {
        if (events.len() as i64) >= room {
            break;
        }
        let scanned = tx.read(through, SCAN).await?;
        let Some(end) = scanned.last().map(|e| e.log_position) else {
            break;
        };
        for e in scanned {
            if (events.len() as i64) >= room {
                break;
            }
            through = e.log_position;
            if filter.matches(&e) {
                tx.run(
                    "INSERT INTO consumer_leases (name, position, member, deadline_ms, deliveries) \
                     VALUES ($1, $2, $3, $4, 1)",
                    vec![
                        Val::Text(name.to_owned()),
                        Val::Int(e.log_position),
                        Val::Text(member.to_owned()),
                        Val::Int(deadline),
                    ],
                )
                .await?;
                positions.push(e.log_position);
                events.push(e);
            }
        }
        if through < end {
            break;
        }
    }
    if through != claimed {
        tx.run(
            "UPDATE consumer_groups SET claimed_through = $2 WHERE name = $1",
            vec![Val::Text(name.to_owned()), Val::Int(through)],
        )
        .await?;
        settle(&mut tx, name).await?;
    }
    tx.commit().await?;
    events.sort_by_key(|e| e.log_position);
    Ok(events)
}

/// Acknowledges `positions`; returns how many were awaiting it and where
/// the consumer's acknowledged prefix ends.
pub async fn ack(
    db: &Pool,
    name: &str,
    holder: Holder<'_>,
    positions: &[i64],
) -> Result<(u32, i64), ConsumerError> {
    let mut tx = db.begin().await?;
    lock(&mut tx, name).await?;
    check_owner(&mut tx, name, holder).await?;
    let mut acknowledged = 0_u32;
    for p in positions {
        let gone = tx
            .run(
                "DELETE FROM consumer_leases WHERE name = $1 AND position = $2",
                vec![Val::Text(name.to_owned()), Val::Int(*p)],
            )
            .await?;
        acknowledged += u32::try_from(gone).unwrap_or(0);
    }
    let through = settle(&mut tx, name).await?;
    tx.commit().await?;
    Ok((acknowledged, through))
}

/// Whether consumer `name` has anything to claim at `now_ms`: log events
/// past what it claimed, or a lease whose deadline passed. A look without
/// locks or writes, so an idle member stream costs one read per look
/// instead of a locking, writing claim.
pub async fn due(db: &Pool, name: &str, now_ms: i64) -> Result<bool, ConsumerError> {
    let rows: Vec<(bool,)> = db
        .fetch(
            "SELECT COALESCE((SELECT claimed_through FROM consumer_groups WHERE name = $1), 0)
                    < (SELECT COALESCE(MAX(log_position), 0) FROM event_log)
                 OR EXISTS (SELECT 1 FROM consumer_leases WHERE name = $1 AND deadline_ms < $2)",
            vec![Val::Text(name.to_owned()), Val::Int(now_ms)],
        )
        .await?;
    Ok(rows.first().is_some_and(|r| r.0))
}

/// How many events `member` holds unacknowledged within their deadline
/// (an expired one is due again, to whichever stream has room).
pub async fn held(db: &Pool, name: &str, member: &str, now_ms: i64) -> Result<i64, ConsumerError> {
    let rows = db
        .texts(
            "SELECT CAST(COUNT(*) AS TEXT) FROM consumer_leases \
             WHERE name = $1 AND member = $2 AND deadline_ms >= $3",
            vec![
                Val::Text(name.to_owned()),
                Val::Text(member.to_owned()),
                Val::Int(now_ms),
            ],
        )
        .await?;
    Ok(rows.first().map_or(0, |r| int(r, 0)))
}

/// A member stream ended: its unacknowledged events are due again now.
pub async fn release(db: &Pool, name: &str, member: &str) -> Result<(), ConsumerError> {
    let mut tx = db.begin().await?;
    lock(&mut tx, name).await?;
    tx.run(
        "UPDATE consumer_leases SET deadline_ms = 0 WHERE name = $1 AND member = $2",
        vec![Val::Text(name.to_owned()), Val::Text(member.to_owned())],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every consumer, by name.
pub async fn list(db: &Pool) -> Result<Vec<Consumer>, ConsumerError> {
    let rows = db
        .texts(
            "SELECT g.name, g.filter, CAST(g.ack_timeout_ms AS TEXT), CAST(g.acked_through AS TEXT), \
                    CAST((SELECT COUNT(*) FROM consumer_leases l WHERE l.name = g.name) AS TEXT), g.owner \
             FROM consumer_groups g ORDER BY g.name",
            vec![],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let name = text(r, 0);
            let filter = serde_json::from_str(&text(r, 1)).map_err(|e| ConsumerError::Corrupt {
                name: name.clone(),
                error: e.to_string(),
            })?;
            Ok(Consumer {
                name,
                owner: text(r, 5),
                filter,
                ack_timeout_ms: int(r, 2),
                acked_through: int(r, 3),
                in_flight: int(r, 4),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event(event_type: &str, ticket_id: &str) -> RawEvent {
        RawEvent {
            log_position: 1,
            event_id: "e1".into(),
            aggregate_type: "Ticket".into(),
            ticket_id: ticket_id.into(),
            sequence: 1,
            event_type: event_type.into(),
            event_version: "1".into(),
            payload: "{}".into(),
            metadata: r#"{"product_model":"WM-800"}"#.into(),
            recorded_at: chrono::DateTime::UNIX_EPOCH,
            occurred_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_filter_stored_out_of_order_reads_back_as_the_one_made_in_order() {
        // Given a filter's stored JSON with its lists out of order and repeated.
        let stored = r#"{"event_types":["TicketClosed","QcPassed","TicketClosed"],
            "ticket_ids":[],"product_models":["WM-900","WM-800"]}"#;
        // When it is read back.
        let read: ConsumerFilter = serde_json::from_str(stored).expect("reads");
        // Then it is the filter made from the same lists, and it matches by them.
        let made = ConsumerFilter::new(
            strings(&["QcPassed", "TicketClosed"]),
            vec![],
            strings(&["WM-800", "WM-900"]),
        );
        assert_eq!(read, made);
        assert!(read.matches(&event("QcPassed", "T-1")));
        assert!(!read.matches(&event("TicketReceived", "T-1")));
    }

    #[test]
    fn an_empty_filter_matches_every_event() {
        let all = ConsumerFilter::default();
        assert!(all.matches(&event("TicketReceived", "T-1")));
    }

    #[test]
    fn a_product_model_is_read_from_the_metadata() {
        let other = ConsumerFilter::new(vec![], vec![], strings(&["WM-900"]));
        assert!(!other.matches(&event("TicketReceived", "T-1")));
        let same = ConsumerFilter::new(vec![], vec![], strings(&["WM-800"]));
        assert!(same.matches(&event("TicketReceived", "T-1")));
    }

    proptest! {
        /// Matching is "each list empty or holding the event's value",
        /// whatever order and repeats the lists were given in.
        #[test]
        fn matching_is_membership_in_each_list(
            types in prop::collection::vec("[a-c]{1,2}", 0..6),
            ids in prop::collection::vec("[a-c]{1,2}", 0..6),
            event_type in "[a-c]{1,2}",
            ticket_id in "[a-c]{1,2}",
        ) {
            let filter = ConsumerFilter::new(types.clone(), ids.clone(), vec![]);
            let within = |list: &[String], v: &String| list.is_empty() || list.contains(v);
            let expected = within(&types, &event_type) && within(&ids, &ticket_id);
            prop_assert_eq!(filter.matches(&event(&event_type, &ticket_id)), expected);
        }
    }
}
