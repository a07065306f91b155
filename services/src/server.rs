//! Assembling and running ticketd: store, command bus, projection runner
//! the gRPC server with health and reflection, `/metrics` and the web
//! console, with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use domain::{TicketServices, TimingPolicy};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt as _;

use crate::auth::Auth;
use crate::bus::CommandBus;
use crate::clock::SystemClock;
use crate::policy::PolicyHandle;
use crate::privacy::{Keyring, MasterKey};
use crate::rpc::audit::AuditService;
use crate::rpc::cost::CostLedgerService;
use crate::rpc::events::EventLogService;
use crate::rpc::fracas::FracasService;
use crate::rpc::sla::SlaDashboardService;
use crate::store::{StoreConfig, StoreError};
use projections::engine::Context;
use projections::sla::SlaConfig;
use tonic::service::Routes;

mod api;

/// How long a shutdown waits for calls in flight (a subscriber that stopped
/// reading, a slow client) before it stops without them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// HTTP/2 streams (calls) one gRPC connection may hold open at once.
pub const MAX_CONCURRENT_STREAMS: u32 = 256;
/// How often an idle gRPC connection is pinged, and how long the answer
/// may take before the connection is closed.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(60);
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Largest request accepted, in bytes.
pub use crate::rpc::limits::MAX_MESSAGE_BYTES;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("SLA configuration: {0}")]
    Sla(#[from] crate::sla::SlaConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Where to listen.
#[derive(Debug, Clone)]
pub struct Listen {
    /// gRPC (port 0 picks a free port).
    pub grpc: SocketAddr,
    /// Prometheus `/metrics`; `None` turns it off.
    pub metrics: Option<SocketAddr>,
    /// The web console (HTTP); `None` turns it off.
    pub console: Option<SocketAddr>,
    /// TLS on every port; `None` serves clear text (loopback, development).
    pub tls: Option<crate::tls::Tls>,
}

/// What a server runs with besides its store and listeners: read from the
/// settings by `main` (or made by a test) and passed down; the library
/// looks none of it up in the process or the environment.
#[derive(Clone)]
pub struct Setup {
    pub auth: Auth,
    /// The company's policy, loaded once by the caller; the server reloads
    /// it on SIGHUP.
    pub policy: PolicyHandle,
    /// The limits on the `occurred_at` a command may state.
    pub timing: TimingPolicy,
    /// SLA policy and calendars: the projection, the dashboard, the console.
    pub sla: &'static SlaConfig,
    /// What personal data is sealed under (docs/PRIVACY.md).
    pub master_key: MasterKey,
}

impl std::fmt::Debug for Setup {
    /// Everything but the master key, which is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("auth", &self.auth)
            .field("policy", &self.policy)
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

impl Setup {
    /// With the standard limits on back-dated commands
    /// ([`TimingPolicy::STANDARD`]).
    pub fn new(
        auth: Auth,
        policy: PolicyHandle,
        sla: &'static SlaConfig,
        master_key: MasterKey,
    ) -> Self {
        Self {
            auth,
            policy,
            timing: TimingPolicy::STANDARD,
            sla,
            master_key,
        }
    }
}

/// A server that is up and listening.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    pub console_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    server: JoinHandle<Result<(), ServeError>>,
    policy: PolicyHandle,
}

impl Running {
    /// Stops accepting calls, lets running ones finish, stops the
    /// projection runner and closes the store.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        let _ = self.stop.send(true);
        self.wait().await
    }

    /// Waits until the server stops by itself (or is shut down).
    pub async fn wait(self) -> Result<(), ServeError> {
        match self.server.await {
            Ok(result) => result,
            Err(join) => {
                tracing::error!(%join, "server task failed");
                Ok(())
            }
        }
    }

    /// The policy in force (what SIGHUP reloads).
    pub fn policy(&self) -> &PolicyHandle {
        &self.policy
    }

    /// A handle that stops the server when sent `true`.
    pub fn stopper(&self) -> watch::Sender<bool> {
        self.stop.clone()
    }
}

/// What runs beside the API until the stop (the policy reloader, the SLA
/// watcher, the retention rule, the projections, `/metrics`, the console),
/// each by name.
#[derive(Default)]
struct Duties(Vec<(&'static str, JoinHandle<()>)>);

impl Duties {
    /// Runs `duty` as a task of its own.
    fn spawn(&mut self, name: &'static str, duty: impl Future<Output = ()> + Send + 'static) {
        self.0.push((name, tokio::spawn(duty)));
    }

    /// Waits for every duty to end (they end at the stop).
    async fn join(self) {
        for (duty, task) in self.0 {
            if let Err(join) = task.await {
                tracing::error!(%join, duty, "a duty of the server failed");
            }
        }
    }
}

/// The gRPC server, ready to run on its listener until the stop.
struct Serving {
    addr: SocketAddr,
    listener: TcpListener,
    tls: Option<crate::tls::Tls>,
    routes: Routes,
    auth: Arc<Auth>,
    /// Whose access table the API answers to (reloaded with the policy).
    access: PolicyHandle,
    rpc_metrics: crate::rpc::observe::RpcMetrics,
    policy: domain::policy::PolicyVersion,
    stopped: watch::Receiver<bool>,
}

impl Serving {
    /// Serves until the stop, then finishes the calls in flight for at
    /// most [`SHUTDOWN_GRACE`].
    async fn run(self) -> Result<(), ServeError> {
        tracing::info!(
            addr = %self.addr,
            tls = self.tls.as_ref().map_or("off", |t| if t.mutual() { "mutual" } else { "on" }),
            policy = %self.policy.label,
            digest = %self.policy.digest,
            "ticketd serving gRPC"
        );
        let mut builder = tonic::transport::Server::builder();
        if let Some(tls) = &self.tls {
            builder = builder.tls_config(tls.grpc())?;
        }
        let (mut until_stopped, mut grace_from) = (self.stopped.clone(), self.stopped);
        let serving = builder
            .timeout(Duration::from_secs(30))
            // Streams one connection may hold open at once (advertised in
            // SETTINGS); an idle or dead peer is found by HTTP/2 pings.
            .max_concurrent_streams(Some(MAX_CONCURRENT_STREAMS))
            .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
            .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
            // Outermost, so that it counts the code the caller gets.
            .layer(crate::rpc::observe::ObserveLayer(self.rpc_metrics))
            .layer(tower::util::MapResponseLayer::new(
                crate::rpc::limits::size_cap_as_resource_exhausted,
            ))
            // Innermost: who calls, and whether the access table lets them.
            .layer(crate::access::layer::AccessLayer {
                auth: self.auth,
                policy: self.access,
            })
            .add_routes(self.routes)
            .serve_with_incoming_shutdown(without_delay(self.listener), async move {
                let _ = until_stopped.wait_for(|stop| *stop).await;
                tracing::info!("shutting down: finishing calls in flight");
            });
        // A client that stopped reading a stream would hold a graceful
        // shutdown forever; after the grace period its connection is closed.
        tokio::select! {
            served = serving => Ok(served?),
            () = async move {
                let _ = grace_from.wait_for(|stop| *stop).await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {
                tracing::warn!(
                    grace = ?SHUTDOWN_GRACE,
                    "calls still open after the shutdown grace period; closing their connections"
                );
                Ok(())
            }
        }
    }
}

/// [`bind`] where an address is given (an endpoint that is on).
async fn bind_if(
    addr: Option<SocketAddr>,
) -> Result<Option<(TcpListener, SocketAddr)>, ServeError> {
    match addr {
        Some(addr) => Ok(Some(bind(addr).await?)),
        None => Ok(None),
    }
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ServeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    Ok((listener, bound))
}

/// What the console's pages read from: the API's own services.
fn console_services(
    db: &crate::store::Pool,
    bus: &Arc<CommandBus>,
    services: &TicketServices,
    head: &watch::Receiver<i64>,
    sla: &'static SlaConfig,
    keyring: &Arc<Keyring>,
) -> crate::console::Services {
    crate::console::Services {
        db: db.clone(),
        sla: SlaDashboardService::new(db.clone(), sla, Arc::new(SystemClock)),
        sla_config: sla,
        audit: AuditService::new(db.clone()),
        cost: CostLedgerService::new(db.clone()),
        fracas: FracasService::new(db.clone(), bus.clone(), services.clone()),
        events: EventLogService::new(db.clone(), head.clone(), keyring.clone()),
        head: head.clone(),
        zone: sla.calendars.default.zone,
    }
}

/// Opens the store, applies migrations and starts serving (see
/// [`Running::addr`] for the port actually bound).
pub async fn start(
    store: &StoreConfig,
    listen: Listen,
    setup: Setup,
) -> Result<Running, ServeError> {
    let Setup {
        auth,
        policy,
        timing,
        sla,
        master_key,
    } = setup;
    if matches!(auth, Auth::InsecureHeaders) {
        tracing::warn!(
            "INSECURE development mode: callers are whoever their x-actor-id / x-actor-role headers say; never use this in production"
        );
    }
    let db = crate::store::open(store).await?;
    crate::store::migrate(&db).await?;
    let (listener, addr) = bind(listen.grpc).await?;
    let metrics_listener = bind_if(listen.metrics).await?;
    let metrics_addr = metrics_listener.as_ref().map(|(_, a)| *a);
    let console_listener = bind_if(listen.console).await?;
    let console_addr = console_listener.as_ref().map(|(_, a)| *a);

    let committed = Arc::new(Notify::new());
    let services =
        TicketServices::new(Arc::new(SystemClock), (*policy.current()).clone()).with_timing(timing);
    let bus = CommandBus::new(
        db.clone(),
        services.clone(),
        committed.clone(),
        master_key.clone(),
    );
    let bus = Arc::new(bus.with_policy(policy.clone()));
    // Subscriptions open sealed personal data with the same master key.
    let keyring = Arc::new(Keyring::new(db.clone(), master_key));
    let (stop, stopped) = watch::channel(false);
    let (head, head_seen) = watch::channel(0_i64);
    let mut duties = Duties::default();
    duties.spawn(
        "policy reloader",
        crate::policy::reload_on_hangup(policy.clone(), stopped.clone()),
    );
    duties.spawn(
        "SLA watcher",
        crate::sla::watch_deadlines(
            db.clone(),
            Arc::new(SystemClock),
            crate::sla::WATCH_INTERVAL,
            committed.clone(),
            stopped.clone(),
        ),
    );
    duties.spawn(
        "retention rule",
        crate::privacy::retention::run(bus.clone(), stopped.clone()),
    );
    let cx = Context::new(policy.current().local_time(), sla);
    duties.spawn(
        "projection runner",
        crate::project::run_all(db.clone(), cx, committed, head, stopped.clone()),
    );
    let rpc_metrics = crate::rpc::observe::RpcMetrics::default();
    if let Some((l, _)) = metrics_listener {
        let sources = crate::metrics::Sources {
            db: db.clone(),
            rpc: rpc_metrics.clone(),
            bus: bus.clone(),
        };
        let tls = listen.tls.as_ref().map(crate::tls::Tls::metrics);
        let serving = crate::metrics::serve(l, tls, sources, stopped.clone());
        duties.spawn("metrics endpoint", serving);
    }
    if let Some((l, _)) = console_listener {
        let app = crate::console::Console::new(
            console_services(&db, &bus, &services, &head_seen, sla, &keyring),
            auth.clone(),
            policy.clone(),
            listen.tls.is_some(),
            stopped.clone(),
        );
        let tls = listen.tls.as_ref().map(crate::tls::Tls::console);
        duties.spawn(
            "console",
            crate::console::serve(l, tls, app, stopped.clone()),
        );
    }
    let routes = api::routes(api::Parts {
        db: db.clone(),
        bus,
        services,
        head: head_seen,
        keyring,
        sla,
    })
    .await?;
    let serving = Serving {
        addr,
        listener,
        tls: listen.tls,
        routes,
        auth: Arc::new(auth),
        access: policy.clone(),
        rpc_metrics,
        policy: policy.current().version.clone(),
        stopped,
    };
    let server = tokio::spawn(async move {
        let served = serving.run().await;
        duties.join().await;
        db.close().await;
        tracing::info!("ticketd stopped");
        served
    });
    Ok(Running {
        addr,
        metrics_addr,
        console_addr,
        stop,
        server,
        policy,
    })
}

/// The accepted connections, each with Nagle's algorithm off. tonic sets
/// `TCP_NODELAY` only on a listener it binds itself; on ours, a reply of
/// more than one segment waited for the client's delayed ACK (40 ms on
/// Linux): a page of 50 tickets took 48 ms, a single ticket 2 ms.
fn without_delay(
    listener: tokio::net::TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        // A connection it cannot be set on is still served (with delays).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::warn!(%error, "TCP_NODELAY not set on a connection");
        }
        Ok(stream)
    })
}
