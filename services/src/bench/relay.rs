//! Relay throughput: the whole log published to a JetStream stream of its
//! own by `relay::run`, against the broker's own limit measured in the same
//! run (the same messages, headers and acknowledgement window, published
//! straight from memory with nothing read from the store).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, message::PublishMessage, stream};
use tokio::sync::watch;

use super::Error;
use crate::relay::{checkpoint, RelaySettings};
use crate::store::Pool;

#[derive(Debug, Clone)]
pub struct Relayed {
    pub events: i64,
    pub per_second: f64,
    /// JetStream alone, the same messages from memory.
    pub broker_per_second: f64,
}

/// A stream and subjects no real relay uses, removed afterwards.
fn bench_settings(nats_url: &str) -> RelaySettings {
    let run = uuid::Uuid::new_v4().simple().to_string();
    RelaySettings {
        stream: format!("BENCH_{run}"),
        subject_prefix: format!("bench{run}"),
        ..RelaySettings::new(nats_url)
    }
}

/// Relays every event in `db`'s log (already sequenced) and times it.
pub async fn measure(db: &Pool, nats_url: &str) -> Result<Relayed, Error> {
    let client = async_nats::connect(nats_url).await?;
    let js = jetstream::new(client);
    let settings = bench_settings(nats_url);
    let head = db.head().await?;
    let bar = super::bar(u64::try_from(head).unwrap_or_default(), "relay to NATS");

    let (stop, stopped) = watch::channel(false);
    let (_announce, seen) = watch::channel(head);
    let started = Instant::now();
    let relay = tokio::spawn(crate::relay::run(
        db.clone(),
        settings.clone(),
        seen,
        stopped,
    ));
    loop {
        let at = checkpoint(db, &settings.name()).await?;
        bar.set_position(u64::try_from(at).unwrap_or_default());
        if at >= head {
            break;
        }
        if relay.is_finished() {
            return Err("the relay stopped before the head".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let per_second = head as f64 / started.elapsed().as_secs_f64().max(1e-9);
    bar.finish();
    let _ = stop.send(true);
    relay.await??;
    js.delete_stream(&settings.stream).await?;
    let mut tx = db.begin().await?;
    tx.run(
        "DELETE FROM relay_checkpoints WHERE relay = $1",
        vec![projections::db::Val::Text(settings.name())],
    )
    .await?;
    tx.commit().await?;

    let broker_per_second = broker(&js, db, nats_url, head).await?;
    Ok(Relayed {
        events: head,
        per_second,
        broker_per_second,
    })
}

/// JetStream's own rate for the same messages (`relay::body`, the same
/// subjects): read into memory first, then published with the same headers and window.
async fn broker(
    js: &jetstream::Context,
    db: &Pool,
    nats_url: &str,
    head: i64,
) -> Result<f64, Error> {
    let settings = bench_settings(nats_url);
    js.create_stream(stream::Config {
        name: settings.stream.clone(),
        subjects: vec![format!("{}.>", settings.subject_prefix)],
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await?;
    let mut messages = Vec::new();
    let mut at = 0;
    while at < head {
        for e in db.read(at, 10_000).await? {
            at = e.log_position;
            // The relay's own subject and body: only the publishing differs.
            messages.push((
                settings.subject(&e),
                PublishMessage::build()
                    .payload(crate::relay::body(&e)?)
                    .message_id(&e.event_id)
                    .expected_last_sequence(u64::try_from(e.log_position - 1).unwrap_or_default()),
            ));
        }
    }
    let started = Instant::now();
    let mut waiting = VecDeque::new();
    for (subject, message) in messages {
        waiting.push_back(js.send_publish(subject, message).await?);
        if waiting.len() >= settings.window {
            if let Some(ack) = waiting.pop_front() {
                ack.await?;
            }
        }
    }
    while let Some(ack) = waiting.pop_front() {
        ack.await?;
    }
    let per_second = head as f64 / started.elapsed().as_secs_f64().max(1e-9);
    js.delete_stream(&settings.stream).await?;
    Ok(per_second)
}
