//! `EventLog` for durable named consumers: a member stream's feed, `Ack`
//! and `ListConsumers` (the storage rules are in `crate::consumers`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tonic::Status;

use super::events::{heartbeat, messages, send, send_all};
use super::pb;
use super::status::{from_sqlx, invalid_field};
use crate::access;
use crate::consumers::{self, ConsumerError, ConsumerFilter, Holder};
use crate::privacy::Keyring;
use crate::store::Pool;
use domain::Actor;

/// How often a member looks for redeliveries and for room freed by acks
/// made on another process.
const LOOK: Duration = Duration::from_millis(200);
const MAX_ACKS: usize = 1_000;

/// A parsed named subscription.
#[derive(Debug, Clone)]
pub struct Named {
    pub name: String,
    pub ack_timeout_ms: i64,
    pub max_in_flight: i64,
}

/// A consumer name: 1-100 characters of `A-Z a-z 0-9 _ - .`.
pub fn consumer_name(field: &str, name: &str) -> Result<String, Status> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(invalid_field(
            field,
            "must be 1 to 100 characters of A-Z, a-z, 0-9, _, - and .",
        ))
    }
}

impl Named {
    /// `None` when the request names no consumer.
    pub fn parse(m: &pb::SubscribeRequest) -> Result<Option<Self>, Status> {
        if m.consumer_name.is_empty() {
            if m.ack_timeout_seconds != 0 || m.max_in_flight != 0 {
                return Err(invalid_field(
                    "consumer_name",
                    "is needed for ack_timeout_seconds and max_in_flight",
                ));
            }
            return Ok(None);
        }
        let name = consumer_name("consumer_name", &m.consumer_name)?;
        let ack_timeout_ms = match m.ack_timeout_seconds {
            0 => 30_000,
            s @ 1..=3600 => i64::from(s) * 1_000,
            _ => {
                return Err(invalid_field(
                    "ack_timeout_seconds",
                    "must be between 1 and 3600",
                ))
            }
        };
        let max_in_flight = match m.max_in_flight {
            0 => 100,
            n @ 1..=1000 => i64::from(n),
            _ => return Err(invalid_field("max_in_flight", "must be between 1 and 1000")),
        };
        Ok(Some(Self {
            name,
            ack_timeout_ms,
            max_in_flight,
        }))
    }
}

pub fn from_consumer(error: ConsumerError) -> Status {
    match error {
        ConsumerError::NotFound(_) => Status::not_found(error.to_string()),
        ConsumerError::OtherFilter { .. } => Status::failed_precondition(error.to_string()),
        ConsumerError::Store(e) => from_sqlx(e),
        ConsumerError::Corrupt { .. } => Status::internal(error.to_string()),
        ConsumerError::NotOwner { .. } => Status::permission_denied(error.to_string()),
        ConsumerError::TooMany { .. } => Status::resource_exhausted(error.to_string()),
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Makes or joins the consumer (before the stream is answered, so a
/// refusal is the call's status).
pub async fn open(
    db: &Pool,
    actor: &Actor,
    named: &Named,
    filter: &ConsumerFilter,
    from: i64,
) -> Result<(), Status> {
    if !access::keeps_consumers(actor.role) {
        return Err(Status::permission_denied(format!(
            "consumer_name: role {} changes nothing, and a named consumer is kept state; subscribe without a name",
            actor.role
        )));
    }
    let holder = holder(actor);
    consumers::open(db, &named.name, holder, filter, named.ack_timeout_ms, from)
        .await
        .map_err(from_consumer)
}

/// The caller as a consumer's holder.
fn holder(actor: &Actor) -> Holder<'_> {
    Holder {
        actor: actor.id.as_str(),
        manager: access::manages_consumers(actor.role),
    }
}

/// Feeds one member stream of a named consumer until it goes away; then
/// its unacknowledged events are due again at once.
pub async fn feed(
    db: Pool,
    keyring: Option<Arc<Keyring>>,
    mut head: watch::Receiver<i64>,
    named: Named,
    typed: bool,
    beat: Duration,
    out: mpsc::Sender<Result<pb::SubscribeResponse, Status>>,
) {
    let member = uuid::Uuid::new_v4().simple().to_string();
    let mut last_sent = tokio::time::Instant::now();
    loop {
        head.borrow_and_update();
        let step = async {
            let now = now_ms();
            let held = consumers::held(&db, &named.name, &member, now).await?;
            let room = named.max_in_flight - held;
            if room <= 0 || !consumers::due(&db, &named.name, now).await? {
                return Ok(Vec::new());
            }
            consumers::claim(&db, &named.name, &member, room, now).await
        };
        let batch = match step.await {
            Ok(batch) => batch,
            Err(error) => {
                send(&out, &mut head, Err(from_consumer(error))).await;
                break;
            }
        };
        let delivered = !batch.is_empty();
        let opened = messages(keyring.as_deref(), batch, typed).await;
        let sent = send_all(&out, &mut head, opened, &mut last_sent).await;
        if !sent {
            release(&db, &named.name, &member).await;
            return;
        }
        if delivered {
            continue;
        }
        let until_beat = beat.saturating_sub(last_sent.elapsed());
        tokio::select! {
            changed = head.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            _ = tokio::time::sleep(LOOK.min(until_beat)) => {
                if last_sent.elapsed() >= beat {
                    let position = *head.borrow();
                    if !send(&out, &mut head, Ok(heartbeat(position))).await {
                        break;
                    }
                    last_sent = tokio::time::Instant::now();
                }
            }
            _ = out.closed() => break,
        }
    }
    release(&db, &named.name, &member).await;
}

async fn release(db: &Pool, name: &str, member: &str) {
    if let Err(error) = consumers::release(db, name, member).await {
        tracing::warn!(consumer = name, %error, "cannot release a stream's events; they come back after the ack timeout");
    }
}

pub async fn ack(db: &Pool, actor: &Actor, m: pb::AckRequest) -> Result<pb::AckResponse, Status> {
    let name = consumer_name("consumer_name", &m.consumer_name)?;
    if m.positions.is_empty() || m.positions.len() > MAX_ACKS {
        return Err(invalid_field(
            "positions",
            &format!("must hold 1 to {MAX_ACKS} positions"),
        ));
    }
    let positions =
        m.positions
            .iter()
            .enumerate()
            .map(|(i, p)| {
                i64::try_from(*p).ok().filter(|p| *p > 0).ok_or_else(|| {
                    invalid_field(&format!("positions[{i}]"), "must be a log position")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
    let (acknowledged, through) = consumers::ack(db, &name, holder(actor), &positions)
        .await
        .map_err(from_consumer)?;
    Ok(pb::AckResponse {
        acknowledged,
        acked_through: u64::try_from(through).unwrap_or_default(),
    })
}

/// The caller's own consumers; every consumer to a role that oversees
/// them (`access::lists_all_consumers`).
pub async fn list(db: &Pool, actor: &Actor) -> Result<pb::ConsumerList, Status> {
    let mut all = consumers::list(db).await.map_err(from_consumer)?;
    if !access::lists_all_consumers(actor.role) {
        all.retain(|c| c.owner == actor.id.as_str());
    }
    let head = db.head().await.map_err(from_sqlx)?;
    Ok(pb::ConsumerList {
        consumers: all
            .into_iter()
            .map(|c| {
                let (event_types, ticket_ids, product_models) = c.filter.into_lists();
                pb::ConsumerStatus {
                    lag: u64::try_from(head - c.acked_through).unwrap_or_default(),
                    acked_through: u64::try_from(c.acked_through).unwrap_or_default(),
                    in_flight: u32::try_from(c.in_flight).unwrap_or(u32::MAX),
                    ack_timeout_seconds: u32::try_from(c.ack_timeout_ms / 1_000)
                        .unwrap_or(u32::MAX),
                    event_types,
                    ticket_ids,
                    product_models,
                    name: c.name,
                    owner: c.owner,
                }
            })
            .collect(),
    })
}
