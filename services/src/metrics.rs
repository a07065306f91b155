//! A Prometheus text endpoint (`GET /metrics`): the log head, each
//! projection's position and lag, and every RPC's calls by status code and
//! latency (`rpc::observe`). Deliberately tiny: one plain HTTP/1.1
//! response per connection, no other routes.

use std::fmt::Write as _;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::rpc::events::log_status;
use crate::rpc::observe::RpcMetrics;
use crate::store::Pool;

/// What the endpoint reports from.
#[derive(Debug, Clone)]
pub struct Sources {
    pub db: Pool,
    pub rpc: RpcMetrics,
    pub bus: std::sync::Arc<crate::bus::CommandBus>,
}

/// Renders the metrics in the Prometheus text format.
pub async fn render(sources: &Sources) -> Result<String, sqlx::Error> {
    let status = log_status(&sources.db).await?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP ticketd_log_head_position Last position in the global event log."
    );
    let _ = writeln!(out, "# TYPE ticketd_log_head_position gauge");
    let _ = writeln!(out, "ticketd_log_head_position {}", status.head);
    let _ = writeln!(
        out,
        "# HELP ticketd_projection_position Log position a projection has applied up to."
    );
    let _ = writeln!(out, "# TYPE ticketd_projection_position gauge");
    for (name, position) in &status.projections {
        let _ = writeln!(
            out,
            "ticketd_projection_position{{projection=\"{name}\"}} {position}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP ticketd_projection_lag Events in the log not yet applied by a projection."
    );
    let _ = writeln!(out, "# TYPE ticketd_projection_lag gauge");
    for (name, position) in &status.projections {
        let _ = writeln!(
            out,
            "ticketd_projection_lag{{projection=\"{name}\"}} {}",
            status.head - position
        );
    }
    let backlog = projections::log::backlog::backlog(&sources.db).await?;
    let _ = writeln!(
        out,
        "# HELP ticketd_log_unsequenced_events Events stored but not yet in the log."
    );
    let _ = writeln!(out, "# TYPE ticketd_log_unsequenced_events gauge");
    let _ = writeln!(
        out,
        "ticketd_log_unsequenced_events {}",
        backlog.unsequenced
    );
    let _ = writeln!(
        out,
        "# HELP ticketd_log_blocking_transaction_age_seconds Age of the oldest transaction the sequencer waits for (0: none)."
    );
    let _ = writeln!(
        out,
        "# TYPE ticketd_log_blocking_transaction_age_seconds gauge"
    );
    let age = backlog.blocker.as_ref().map_or(0, |b| b.age_seconds);
    let _ = writeln!(out, "ticketd_log_blocking_transaction_age_seconds {age}");
    let relays = crate::relay::checkpoints(&sources.db).await?;
    let _ = writeln!(
        out,
        "# HELP ticketd_relay_lag Events in the log a relay's broker has not acknowledged yet."
    );
    let _ = writeln!(out, "# TYPE ticketd_relay_lag gauge");
    for (name, position) in &relays {
        let _ = writeln!(
            out,
            "ticketd_relay_lag{{relay=\"{name}\"}} {}",
            status.head - position
        );
    }
    let consumers = crate::consumers::list(&sources.db)
        .await
        .map_err(|e| match e {
            crate::consumers::ConsumerError::Store(e) => e,
            other => sqlx::Error::Protocol(other.to_string()),
        })?;
    let _ = writeln!(
        out,
        "# HELP ticketd_consumer_lag Events in the log past a named consumer's acknowledged position."
    );
    let _ = writeln!(out, "# TYPE ticketd_consumer_lag gauge");
    for c in &consumers {
        let _ = writeln!(
            out,
            "ticketd_consumer_lag{{consumer=\"{}\"}} {}",
            c.name,
            status.head - c.acked_through
        );
    }
    let _ = writeln!(
        out,
        "# HELP ticketd_consumer_in_flight Events delivered to a named consumer and not acknowledged yet."
    );
    let _ = writeln!(out, "# TYPE ticketd_consumer_in_flight gauge");
    for c in &consumers {
        let _ = writeln!(
            out,
            "ticketd_consumer_in_flight{{consumer=\"{}\"}} {}",
            c.name, c.in_flight
        );
    }
    let (open, idle) = sources.db.connections();
    let _ = writeln!(
        out,
        "# HELP ticketd_db_connections Database connections of this process, by state."
    );
    let _ = writeln!(out, "# TYPE ticketd_db_connections gauge");
    let _ = writeln!(out, "ticketd_db_connections{{state=\"idle\"}} {idle}");
    let in_use = u64::from(open).saturating_sub(idle as u64);
    let _ = writeln!(out, "ticketd_db_connections{{state=\"in_use\"}} {in_use}");
    let (hits, misses) = sources.bus.cache_counts();
    let _ = writeln!(
        out,
        "# HELP ticketd_aggregate_cache_lookups_total Aggregate-cache lookups, by whether the stream was there."
    );
    let _ = writeln!(out, "# TYPE ticketd_aggregate_cache_lookups_total counter");
    let _ = writeln!(
        out,
        "ticketd_aggregate_cache_lookups_total{{result=\"hit\"}} {hits}"
    );
    let _ = writeln!(
        out,
        "ticketd_aggregate_cache_lookups_total{{result=\"miss\"}} {misses}"
    );
    sources.rpc.render(&mut out);
    Ok(out)
}

async fn answer<S>(mut stream: S, sources: Sources) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut buf = vec![0_u8; 4096];
    let n = stream.read(&mut buf).await?;
    let request = String::from_utf8_lossy(&buf[..n]);
    let path = request.split_whitespace().nth(1).unwrap_or("");
    let (status, body) = if path == "/metrics" {
        match render(&sources).await {
            Ok(body) => ("200 OK", body),
            Err(error) => (
                "503 Service Unavailable",
                format!("event store unavailable: {error}\n"),
            ),
        }
    } else {
        ("404 Not Found", "try /metrics\n".to_owned())
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// Scrapes answered at once; a connection past them is closed at once.
pub const MAX_CONNECTIONS: usize = 64;
/// How long a connection may take, TLS handshake, request and answer
/// together: a client that sends half a request is closed after it.
pub const CONNECTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `/metrics` on `listener` (over TLS when given) until `stop`.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    sources: Sources,
    mut stop: watch::Receiver<bool>,
) {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(?addr, "metrics on /metrics");
    let places = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let Ok(place) = places.clone().try_acquire_owned() else {
                        tracing::warn!(limit = MAX_CONNECTIONS, "metrics connection refused: at the connection cap");
                        continue;
                    };
                    let answering = answer_one(stream, tls.clone(), sources.clone());
                    tokio::spawn(async move {
                        if tokio::time::timeout(CONNECTION_TIMEOUT, answering).await.is_err() {
                            tracing::debug!("metrics connection timed out");
                        }
                        drop(place);
                    });
                }
                Err(error) => tracing::warn!(%error, "metrics accept failed"),
            },
            _ = stop.wait_for(|s| *s) => break,
        }
    }
}

/// One connection: the TLS handshake if configured, then one answer.
async fn answer_one(stream: TcpStream, tls: Option<TlsAcceptor>, sources: Sources) {
    let answered = match tls {
        Some(tls) => match tls.accept(stream).await {
            Ok(stream) => answer(stream, sources).await,
            Err(error) => Err(error),
        },
        None => answer(stream, sources).await,
    };
    if let Err(error) = answered {
        tracing::debug!(%error, "metrics request failed");
    }
}
