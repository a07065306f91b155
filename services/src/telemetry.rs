//! Logs and traces. Logs go to stderr (JSON or text). Traces go over OTLP
//! (gRPC) when an endpoint is given, and nowhere otherwise: each gRPC call
//! is a span (`rpc::observe`), continuing the caller's W3C `traceparent`,
//! with the command bus (`bus.execute`) and the wait for the group commit
//! (`commit.wait`) under it, and each commit batch a span of its own
//! (`commit.batch`) linked to the commands it wrote.

use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Where traces go.
#[derive(Debug, Clone)]
pub struct Tracing {
    /// OTLP gRPC endpoint, e.g. `http://otel-collector:4317`.
    pub endpoint: String,
    /// `service.name` of every span.
    pub service: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("OTLP exporter for {endpoint}: {message}")]
    Exporter { endpoint: String, message: String },
    #[error("logging: {0}")]
    Init(String),
}

/// Flushes the spans still buffered when dropped or shut down.
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports what is buffered and stops the exporter.
    pub fn shutdown(mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(error) = provider.shutdown() {
                eprintln!("ticketd: traces not all exported: {error}");
            }
        }
    }
}

/// Installs the process's logging and, with `tracing`, the OTLP exporter.
/// Must run inside the tokio runtime (the exporter's gRPC client uses it).
pub fn init(json: bool, tracing: Option<&Tracing>) -> Result<Telemetry, TelemetryError> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,h2=warn,tower=warn"));
    // Logs go to stderr, so that what a command prints on stdout (a report,
    // a token, JSON) stays machine-readable; colours only on a terminal.
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let fmt = if json {
        fmt.json().with_filter(filter).boxed()
    } else {
        fmt.with_filter(filter).boxed()
    };
    let Some(tracing) = tracing else {
        return tracing_subscriber::registry()
            .with(fmt)
            .try_init()
            .map(|()| Telemetry::default())
            .map_err(|e| TelemetryError::Init(e.to_string()));
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(tracing.endpoint.clone())
        .build()
        .map_err(|e| TelemetryError::Exporter {
            endpoint: tracing.endpoint.clone(),
            message: e.to_string(),
        })?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(tracing.service.clone())
                .build(),
        )
        .build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    // Our spans only: the dependencies' own spans stay out of the traces.
    let spans = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("ticketd"))
        .with_filter(EnvFilter::new("ticketd=info"));
    tracing_subscriber::registry()
        .with(fmt)
        .with(spans)
        .try_init()
        .map_err(|e| TelemetryError::Init(e.to_string()))?;
    Ok(Telemetry {
        provider: Some(provider),
    })
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// The span of one gRPC call, continuing the caller's `traceparent` when
/// it sent one.
pub fn rpc_span(method: &str, headers: &http::HeaderMap) -> tracing::Span {
    let span = tracing::info_span!(
        "rpc",
        otel.name = method,
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.method = method,
        rpc.grpc.status_code = tracing::field::Empty,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
    let _ = span.set_parent(parent);
    span
}
