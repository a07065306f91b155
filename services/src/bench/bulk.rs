//! Figures at scale: a log grown to the requested size by copying one real
//! lifecycle under new ticket ids, then sequencing, rebuild, subscriber
//! catch-up and query latency over it; and the projection lag sampled
//! while the gRPC load runs.

use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::Request;

use crate::rpc::pb;
use crate::rpc::pb::event_log_client::EventLogClient;

type Error = Box<dyn std::error::Error>;

/// Samples, every 50 ms, how old the oldest event is that the ticket
/// summary has not applied yet (0 when caught up): the lag a reader sees.
pub struct LagSampler {
    stop: watch::Sender<bool>,
    task: JoinHandle<Vec<u64>>,
}

const LAG_MS: &str = "
SELECT COALESCE((EXTRACT(EPOCH FROM clock_timestamp() - MIN(e.recorded_at)) * 1000)::bigint, 0)
  FROM events e LEFT JOIN event_log l ON l.event_position = e.position
 WHERE l.log_position IS NULL
    OR l.log_position > (SELECT COALESCE(MAX(position), 0) FROM projection_checkpoints WHERE projection = 'ticket_summary')";

impl LagSampler {
    pub async fn start(url: &str) -> Result<Self, Error> {
        let pool = PgPool::connect(url).await?;
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut samples = Vec::new();
            while !*stopped.borrow() {
                if let Ok(ms) = sqlx::query_scalar::<_, i64>(LAG_MS).fetch_one(&pool).await {
                    samples.push(u64::try_from(ms).unwrap_or_default());
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = stopped.changed() => {}
                }
            }
            pool.close().await;
            samples
        });
        Ok(Self { stop, task })
    }

    /// Stops sampling; returns the samples in microseconds.
    pub async fn stop(self) -> Vec<u64> {
        let _ = self.stop.send(true);
        self.task
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|ms| ms * 1000)
            .collect()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Bulk {
    pub events: i64,
    pub tickets: i64,
    pub sequence_eps: f64,
    pub rebuild_eps: f64,
    /// All live projections together, catching up on the bulk log.
    pub live_projection_eps: f64,
    /// A subscriber reading the whole log, with typed payloads.
    pub catch_up_eps: f64,
    /// The same, asking for the stored JSON only (`json_only`).
    pub catch_up_json_eps: f64,
    pub query_p95_ms: Vec<(String, f64)>,
}

pub(super) fn auth<T>(role: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if let (Ok(id), Ok(r)) = (format!("bench-{role}").parse(), role.parse()) {
        request.metadata_mut().insert("x-actor-id", id);
        request.metadata_mut().insert("x-actor-role", r);
    }
    request
}

/// Copies the first closed ticket's events under new ids until the
/// `events` table holds `target_events` (the running server's sequencer
/// then logs them). Copy `bulk-n` is a unit of its own, serial `SN-bulk-n`,
/// as real tickets are: a handful per serial, not one serial for all.
pub async fn grow(pool: &sqlx::PgPool, target_events: u64) -> Result<Grown, Error> {
    let sample: String =
        sqlx::query_scalar("SELECT aggregate_id FROM events WHERE event_type = 'TicketClosed' ORDER BY position LIMIT 1")
            .fetch_one(pool)
            .await?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?;
    let per_ticket: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_id = $1")
        .bind(&sample)
        .fetch_one(pool)
        .await?;
    let wanted = i64::try_from(target_events)
        .unwrap_or(i64::MAX)
        .saturating_sub(existing)
        .max(0);
    let copies = wanted / per_ticket.max(1);
    let bar = super::bar(u64::try_from(copies).unwrap_or_default(), "growing the log");
    let mut done = 0_i64;
    while done < copies {
        let upto = (done + 10_000).min(copies);
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata,
                                 event_id, recorded_at, occurred_at, seal, hash)
             SELECT 'Ticket', 'bulk-' || g, e.sequence, e.event_type, e.event_version,
                    replace(e.payload::text, $4, '\"SN-bulk-' || g || '\"')::json,
                    (e.metadata::jsonb || jsonb_build_object('request_id', 'bulk-' || g || '-' || e.sequence))::json,
                    gen_random_uuid(), e.recorded_at, e.occurred_at, e.seal, e.hash
               FROM events e CROSS JOIN generate_series($1::bigint, $2::bigint) g
              WHERE e.aggregate_id = $3
              ORDER BY g, e.sequence",
        )
        .bind(done + 1)
        .bind(upto)
        .bind(&sample)
        .bind(format!("\"SN-{sample}\""))
        .execute(pool)
        .await?;
        bar.set_position(u64::try_from(upto).unwrap_or_default());
        done = upto;
    }
    bar.finish();
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?;
    Ok(Grown { events, copies })
}

/// What [`grow`] left.
#[derive(Debug)]
pub struct Grown {
    /// Events the table holds.
    pub events: i64,
    /// How many copies were made (`bulk-1` …).
    pub copies: i64,
}

/// Grows the log to `target_events`, then measures.
pub async fn measure(
    url: &str,
    grpc: &str,
    target_events: u64,
    cx: projections::engine::Context,
) -> Result<Bulk, Error> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(url)
        .await?;
    let Grown { events, copies } = grow(&pool, target_events).await?;
    let tickets: i64 = sqlx::query_scalar("SELECT count(DISTINCT aggregate_id) FROM events")
        .fetch_one(&pool)
        .await?;

    // The running server's sequencer orders the copies into the log.
    let started = Instant::now();
    let head_before =
        projections::log::head(&projections::db::Pool::Postgres(pool.clone())).await?;
    loop {
        let head = projections::log::head(&projections::db::Pool::Postgres(pool.clone())).await?;
        if head >= events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sequence_eps = (events - head_before) as f64 / started.elapsed().as_secs_f64().max(1e-9);

    // The live projections follow; the figures below are taken once they
    // have caught up, so that nothing else competes for the machine.
    const SLOWEST_LIVE: &str =
        "SELECT COALESCE(MIN(position), 0) FROM projection_checkpoints WHERE projection NOT LIKE '%rebuild%'";
    let started = Instant::now();
    let behind_from: i64 = sqlx::query_scalar(SLOWEST_LIVE).fetch_one(&pool).await?;
    let bar = super::bar(
        u64::try_from(events).unwrap_or_default(),
        "live projections",
    );
    loop {
        let slowest: i64 = sqlx::query_scalar(SLOWEST_LIVE).fetch_one(&pool).await?;
        bar.set_position(u64::try_from(slowest).unwrap_or_default());
        if slowest >= events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bar.finish();
    let live_projection_eps =
        (events - behind_from) as f64 / started.elapsed().as_secs_f64().max(1e-9);

    let bar = super::bar(
        u64::try_from(events).unwrap_or_default(),
        "rebuild ticket_summary",
    );
    let started = Instant::now();
    let rebuilt = projections::rebuild::rebuild(
        &crate::store::Pool::Postgres(pool.clone()),
        &projections::ticket_summary::TicketSummary,
        &cx,
        |at, head| {
            bar.set_length(u64::try_from(head).unwrap_or_default());
            bar.set_position(u64::try_from(at).unwrap_or_default());
        },
    )
    .await?;
    bar.finish();
    let rebuild_eps = rebuilt.events as f64 / started.elapsed().as_secs_f64().max(1e-9);

    // A subscriber reading a long stretch of the log wants HTTP/2 receive
    // windows larger than the 64 KiB default, or the server waits for a
    // window update every few dozen events (README, "Follow the events").
    let channel = tonic::transport::Channel::from_shared(grpc.to_owned())?
        .initial_stream_window_size(SUBSCRIBER_WINDOW)
        .initial_connection_window_size(SUBSCRIBER_WINDOW)
        .connect()
        .await?;
    let catch_up_eps = catch_up(&channel, events, false).await?;
    let catch_up_json_eps = catch_up(&channel, events, true).await?;

    let query_p95_ms = super::reports::measure(channel, copies).await?;
    pool.close().await;
    Ok(Bulk {
        events,
        tickets,
        sequence_eps,
        rebuild_eps,
        live_projection_eps,
        catch_up_eps,
        catch_up_json_eps,
        query_p95_ms,
    })
}

/// `--only-bulk`: a server on a database of its own, a few lifecycles over
/// gRPC, then the log grown to `bulk_events` and measured.
pub async fn only(o: &super::Options) -> Result<Bulk, Error> {
    const DB: &str = "ticketd_bench_bulk";
    let url = super::fresh_database(&o.admin_url, DB).await?;
    let store = crate::store::StoreConfig::Postgres { url: url.clone() };
    let listen = crate::server::Listen {
        grpc: "127.0.0.1:0".parse()?,
        metrics: None,
        console: None,
        tls: None,
    };
    let server = crate::server::start(&store, listen, super::setup(o)).await?;
    let target = format!("http://{}", server.addr);
    let b = super::bar(4 * 5 * super::EVENTS_PER_TICKET, "lifecycles (PG)");
    super::load::run(&target, "bulk", 4, 5, false, &b).await?;
    b.finish();
    let measured = measure(
        &url,
        &target,
        o.bulk_events,
        projections::engine::Context::new(o.policy.current().local_time(), o.sla),
    )
    .await?;
    server.shutdown().await?;
    super::drop_database(&o.admin_url, DB).await?;
    Ok(measured)
}

/// The HTTP/2 receive window of the bench's subscriber, per stream and per
/// connection (bytes).
const SUBSCRIBER_WINDOW: u32 = 4 << 20;

/// A subscriber reading the log from the start to position `events`
/// (`json_only` as asked); events per second.
async fn catch_up(
    channel: &tonic::transport::Channel,
    events: i64,
    json_only: bool,
) -> Result<f64, Error> {
    let mut log = EventLogClient::new(channel.clone()).max_decoding_message_size(16 * 1024 * 1024);
    let what = if json_only {
        "subscriber catch-up (JSON only)"
    } else {
        "subscriber catch-up"
    };
    let bar = super::bar(u64::try_from(events).unwrap_or_default(), what);
    let started = Instant::now();
    let request = pb::SubscribeRequest {
        from_position: 0,
        json_only,
        ..Default::default()
    };
    let mut stream = log
        .subscribe(auth("integration", request))
        .await?
        .into_inner();
    let mut seen = 0_i64;
    while let Some(message) = stream.message().await? {
        if let Some(pb::subscribe_response::Message::Event(e)) = message.message {
            seen += 1;
            if seen % 10_000 == 0 {
                bar.set_position(e.position);
            }
            if i64::try_from(e.position).unwrap_or_default() >= events {
                break;
            }
        }
    }
    bar.finish();
    Ok(seen as f64 / started.elapsed().as_secs_f64().max(1e-9))
}
