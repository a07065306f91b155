//! Assembling and running ticketd: store, command bus, projection runner
//! the gRPC server with health and reflection, `/metrics` and the web
//! console, with graceful shutdown.

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
use crate::rpc::commands::CommandService;
use crate::rpc::cost::CostLedgerService;
use crate::rpc::events::EventLogService;
use crate::rpc::fracas::FracasService;
use crate::rpc::import::ImportService;
use crate::rpc::pb::audit_server::AuditServer;
use crate::rpc::pb::cost_ledger_server::CostLedgerServer;
use crate::rpc::pb::event_log_server::EventLogServer;
use crate::rpc::pb::fracas_server::FracasServer;
use crate::rpc::pb::privacy_server::PrivacyServer;
use crate::rpc::pb::sla_dashboard_server::SlaDashboardServer;
use crate::rpc::pb::ticket_commands_server::TicketCommandsServer;
use crate::rpc::pb::ticket_import_server::TicketImportServer;
use crate::rpc::pb::ticket_queries_server::TicketQueriesServer;
use crate::rpc::privacy::PrivacyService;
use crate::rpc::queries::QueryService;
use crate::rpc::sla::SlaDashboardService;
use crate::rpc::DESCRIPTOR_SET;
use crate::store::{StoreConfig, StoreError};
use projections::engine::Context;
use projections::sla::SlaConfig;
use tonic::service::interceptor::InterceptedService;

/// How long a shutdown waits for calls in flight (a subscriber that stopped
/// reading, a slow client) before it stops without them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

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
    let metrics_listener = match listen.metrics {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let metrics_addr = metrics_listener.as_ref().map(|(_, a)| *a);
    let console_listener = match listen.console {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let console_addr = console_listener.as_ref().map(|(_, a)| *a);

    let committed = Arc::new(Notify::new());
    let services =
        TicketServices::new(Arc::new(SystemClock), (*policy.current()).clone()).with_timing(timing);
    let bus = Arc::new(
        CommandBus::new(
            db.clone(),
            services.clone(),
            committed.clone(),
            master_key.clone(),
        )
        .with_policy(policy.clone()),
    );
    // Subscriptions open sealed personal data with the same master key.
    let keyring = Arc::new(Keyring::new(db.clone(), master_key));
    let (stop, stopped) = watch::channel(false);
    let reloader = tokio::spawn(crate::policy::reload_on_hangup(
        policy.clone(),
        stopped.clone(),
    ));

    let retention = tokio::spawn(crate::privacy::retention::run(bus.clone(), stopped.clone()));
    let (head, head_seen) = watch::channel(0_i64);
    let sla_watcher = tokio::spawn(crate::sla::watch_deadlines(
        db.clone(),
        Arc::new(SystemClock),
        crate::sla::WATCH_INTERVAL,
        committed.clone(),
        stopped.clone(),
    ));
    let projector = tokio::spawn(crate::project::run_all(
        db.clone(),
        Context::new(policy.current().local_time(), sla),
        committed,
        head,
        stopped.clone(),
    ));
    let metrics_tls = listen.tls.as_ref().map(crate::tls::Tls::metrics);
    let rpc_metrics = crate::rpc::observe::RpcMetrics::default();
    let metrics = metrics_listener.map(|(l, _)| {
        tokio::spawn(crate::metrics::serve(
            l,
            metrics_tls,
            crate::metrics::Sources {
                db: db.clone(),
                rpc: rpc_metrics.clone(),
                bus: bus.clone(),
            },
            stopped.clone(),
        ))
    });

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<TicketCommandsServer<CommandService>>()
        .await;
    health_reporter
        .set_serving::<TicketQueriesServer<QueryService>>()
        .await;
    health_reporter
        .set_serving::<EventLogServer<EventLogService>>()
        .await;
    health_reporter
        .set_serving::<AuditServer<AuditService>>()
        .await;
    health_reporter
        .set_serving::<CostLedgerServer<CostLedgerService>>()
        .await;
    health_reporter
        .set_serving::<FracasServer<FracasService>>()
        .await;
    health_reporter
        .set_serving::<SlaDashboardServer<SlaDashboardService>>()
        .await;
    health_reporter
        .set_serving::<TicketImportServer<ImportService>>()
        .await;
    health_reporter
        .set_serving::<PrivacyServer<PrivacyService>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let console = console_listener.map(|(l, _)| {
        let secure = listen.tls.is_some();
        let app = crate::console::Console::new(
            console_services(&db, &bus, &services, &head_seen, sla, &keyring),
            auth.clone(),
            secure,
            stopped.clone(),
        );
        tokio::spawn(crate::console::serve(
            l,
            listen.tls.as_ref().map(crate::tls::Tls::console),
            app,
            stopped.clone(),
        ))
    });

    // Every API call but health and reflection is authenticated first. The
    // data protection officer may erase personal data and do nothing else
    // (DOMAIN.md §11): every service but Privacy refuses the role.
    let auth = Arc::new(auth);
    let privacy_auth = auth.clone();
    let identify = move |mut request: tonic::Request<()>| {
        let actor = auth.identify(request.metadata())?;
        if actor.role == domain::Role::DataProtectionOfficer {
            return Err(tonic::Status::permission_denied(
                "role data_protection_officer may only erase personal data (the Privacy service)",
            ));
        }
        request.extensions_mut().insert(actor);
        Ok(request)
    };
    let privacy = InterceptedService::new(
        PrivacyServer::new(PrivacyService::new(bus.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
        move |mut request: tonic::Request<()>| {
            let actor = privacy_auth.identify(request.metadata())?;
            request.extensions_mut().insert(actor);
            Ok(request)
        },
    );
    let commands = InterceptedService::new(
        TicketCommandsServer::new(CommandService::new(bus.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
        identify.clone(),
    );
    let queries = InterceptedService::new(
        TicketQueriesServer::new(QueryService::new(bus.clone(), db.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
        identify.clone(),
    );
    let events = InterceptedService::new(
        EventLogServer::new(EventLogService::new(db.clone(), head_seen, keyring))
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
        identify.clone(),
    );
    let cost = InterceptedService::new(
        CostLedgerServer::new(CostLedgerService::new(db.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
        identify.clone(),
    );
    let fracas = InterceptedService::new(
        FracasServer::new(FracasService::new(db.clone(), bus.clone(), services))
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
        identify.clone(),
    );
    let sla = InterceptedService::new(
        SlaDashboardServer::new(SlaDashboardService::new(
            db.clone(),
            sla,
            Arc::new(SystemClock),
        ))
        .max_decoding_message_size(MAX_MESSAGE_BYTES),
        identify.clone(),
    );
    let import = InterceptedService::new(
        TicketImportServer::new(ImportService::new(bus.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
        identify.clone(),
    );
    let audit = InterceptedService::new(
        AuditServer::new(AuditService::new(db.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
        identify,
    );

    let policy_version = policy.current().version.clone();
    let grpc_tls = listen.tls.clone();
    let mut until_stopped = stopped.clone();
    let mut grace_from = stopped.clone();
    let server = tokio::spawn(async move {
        tracing::info!(
            %addr,
            tls = grpc_tls.as_ref().map_or("off", |t| if t.mutual() { "mutual" } else { "on" }),
            policy = %policy_version.label,
            digest = %policy_version.digest,
            "ticketd serving gRPC"
        );
        let mut builder = tonic::transport::Server::builder();
        if let Some(tls) = &grpc_tls {
            builder = builder.tls_config(tls.grpc())?;
        }
        let serving = builder
            .timeout(Duration::from_secs(30))
            // Outermost, so that it counts the code the caller gets.
            .layer(crate::rpc::observe::ObserveLayer(rpc_metrics))
            .layer(tower::util::MapResponseLayer::new(
                crate::rpc::limits::size_cap_as_resource_exhausted,
            ))
            .add_service(health)
            .add_service(reflection)
            .add_service(reflection_alpha)
            .add_service(commands)
            .add_service(queries)
            .add_service(events)
            .add_service(privacy)
            .add_service(audit)
            .add_service(cost)
            .add_service(fracas)
            .add_service(sla)
            .add_service(import)
            .serve_with_incoming_shutdown(without_delay(listener), async move {
                let _ = until_stopped.wait_for(|stop| *stop).await;
                tracing::info!("shutting down: finishing calls in flight");
            });
        // A client that stopped reading a stream would hold a graceful
        // shutdown forever; after the grace period its connection is closed.
        let served = tokio::select! {
            served = serving => served,
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
        };
        if let Err(join) = reloader.await {
            tracing::error!(%join, "policy reloader failed");
        }
        if let Err(join) = sla_watcher.await {
            tracing::error!(%join, "SLA watcher failed");
        }
        if let Err(join) = retention.await {
            tracing::error!(%join, "retention rule failed");
        }
        if let Err(join) = projector.await {
            tracing::error!(%join, "projection runner failed");
        }
        if let Some(Err(join)) = futures::future::OptionFuture::from(metrics).await {
            tracing::error!(%join, "metrics endpoint failed");
        }
        if let Some(Err(join)) = futures::future::OptionFuture::from(console).await {
            tracing::error!(%join, "console failed");
        }
        db.close().await;
        tracing::info!("ticketd stopped");
        served.map_err(ServeError::from)
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
