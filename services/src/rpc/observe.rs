//! What operators watch of the API: per RPC, how many calls, how many of
//! each status code, and how long they took (a Prometheus histogram).
//!
//! A tower layer around the whole gRPC server observes every call, so a
//! new RPC is counted without a line of its own. The code is the one the
//! call was answered with: tonic puts an error in the response headers
//! (a trailers-only response), so a response without `grpc-status` there
//! began as OK; for a stream (`Subscribe`), that means it was accepted.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;
use tracing::Instrument;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Debug, Default, Clone)]
struct Method {
    by_code: BTreeMap<&'static str, u64>,
    /// Calls at or under each bound of [`BUCKETS`].
    buckets: [u64; BUCKETS.len()],
    count: u64,
    seconds: f64,
}

/// The counts of every RPC since the server started. Cheap to share.
#[derive(Debug, Default, Clone)]
pub struct RpcMetrics {
    methods: Arc<Mutex<BTreeMap<&'static str, Method>>>,
}

/// The gRPC code names Prometheus labels use.
fn code_name(header: Option<&[u8]>) -> &'static str {
    let code = header
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(0);
    match tonic::Code::from_i32(code) {
        tonic::Code::Ok => "OK",
        tonic::Code::Cancelled => "CANCELLED",
        tonic::Code::Unknown => "UNKNOWN",
        tonic::Code::InvalidArgument => "INVALID_ARGUMENT",
        tonic::Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        tonic::Code::NotFound => "NOT_FOUND",
        tonic::Code::AlreadyExists => "ALREADY_EXISTS",
        tonic::Code::PermissionDenied => "PERMISSION_DENIED",
        tonic::Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        tonic::Code::FailedPrecondition => "FAILED_PRECONDITION",
        tonic::Code::Aborted => "ABORTED",
        tonic::Code::OutOfRange => "OUT_OF_RANGE",
        tonic::Code::Unimplemented => "UNIMPLEMENTED",
        tonic::Code::Internal => "INTERNAL",
        tonic::Code::Unavailable => "UNAVAILABLE",
        tonic::Code::DataLoss => "DATA_LOSS",
        tonic::Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

impl RpcMetrics {
    /// Counts one call of `method` (a [`label`]) answered with `code` after
    /// `seconds`.
    pub fn record(&self, method: &'static str, code: &'static str, seconds: f64) {
        let Ok(mut methods) = self.methods.lock() else {
            return;
        };
        let m = methods.entry(method).or_default();
        *m.by_code.entry(code).or_default() += 1;
        for (bucket, bound) in m.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        m.count += 1;
        m.seconds += seconds;
    }

    /// The counts in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let methods = match self.methods.lock() {
            Ok(methods) => methods.clone(),
            Err(_) => return,
        };
        let _ = writeln!(
            out,
            "# HELP ticketd_rpc_requests_total gRPC calls answered, by method and status code."
        );
        let _ = writeln!(out, "# TYPE ticketd_rpc_requests_total counter");
        for (method, m) in &methods {
            for (code, n) in &m.by_code {
                let _ = writeln!(
                    out,
                    "ticketd_rpc_requests_total{{method=\"{method}\",code=\"{code}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP ticketd_rpc_duration_seconds Time from a call's arrival to its answer."
        );
        let _ = writeln!(out, "# TYPE ticketd_rpc_duration_seconds histogram");
        for (method, m) in &methods {
            for (n, bound) in m.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "ticketd_rpc_duration_seconds_bucket{{method=\"{method}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "ticketd_rpc_duration_seconds_bucket{{method=\"{method}\",le=\"+Inf\"}} {}",
                m.count
            );
            let _ = writeln!(
                out,
                "ticketd_rpc_duration_seconds_sum{{method=\"{method}\"}} {}",
                m.seconds
            );
            let _ = writeln!(
                out,
                "ticketd_rpc_duration_seconds_count{{method=\"{method}\"}} {}",
                m.count
            );
        }
    }
}

/// What the server serves beside the API's own RPCs.
const BESIDE_THE_API: [&str; 4] = [
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// The `method` label of a call's path: a method the server serves, or
/// `unknown` for any other path, so that made-up paths (anyone may send
/// them, before signing in) neither grow the page nor break its format.
pub fn label(path: &str) -> &'static str {
    let known = crate::access::Method::from_path(path)
        .map(crate::access::Method::path)
        .or_else(|| BESIDE_THE_API.into_iter().find(|p| *p == path));
    known.map_or("unknown", |p| p.trim_start_matches('/'))
}

/// The layer that observes every call into an [`RpcMetrics`].
#[derive(Debug, Clone)]
pub struct ObserveLayer(pub RpcMetrics);

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observe<S>;
    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            metrics: self.0.clone(),
        }
    }
}

/// See [`ObserveLayer`].
#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
    metrics: RpcMetrics,
}

type Boxed<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B, R> tower::Service<http::Request<B>> for Observe<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    R: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Boxed<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // "/repair.v1.TicketCommands/ReceiveTicket" → "repair.v1.TicketCommands/ReceiveTicket"
        let method = label(request.uri().path());
        let started = Instant::now();
        let metrics = self.metrics.clone();
        let span = crate::telemetry::rpc_span(method, request.headers());
        let answer = span.in_scope(|| self.inner.call(request));
        Box::pin(
            async move {
                let response = answer.await?;
                let code = code_name(
                    response
                        .headers()
                        .get("grpc-status")
                        .map(http::HeaderValue::as_bytes),
                );
                tracing::Span::current().record("rpc.grpc.status_code", code);
                metrics.record(method, code, started.elapsed().as_secs_f64());
                Ok(response)
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_counted_under_its_code_and_every_bucket_it_fits() {
        let metrics = RpcMetrics::default();
        metrics.record("repair.v1.TicketCommands/ReceiveTicket", "OK", 0.004);
        metrics.record(
            "repair.v1.TicketCommands/ReceiveTicket",
            "INVALID_ARGUMENT",
            0.2,
        );
        let mut out = String::new();
        metrics.render(&mut out);
        for line in [
            "ticketd_rpc_requests_total{method=\"repair.v1.TicketCommands/ReceiveTicket\",code=\"OK\"} 1",
            "ticketd_rpc_requests_total{method=\"repair.v1.TicketCommands/ReceiveTicket\",code=\"INVALID_ARGUMENT\"} 1",
            "ticketd_rpc_duration_seconds_bucket{method=\"repair.v1.TicketCommands/ReceiveTicket\",le=\"0.0025\"} 0",
            "ticketd_rpc_duration_seconds_bucket{method=\"repair.v1.TicketCommands/ReceiveTicket\",le=\"0.005\"} 1",
            "ticketd_rpc_duration_seconds_bucket{method=\"repair.v1.TicketCommands/ReceiveTicket\",le=\"0.25\"} 2",
            "ticketd_rpc_duration_seconds_bucket{method=\"repair.v1.TicketCommands/ReceiveTicket\",le=\"+Inf\"} 2",
            "ticketd_rpc_duration_seconds_count{method=\"repair.v1.TicketCommands/ReceiveTicket\"} 2",
        ] {
            assert!(out.contains(line), "{line} missing from\n{out}");
        }
    }

    #[test]
    fn a_made_up_path_is_labelled_unknown_and_a_served_one_by_its_name() {
        assert_eq!(
            label("/repair.v1.TicketCommands/ReceiveTicket"),
            "repair.v1.TicketCommands/ReceiveTicket"
        );
        assert_eq!(
            label("/grpc.health.v1.Health/Check"),
            "grpc.health.v1.Health/Check"
        );
        assert_eq!(label("/repair.v1.TicketCommands/Nope"), "unknown");
        assert_eq!(label("/x\"} 1\n# injected"), "unknown");
    }

    #[test]
    fn a_status_in_the_headers_is_the_calls_code_and_none_is_ok() {
        assert_eq!(code_name(Some(b"3")), "INVALID_ARGUMENT");
        assert_eq!(code_name(Some(b"8")), "RESOURCE_EXHAUSTED");
        assert_eq!(code_name(None), "OK");
    }
}
