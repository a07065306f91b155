//! `ticketd relay`: mirrors the event log into a NATS JetStream stream.
//!
//! Invariant: the stream's sequence number *is* the log position. Event
//! `p` is published with `Nats-Expected-Last-Sequence: p - 1`, so JetStream
//! itself refuses anything out of place: a second copy, a gap, or a message
//! someone else published to our subjects. `Nats-Msg-Id` is the event id,
//! so a retried publish inside the duplicate window is acknowledged as the
//! copy already stored.
//!
//! Where to resume is read from the stream (its last sequence), never from
//! our own checkpoint: a relay that crashed after JetStream stored an event
//! but before the checkpoint moved resumes after that event, not at it.
//! The checkpoint in `relay_checkpoints` is what operators watch (lag on
//! `/metrics`); one ahead of the stream means the stream lost events (it
//! was restored from an older backup, say), and they are published again.

use std::collections::VecDeque;
use std::time::Duration;

use async_nats::jetstream::{self, context::PublishErrorKind, message::PublishMessage, stream};
use bytes::Bytes;
use projections::db::Val;
use projections::log::RawEvent;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::watch;

use crate::store::Pool;

/// Events read from the log at a time.
const READ_BATCH: i64 = 2_000;
/// How long to wait before trying again after NATS or the store failed.
const RETRY: Duration = Duration::from_secs(1);
/// How often the log is looked at when no commit was announced.
const TICK: Duration = Duration::from_millis(100);

/// Where and how to publish.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// `nats://host:port`.
    pub url: String,
    /// The JetStream stream (made on first start when missing).
    pub stream: String,
    /// Subjects are `<prefix>.<aggregate type>.<event type>`.
    pub subject_prefix: String,
    /// Publishes awaiting JetStream's acknowledgement at once.
    pub window: usize,
}

impl RelaySettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: "REPAIR".to_owned(),
            subject_prefix: "repair".to_owned(),
            window: 512,
        }
    }

    /// The checkpoint's name in `relay_checkpoints`.
    pub fn name(&self) -> String {
        format!("nats:{}", self.stream)
    }

    pub(crate) fn subject(&self, e: &RawEvent) -> String {
        format!(
            "{}.{}.{}",
            self.subject_prefix,
            token(&e.aggregate_type),
            token(&e.event_type)
        )
    }
}

/// A subject token: NATS reserves `.`, `*`, `>` and whitespace.
fn token(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '.' || c == '*' || c == '>' || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("NATS at {url}: {message}")]
    Nats { url: String, message: String },
    #[error("the stream {stream} does not mirror the event log: {message}")]
    Diverged { stream: String, message: String },
    #[error("event store: {0}")]
    Store(#[from] sqlx::Error),
}

impl RelayError {
    /// A divergence needs an operator; everything else is retried.
    fn is_fatal(&self) -> bool {
        matches!(self, Self::Diverged { .. })
    }
}

/// The message body: the log entry with the event's stored JSON as is.
#[derive(Serialize)]
struct Envelope<'a> {
    position: i64,
    event_id: &'a str,
    aggregate_type: &'a str,
    ticket_id: &'a str,
    version: i64,
    event_type: &'a str,
    event_version: &'a str,
    recorded_at: chrono::DateTime<chrono::Utc>,
    occurred_at: chrono::DateTime<chrono::Utc>,
    metadata: &'a RawValue,
    payload: &'a RawValue,
}

/// The payload is in the current shape of its type (upcast when stored
/// older), as every reader of the log gets it.
pub(crate) fn body(e: &RawEvent) -> Result<Bytes, projections::ProjectionError> {
    let current = e.current_payload()?;
    let payload: &RawValue = serde_json::from_str(&current).map_err(|x| e.undecodable(x))?;
    let metadata: &RawValue = serde_json::from_str(&e.metadata).map_err(|x| e.undecodable(x))?;
    let event_version =
        domain::schema::version_label(domain::schema::current_version(&e.event_type));
    let envelope = Envelope {
        position: e.log_position,
        event_id: &e.event_id,
        aggregate_type: &e.aggregate_type,
        ticket_id: &e.ticket_id,
        version: e.sequence,
        event_type: &e.event_type,
        event_version: &event_version,
        recorded_at: e.recorded_at,
        occurred_at: e.occurred_at,
        metadata,
        payload,
    };
    serde_json::to_vec(&envelope)
        .map(Bytes::from)
        .map_err(|x| e.undecodable(x))
}

/// Where the relay named `name` last said it stood (0 before its first
/// batch).
pub async fn checkpoint(db: &Pool, name: &str) -> Result<i64, sqlx::Error> {
    let rows = db
        .texts(
            "SELECT CAST(position AS TEXT) FROM relay_checkpoints WHERE relay = $1",
            vec![Val::Text(name.to_owned())],
        )
        .await?;
    Ok(rows
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .and_then(|p| p.parse().ok())
        .unwrap_or(0))
}

/// Every relay's checkpoint, by name.
pub async fn checkpoints(db: &Pool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = db
        .texts(
            "SELECT relay, CAST(position AS TEXT) FROM relay_checkpoints ORDER BY relay",
            vec![],
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let name = r.first().cloned().flatten()?;
            let position = r.get(1).cloned().flatten()?.parse().ok()?;
            Some((name, position))
        })
        .collect())
}

async fn save(db: &Pool, name: &str, position: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    tx.run(
        "INSERT INTO relay_checkpoints (relay, position) VALUES ($1, $2) \
         ON CONFLICT (relay) DO UPDATE SET position = excluded.position",
        vec![Val::Text(name.to_owned()), Val::Int(position)],
    )
    .await?;
    tx.commit().await
}

/// Relays until `stop` turns true. Returns an error only for what needs an
/// operator (the stream holds something that is not the log); NATS and
/// store outages are waited out.
pub async fn run(
    db: Pool,
    settings: RelaySettings,
    head: watch::Receiver<i64>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), RelayError> {
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        match session(&db, &settings, head.clone(), stop.clone()).await {
            Ok(()) => return Ok(()),
            Err(error) if error.is_fatal() => return Err(error),
            Err(error) => tracing::warn!(%error, "relay interrupted; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => {}
            _ = stop.changed() => {}
        }
    }
}

fn nats(settings: &RelaySettings, e: impl std::fmt::Display) -> RelayError {
    RelayError::Nats {
        url: settings.url.clone(),
        message: e.to_string(),
    }
}

fn diverged(settings: &RelaySettings, message: String) -> RelayError {
    RelayError::Diverged {
        stream: settings.stream.clone(),
        message,
    }
}

/// Connects, finds where the stream stands and publishes until `stop` or
/// an error.
async fn session(
    db: &Pool,
    settings: &RelaySettings,
    mut head: watch::Receiver<i64>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), RelayError> {
    let client = async_nats::connect(&settings.url)
        .await
        .map_err(|e| nats(settings, e))?;
    let js = jetstream::new(client);
    let mut stream = js
        .get_or_create_stream(stream::Config {
            name: settings.stream.clone(),
            subjects: vec![format!("{}.>", settings.subject_prefix)],
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| nats(settings, e))?;
    let last = stream
        .info()
        .await
        .map_err(|e| nats(settings, e))?
        .state
        .last_sequence;
    let mut published = i64::try_from(last).map_err(|e| nats(settings, e))?;
    let log_head = db.head().await?;
    if published > log_head {
        return Err(diverged(
            settings,
            format!("it holds {published} messages but the log ends at {log_head}"),
        ));
    }
    check_last(db, settings, &stream, published).await?;
    let name = settings.name();
    let said = checkpoint(db, &name).await?;
    if said > published {
        tracing::warn!(
            stream = settings.stream,
            from = published + 1,
            to = said,
            "the stream lost events the relay had published; publishing them again"
        );
    }
    if said != published {
        save(db, &name, published).await?;
    }
    tracing::info!(stream = settings.stream, position = published, "relaying");
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        head.borrow_and_update();
        let batch = db.read(published, READ_BATCH).await?;
        if batch.is_empty() {
            tokio::select! {
                changed = head.changed() => {
                    if changed.is_err() {
                        // Nobody announces commits: look every tick.
                        tokio::time::sleep(TICK).await;
                    }
                }
                _ = tokio::time::sleep(TICK) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        published = publish(&js, settings, published, &batch).await?;
        save(db, &name, published).await?;
    }
}

/// Checks the stream's last message is the log's event at that position,
/// so that resuming after it continues the mirror (and not someone else's
/// messages on our subjects).
async fn check_last(
    db: &Pool,
    settings: &RelaySettings,
    stream: &stream::Stream,
    last: i64,
) -> Result<(), RelayError> {
    if last == 0 {
        return Ok(());
    }
    let message = stream
        .get_raw_message(u64::try_from(last).unwrap_or_default())
        .await
        .map_err(|e| nats(settings, e))?;
    let id = message
        .headers
        .get(async_nats::header::NATS_MESSAGE_ID)
        .map(|v| v.as_str().to_owned());
    let event = db.read(last - 1, 1).await?;
    let expected = event.first().map(|e| e.event_id.clone());
    if id.is_none() || id != expected {
        return Err(diverged(
            settings,
            format!(
                "its message {last} is {} but the log's event {last} is {}",
                id.as_deref().unwrap_or("not ours (no Nats-Msg-Id)"),
                expected.as_deref().unwrap_or("missing"),
            ),
        ));
    }
    Ok(())
}

/// Publishes `batch` (which must follow `published` without a gap), with
/// up to `settings.window` acknowledgements outstanding. Returns the last
/// position JetStream acknowledged.
async fn publish(
    js: &jetstream::Context,
    settings: &RelaySettings,
    published: i64,
    batch: &[RawEvent],
) -> Result<i64, RelayError> {
    let mut expected = published;
    let mut waiting = VecDeque::new();
    for e in batch {
        if e.log_position != expected + 1 {
            return Err(diverged(
                settings,
                format!(
                    "the log jumps from {expected} to {}; positions must be gap-free",
                    e.log_position
                ),
            ));
        }
        expected = e.log_position;
        let body = body(e).map_err(|err| {
            diverged(
                settings,
                format!("event {} cannot be read: {err}", e.event_id),
            )
        })?;
        let message = PublishMessage::build()
            .payload(body)
            .message_id(&e.event_id)
            .expected_last_sequence(u64::try_from(e.log_position - 1).unwrap_or_default());
        let ack = js
            .send_publish(settings.subject(e), message)
            .await
            .map_err(|err| nats(settings, err))?;
        waiting.push_back((e.log_position, ack));
        if waiting.len() >= settings.window {
            if let Some((position, ack)) = waiting.pop_front() {
                confirm(settings, position, ack.await)?;
            }
        }
    }
    while let Some((position, ack)) = waiting.pop_front() {
        confirm(settings, position, ack.await)?;
    }
    Ok(expected)
}

/// Checks JetStream stored event `position` at sequence `position`.
fn confirm(
    settings: &RelaySettings,
    position: i64,
    ack: Result<jetstream::publish::PublishAck, jetstream::context::PublishError>,
) -> Result<(), RelayError> {
    match ack {
        Ok(ack) if i64::try_from(ack.sequence) == Ok(position) => Ok(()),
        Ok(ack) => Err(diverged(
            settings,
            format!(
                "event at position {position} was stored at sequence {}",
                ack.sequence
            ),
        )),
        // Another writer got there first, or an earlier publish of this
        // batch failed: start again from what the stream holds.
        Err(err) if err.kind() == PublishErrorKind::WrongLastSequence => Err(nats(
            settings,
            format!("position {position} was not next in the stream ({err}); resynchronising"),
        )),
        Err(err) => Err(nats(settings, err)),
    }
}
