//! The web console: server-rendered pages over the same services as the
//! gRPC API, on their own address (`--console-listen`).
//!
//! Every page calls the gRPC service implementations in this process with
//! the signed-in actor in the request's extensions, as the gRPC access
//! layer puts it there: the validation and the read-model queries are the
//! API's own, by construction; which role may open a page is the access
//! table's answer for every RPC the page calls (`calls.rs`). A refusal
//! comes back as the API's status and is shown with the matching HTTP
//! code.
//!
//! Invariants: no page is served without a live session (except sign-in
//! and the embedded assets); every state-changing form carries the
//! session's CSRF token; the session cookie is HttpOnly, SameSite=Strict and
//! Secure under TLS.

pub mod calls;
mod cost;
mod fracas;
pub mod guard;
mod live;
mod page;
mod report;
mod session;
mod sla;
mod svg;
mod tail;
mod ticket;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::auth::Auth;
use crate::rpc::audit::AuditService;
use crate::rpc::cost::CostLedgerService;
use crate::rpc::events::EventLogService;
use crate::rpc::fracas::FracasService;
use crate::rpc::sla::SlaDashboardService;
use crate::store::Pool;

pub use session::SESSION_COOKIE;

/// What the pages read from: the API's own services.
#[derive(Debug)]
pub struct Services {
    pub db: Pool,
    pub sla: SlaDashboardService,
    pub audit: AuditService,
    pub cost: CostLedgerService,
    pub fracas: FracasService,
    pub events: EventLogService,
    /// The log head as the projection runner publishes it.
    pub head: watch::Receiver<i64>,
    /// SLA policy and calendars (the board's clock names).
    pub sla_config: &'static projections::sla::SlaConfig,
    /// Business-calendar zone in which deadlines and dates are shown.
    pub zone: chrono_tz::Tz,
}

#[derive(Debug)]
struct Inner {
    services: Services,
    auth: Auth,
    sessions: session::Sessions,
    sign_ins: guard::SignInGuard,
    /// Served over TLS: the cookie is `Secure`.
    secure: bool,
    stop: watch::Receiver<bool>,
    /// The log head the read models have applied, for `/live`.
    applied: watch::Receiver<i64>,
    /// Whose access table decides which pages a role opens.
    policy: crate::policy::PolicyHandle,
}

/// The console's shared state.
#[derive(Debug, Clone)]
pub struct Console(Arc<Inner>);

impl Console {
    pub fn new(
        services: Services,
        auth: Auth,
        policy: crate::policy::PolicyHandle,
        secure: bool,
        stop: watch::Receiver<bool>,
    ) -> Self {
        let applied = live::applied_heads(services.db.clone(), services.head.clone(), stop.clone());
        Self(Arc::new(Inner {
            applied,
            policy,
            services,
            auth,
            sessions: session::Sessions::default(),
            sign_ins: guard::SignInGuard::default(),
            secure,
            stop,
        }))
    }

    fn services(&self) -> &Services {
        &self.0.services
    }

    /// Every route of the console.
    pub fn router(self) -> Router {
        let secure = self.0.secure;
        let router = Router::new()
            .route("/", get(page::home))
            .route("/assets/console.css", get(page::css))
            .route("/assets/console.js", get(page::js))
            .route("/signin", get(session::form).post(session::sign_in))
            .route("/signout", post(session::sign_out))
            .route("/sla", get(sla::board))
            .route("/sla/clocks", get(sla::clocks_fragment))
            .route("/sla/open-clocks.csv", get(sla::open_clocks_csv))
            .route("/sla/kpis.csv", get(sla::kpis_csv))
            .route("/live", get(live::changes))
            .route("/tickets", get(ticket::find))
            .route("/tickets/{id}", get(ticket::timeline))
            .route("/tickets/{id}/export", get(ticket::export))
            .route("/fracas", get(report::page::<fracas::Fracas>))
            .route("/fracas/{file}", get(report::csv::<fracas::Fracas>))
            .route("/cost", get(report::page::<cost::Cost>))
            .route("/cost/{file}", get(report::csv::<cost::Cost>))
            .route("/tail", get(tail::page))
            .route("/tail/stream", get(tail::stream))
            .layer(axum::middleware::map_response(page::security_headers));
        // Under TLS, browsers are told to come back only over TLS.
        let router = if secure {
            router.layer(axum::middleware::map_response(page::strict_transport))
        } else {
            router
        };
        router.with_state(self)
    }
}

/// Serves the console on `listener` (over TLS when given) until `stop`;
/// then open connections (live streams) are closed.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    console: Console,
    mut stop: watch::Receiver<bool>,
) {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(?addr, tls = tls.is_some(), "console serving HTTP");
    let app = console.router();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) if connections.len() >= MAX_CONNECTIONS => {
                    tracing::warn!(limit = MAX_CONNECTIONS, "console connection refused: at the connection cap");
                    drop(stream);
                }
                Ok((stream, peer)) => {
                    connections.spawn(connection(stream, peer, tls.clone(), app.clone()));
                }
                Err(error) => tracing::warn!(%error, "console accept failed"),
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// One connection: the TLS handshake if configured, then HTTP/1.1.
/// Connections the console holds open at once (live pages and event
/// tails included); one more is closed at once.
pub const MAX_CONNECTIONS: usize = 512;
/// How long a client has to send a request's headers, and to finish a TLS
/// handshake: a half-sent request does not hold a connection longer.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

async fn connection(stream: TcpStream, peer: SocketAddr, tls: Option<TlsAcceptor>, app: Router) {
    // The caller's address, for the sign-in guard and its log.
    let app = tower::ServiceExt::map_request(app, move |mut request: http::Request<_>| {
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        request
    });
    let service = TowerToHyperService::new(app);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let served = match tls {
        Some(tls) => match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
            Ok(Ok(stream)) => http.serve_connection(TokioIo::new(stream), service).await,
            Ok(Err(error)) => {
                tracing::debug!(%error, "console TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "console TLS handshake timed out");
                return;
            }
        },
        None => http.serve_connection(TokioIo::new(stream), service).await,
    };
    if let Err(error) = served {
        tracing::debug!(%error, "console connection ended");
    }
}
