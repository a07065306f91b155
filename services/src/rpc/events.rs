//! The `EventLog` service: subscriptions from any position, and lag.

use std::sync::Arc;
use std::time::Duration;

use projections::log::RawEvent;

use crate::privacy::Keyring;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::parse::to_timestamp;
use super::pb;
use super::pb::event_log_server::EventLog;
use super::status::{from_sqlx, invalid_field};
use crate::consumers::ConsumerFilter;
use crate::store::Pool;

/// Messages buffered per subscriber; a full buffer pauses only that
/// subscriber's reader.
const BUFFER: usize = 512;
const READ_BATCH: i64 = 1_000;
const MAX_FILTER: usize = 100;

#[derive(Debug, Clone)]
pub struct EventLogService {
    db: Pool,
    head: watch::Receiver<i64>,
    /// Opens the personal fields subscribers get (docs/PRIVACY.md).
    keyring: Arc<Keyring>,
    /// Streams each actor holds open.
    quota: super::quota::StreamQuota,
}

impl EventLogService {
    pub fn new(db: Pool, head: watch::Receiver<i64>, keyring: Arc<Keyring>) -> Self {
        Self {
            db,
            head,
            keyring,
            quota: super::quota::StreamQuota::default(),
        }
    }
}

/// What a subscriber asked to see: the events it wants (the rule named
/// consumers keep too) and in what form.
#[derive(Debug, Clone, Default)]
struct Filter {
    wanted: ConsumerFilter,
    /// The typed payload too, not only the stored JSON.
    typed: bool,
}

impl Filter {
    fn parse(m: &pb::SubscribeRequest) -> Result<Self, Status> {
        let list = |field: &str, items: &[String]| -> Result<Vec<String>, Status> {
            if items.len() > MAX_FILTER {
                return Err(invalid_field(
                    field,
                    &format!("must have at most {MAX_FILTER} entries"),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let s = s.trim();
                    if s.is_empty() || s.len() > 200 {
                        Err(invalid_field(
                            &format!("{field}[{i}]"),
                            "must be 1 to 200 characters",
                        ))
                    } else {
                        Ok(s.to_owned())
                    }
                })
                .collect()
        };
        Ok(Self {
            wanted: ConsumerFilter::new(
                list("event_types", &m.event_types)?,
                list("ticket_ids", &m.ticket_ids)?,
                list("product_models", &m.product_models)?,
            ),
            typed: !m.json_only,
        })
    }
}

/// The events as a subscriber gets them: each payload in the current
/// shape of its type (`event_version` says which) with its personal fields
/// opened (or erased: docs/PRIVACY.md), the keys looked up once for all;
/// or an error if this build cannot read a stored shape (a stream never
/// skips an event). `typed`: with the typed payload beside the JSON.
pub(super) async fn messages(
    keyring: Option<&Keyring>,
    events: Vec<RawEvent>,
    typed: bool,
) -> Result<Vec<pb::SubscribeResponse>, Status> {
    let current = events
        .into_iter()
        .map(RawEvent::into_current)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| Status::internal(err.to_string()))?;
    let opened = match keyring {
        Some(keyring) => crate::privacy::open_events(keyring, current)
            .await
            .map_err(|err| Status::internal(err.to_string()))?,
        None => current,
    };
    Ok(opened.into_iter().map(|e| message(e, typed)).collect())
}

/// One event, current and opened, as the proto carries it.
fn message(e: RawEvent, typed: bool) -> pb::SubscribeResponse {
    // Stored by ticketd as an object of strings; anything else (never
    // written) is sent as no fields rather than stopping the stream.
    let metadata = e.metadata_fields().unwrap_or_default();
    let payload = if typed {
        super::typed::payload(&e.aggregate_type, &e.payload)
    } else {
        None
    };
    pb::SubscribeResponse {
        message: Some(pb::subscribe_response::Message::Event(pb::LoggedEvent {
            position: u64::try_from(e.log_position).unwrap_or_default(),
            event_id: e.event_id,
            ticket_id: e.ticket_id,
            version: u64::try_from(e.sequence).unwrap_or_default(),
            r#type: event_type(&e.event_type) as i32,
            event_type: e.event_type,
            event_version: e.event_version,
            recorded_at: Some(to_timestamp(e.recorded_at)),
            occurred_at: Some(to_timestamp(e.occurred_at)),
            payload_json: e.payload,
            payload,
            metadata,
        })),
    }
}

/// The proto's `EventType` for a stored event type name (`QcPassed` →
/// `EVENT_TYPE_QC_PASSED`); unspecified for a name it does not list.
pub fn event_type(name: &str) -> pb::EventType {
    BY_NAME
        .get(name)
        .copied()
        .unwrap_or(pb::EventType::Unspecified)
}

/// Every listed `EventType` by the stored name it stands for, built once
/// (a subscription looks one up per event).
static BY_NAME: std::sync::LazyLock<std::collections::HashMap<String, pb::EventType>> =
    std::sync::LazyLock::new(|| {
        (1..1000)
            .filter_map(|n| pb::EventType::try_from(n).ok())
            .map(|t| (stored_name(t), t))
            .collect()
    });

/// The stored name an `EventType` stands for: `EVENT_TYPE_QC_PASSED` →
/// `QcPassed`.
fn stored_name(t: pb::EventType) -> String {
    let screaming = t.as_str_name().trim_start_matches("EVENT_TYPE_");
    screaming
        .split('_')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .into_iter()
                .chain(chars.flat_map(char::to_lowercase))
        })
        .collect()
}

pub(super) fn heartbeat(head: i64) -> pb::SubscribeResponse {
    pb::SubscribeResponse {
        message: Some(pb::subscribe_response::Message::Heartbeat(pb::Heartbeat {
            head_position: u64::try_from(head).unwrap_or_default(),
            at: Some(to_timestamp(chrono::Utc::now())),
        })),
    }
}

async fn read(db: &Pool, after: i64) -> Result<Vec<RawEvent>, sqlx::Error> {
    db.read(after, READ_BATCH).await
}

/// Sends `message` unless the server shuts down first (the head's sender
/// is dropped): a subscriber that stopped reading must not hold up a
/// shutdown. False: stop feeding.
pub(super) async fn send(
    out: &mpsc::Sender<Result<pb::SubscribeResponse, Status>>,
    head: &mut watch::Receiver<i64>,
    message: Result<pb::SubscribeResponse, Status>,
) -> bool {
    if head.has_changed().is_err() {
        return false;
    }
    // Room in the buffer: no future, no wake-up.
    let message = match out.try_send(message) {
        Ok(()) => return true,
        Err(mpsc::error::TrySendError::Closed(_)) => return false,
        Err(mpsc::error::TrySendError::Full(message)) => message,
    };
    let mut sending = std::pin::pin!(out.send(message));
    loop {
        tokio::select! {
            sent = &mut sending => return sent.is_ok(),
            changed = head.changed() => {
                if changed.is_err() {
                    return false;
                }
            }
        }
    }
}

/// Sends `messages` in order, or the error that stands for them; moves
/// `last_sent` with each. False: stop feeding (the subscriber left, the
/// server is shutting down, or an error was sent).
pub(super) async fn send_all(
    out: &mpsc::Sender<Result<pb::SubscribeResponse, Status>>,
    head: &mut watch::Receiver<i64>,
    messages: Result<Vec<pb::SubscribeResponse>, Status>,
    last_sent: &mut tokio::time::Instant,
) -> bool {
    match messages {
        Ok(messages) => {
            for m in messages {
                if !send(out, head, Ok(m)).await {
                    return false;
                }
                *last_sent = tokio::time::Instant::now();
            }
            true
        }
        Err(status) => {
            send(out, head, Err(status)).await;
            false
        }
    }
}

/// Feeds one subscriber until it goes away or the store fails.
async fn feed(
    db: Pool,
    keyring: Option<Arc<Keyring>>,
    mut head: watch::Receiver<i64>,
    filter: Filter,
    mut cursor: i64,
    beat: Duration,
    out: mpsc::Sender<Result<pb::SubscribeResponse, Status>>,
) {
    let mut last_sent = tokio::time::Instant::now();
    // The next batch, read while this one is sent.
    let mut ahead: Option<tokio::task::JoinHandle<Result<Vec<RawEvent>, sqlx::Error>>> = None;
    loop {
        head.borrow_and_update();
        let got = match ahead.take() {
            Some(next) => next
                .await
                .unwrap_or_else(|e| Err(sqlx::Error::Protocol(e.to_string()))),
            None => read(&db, cursor).await,
        };
        let batch = match got {
            Ok(batch) => batch,
            Err(error) => {
                send(&out, &mut head, Err(from_sqlx(error))).await;
                return;
            }
        };
        let full = batch.len() as i64 >= READ_BATCH;
        if let Some(last) = batch.last() {
            cursor = last.log_position;
        }
        if full {
            let db = db.clone();
            let after = cursor;
            ahead = Some(tokio::spawn(async move { read(&db, after).await }));
        }
        let matching = batch
            .into_iter()
            .filter(|e| filter.wanted.matches(e))
            .collect::<Vec<_>>();
        if !matching.is_empty() {
            let opened = messages(keyring.as_deref(), matching, filter.typed).await;
            if !send_all(&out, &mut head, opened, &mut last_sent).await {
                return;
            }
        }
        if full {
            continue;
        }
        let until_beat = beat.saturating_sub(last_sent.elapsed());
        tokio::select! {
            changed = head.changed() => {
                if changed.is_err() {
                    // The server is shutting down.
                    return;
                }
            }
            _ = tokio::time::sleep(until_beat) => {
                let position = *head.borrow();
                if !send(&out, &mut head, Ok(heartbeat(position))).await {
                    return;
                }
                last_sent = tokio::time::Instant::now();
            }
            _ = out.closed() => return,
        }
    }
}

#[tonic::async_trait]
impl EventLog for EventLogService {
    type SubscribeStream = ReceiverStream<Result<pb::SubscribeResponse, Status>>;

    async fn subscribe(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        // Personal fields in clear only where the caller's view is clear
        // (docs/SECURITY.md); sealed, as stored, for everyone else.
        let actor = super::parse::caller(&request)?;
        let grants = super::parse::grants(&request);
        let keyring =
            crate::access::subscription_opens(actor.role, grants).then(|| self.keyring.clone());
        let place = self.quota.take(actor.id.as_str())?;
        let m = request.into_inner();
        let filter = Filter::parse(&m)?;
        let from = i64::try_from(m.from_position)
            .map_err(|_| invalid_field("from_position", "is too large"))?;
        let beat = match m.heartbeat_seconds {
            0 => 15,
            s @ 1..=300 => s,
            _ => {
                return Err(invalid_field(
                    "heartbeat_seconds",
                    "must be between 1 and 300",
                ))
            }
        };
        let (tx, rx) = mpsc::channel(BUFFER);
        if let Some(named) = super::consumers::Named::parse(&m)? {
            super::consumers::open(&self.db, &actor, &named, &filter.wanted, from).await?;
            let fed = super::consumers::feed(
                self.db.clone(),
                keyring,
                self.head.clone(),
                named,
                filter.typed,
                Duration::from_secs(u64::from(beat)),
                tx,
            );
            tokio::spawn(async move {
                fed.await;
                drop(place);
            });
            return Ok(Response::new(ReceiverStream::new(rx)));
        }
        let fed = feed(
            self.db.clone(),
            keyring,
            self.head.clone(),
            filter,
            from,
            Duration::from_secs(u64::from(beat)),
            tx,
        );
        tokio::spawn(async move {
            fed.await;
            drop(place);
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn ack(
        &self,
        request: Request<pb::AckRequest>,
    ) -> Result<Response<pb::AckResponse>, Status> {
        let actor = super::parse::caller(&request)?;
        super::consumers::ack(&self.db, &actor, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn list_consumers(
        &self,
        request: Request<pb::ListConsumersRequest>,
    ) -> Result<Response<pb::ConsumerList>, Status> {
        let actor = super::parse::caller(&request)?;
        super::consumers::list(&self.db, &actor)
            .await
            .map(Response::new)
    }

    async fn get_log_status(
        &self,
        _request: Request<pb::GetLogStatusRequest>,
    ) -> Result<Response<pb::LogStatus>, Status> {
        let status = log_status(&self.db).await.map_err(from_sqlx)?;
        let backlog = projections::log::backlog::backlog(&self.db)
            .await
            .map_err(from_sqlx)?;
        Ok(Response::new(pb::LogStatus {
            unsequenced: u64::try_from(backlog.unsequenced).unwrap_or_default(),
            oldest_blocking: backlog.blocker.map(|b| pb::BlockingTransaction {
                pid: b.pid,
                database: b.database,
                age_seconds: u64::try_from(b.age_seconds).unwrap_or_default(),
                state: b.state,
            }),
            head_position: u64::try_from(status.head).unwrap_or_default(),
            projections: status
                .projections
                .into_iter()
                .map(|(name, position)| pb::ProjectionStatus {
                    name,
                    position: u64::try_from(position).unwrap_or_default(),
                    lag: u64::try_from(status.head - position).unwrap_or_default(),
                })
                .collect(),
        }))
    }
}

/// The log head and each projection's position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPositions {
    pub head: i64,
    pub projections: Vec<(String, i64)>,
}

pub async fn log_status(db: &Pool) -> Result<LogPositions, sqlx::Error> {
    let mut projections = Vec::new();
    for name in projections::engine::names() {
        projections.push((name.to_owned(), db.checkpoint(name).await?));
    }
    let head = db.head().await?;
    Ok(LogPositions { head, projections })
}

#[cfg(test)]
mod tests {
    use super::*;
    use projections::sla::alerts::Alert;

    fn every_stored_name() -> Vec<&'static str> {
        let mut names = domain::TicketEvent::NAMES.to_vec();
        names.extend_from_slice(domain::ActionEvent::NAMES);
        names.extend_from_slice(domain::personal::CustomerEvent::NAMES);
        names.extend([Alert::AT_RISK, Alert::BREACHED]);
        names
    }

    #[test]
    fn every_event_type_the_log_can_hold_is_in_the_proto_catalogue() {
        for name in every_stored_name() {
            assert_ne!(
                event_type(name),
                pb::EventType::Unspecified,
                "{name} is missing from EventType in proto/repair/v1/events.proto"
            );
        }
    }

    #[test]
    fn the_proto_catalogue_lists_no_event_type_the_log_cannot_hold() {
        let listed = (1..1000)
            .filter_map(|n| pb::EventType::try_from(n).ok())
            .count();
        assert_eq!(listed, every_stored_name().len());
    }

    #[test]
    fn every_event_type_has_the_payload_case_of_its_name_and_number() {
        let payload = prost_reflect::DescriptorPool::decode(crate::rpc::DESCRIPTOR_SET)
            .expect("descriptor set")
            .get_message_by_name("repair.v1.EventPayload")
            .expect("EventPayload");
        let names = every_stored_name();
        for name in &names {
            let number = event_type(name) as u32;
            let field = payload
                .get_field(number)
                .unwrap_or_else(|| panic!("EventPayload has no case {number} for {name}"));
            let snake = event_type(name).as_str_name()["EVENT_TYPE_".len()..].to_lowercase();
            assert_eq!(field.name(), snake, "{name}");
            let message = field.kind().as_message().map(|m| m.name().to_owned());
            assert_eq!(message.as_deref(), Some(*name), "{name}");
            assert_eq!(
                field.containing_oneof().map(|o| o.name().to_owned()),
                Some("event".to_owned()),
                "{name}"
            );
        }
        assert_eq!(payload.fields().count(), names.len());
    }

    #[test]
    fn an_unknown_name_is_unspecified() {
        assert_eq!(event_type("SomethingNew"), pb::EventType::Unspecified);
        assert_eq!(event_type("QcPassed"), pb::EventType::QcPassed);
    }
}
