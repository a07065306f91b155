//! A real ticketd on port 0, against a temporary SQLite file or a fresh
//! PostgreSQL database, and a gRPC client for it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sqlx::Connection;
use ticketd::policy::PolicyHandle;
use ticketd::rpc::pb;
use ticketd::rpc::pb::audit_client::AuditClient;
use ticketd::rpc::pb::event_log_client::EventLogClient;
use ticketd::rpc::pb::ticket_commands_client::TicketCommandsClient;
use ticketd::rpc::pb::ticket_queries_client::TicketQueriesClient;
use ticketd::server::{start, Listen, Running, Setup};
use ticketd::store::{Pool, StoreConfig};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Request};

/// Where the PostgreSQL tests create their databases.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub use crate::runtime::{master_key, rebuild, setup};

/// The built-in policy, as a server started without `--policy` has it
/// (with the shipped calendar's rest days).
pub fn builtin_policy() -> PolicyHandle {
    PolicyHandle::load(policy_source(None)).expect("the built-in policy loads")
}

/// A policy file (`None`: built in) with the shipped calendar's rest days,
/// as `ticketd serve` without `--calendars` reads it.
pub fn policy_source(path: Option<std::path::PathBuf>) -> ticketd::policy::PolicySource {
    ticketd::policy::PolicySource {
        path,
        rest_days: projections::sla::Calendars::default().default.rest_days(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Adds a bearer token to every call of a client.
pub type Reader = fn(Request<()>) -> Result<Request<()>, tonic::Status>;
pub type Authed = InterceptedService<Channel, Reader>;

fn with_token(role: &str, mut request: Request<()>) -> Result<Request<()>, tonic::Status> {
    let value = format!("Bearer {}", token(role))
        .parse()
        .map_err(|_| tonic::Status::internal("bad header"))?;
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}

pub fn as_reader(request: Request<()>) -> Result<Request<()>, tonic::Status> {
    with_token("service_manager", request)
}

fn as_integration(request: Request<()>) -> Result<Request<()>, tonic::Status> {
    with_token("integration", request)
}

fn as_auditor(request: Request<()>) -> Result<Request<()>, tonic::Status> {
    with_token("auditor", request)
}

/// Every role's bearer token in the tests.
pub fn token(role: &str) -> String {
    format!("test-token-{role}")
}

/// A second integration token, `integration-2`, without the personal data
/// grant `integration-1` has.
pub const UNGRANTED_INTEGRATION: &str = "test-token-integration-ungranted";

/// The token book the test servers use: one actor `<role>-1` per role (the
/// integration's with the personal data grant), and
/// [`UNGRANTED_INTEGRATION`].
pub fn test_auth() -> ticketd::auth::Auth {
    let actor = |id: &str, role: &str| domain::Actor {
        id: domain::values::ActorId::parse(id).expect("id"),
        role: domain::Role::parse(role).expect("role"),
    };
    let grants = |personal_data| ticketd::auth::Grants { personal_data };
    let mut book: Vec<_> = domain_roles()
        .into_iter()
        .map(|role| {
            (
                token(role),
                actor(&format!("{role}-1"), role),
                grants(role == "integration"),
            )
        })
        .collect();
    book.push((
        UNGRANTED_INTEGRATION.to_owned(),
        actor("integration-2", "integration"),
        grants(false),
    ));
    ticketd::auth::Auth::from_granted_tokens(book)
}

pub fn domain_roles() -> Vec<&'static str> {
    domain::Role::ALL.iter().map(|r| r.as_str()).collect()
}

/// Both ports picked by the OS.
fn listen() -> Listen {
    Listen {
        grpc: "127.0.0.1:0".parse().expect("addr"),
        metrics: Some("127.0.0.1:0".parse().expect("addr")),
        console: Some("127.0.0.1:0".parse().expect("addr")),
        tls: None,
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    /// The web console's address.
    pub console_addr: Option<SocketAddr>,
    pub config: StoreConfig,
    running: Option<Running>,
    pg_database: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with_policy(backend, builtin_policy()).await
    }

    /// A server deciding under `policy` (reload it as SIGHUP would with
    /// `server.policy().reload()`).
    pub async fn start_with_policy(backend: Backend, policy: PolicyHandle) -> Self {
        let mut server = Self::without_server(backend).await;
        let running = start(&server.config, listen(), setup(policy))
            .await
            .expect("ticketd starts");
        server.addr = running.addr;
        server.metrics_addr = running.metrics_addr;
        server.console_addr = running.console_addr;
        server.running = Some(running);
        server
    }

    /// As [`Self::start`], with other limits on back-dated commands.
    pub async fn start_with_timing(backend: Backend, timing: domain::TimingPolicy) -> Self {
        let mut server = Self::without_server(backend).await;
        let setup = Setup {
            timing,
            ..setup(builtin_policy())
        };
        let running = start(&server.config, listen(), setup)
            .await
            .expect("ticketd starts");
        server.addr = running.addr;
        server.metrics_addr = running.metrics_addr;
        server.console_addr = running.console_addr;
        server.running = Some(running);
        server
    }

    /// A fresh store (temporary SQLite file, or a new PostgreSQL database)
    /// with no server in this process: for a ticketd run as a child
    /// process, whose address is then given with [`Self::served_at`].
    pub async fn without_server(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (config, pg_database) = match backend {
            Backend::Sqlite => (
                StoreConfig::Sqlite {
                    path: dir.path().join("ticketd.db"),
                },
                None,
            ),
            Backend::Postgres => {
                let name = format!("ticketd_t_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url())
                    .await
                    .expect("PostgreSQL must be running for the tests (see README)");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                let base = admin_url();
                let url = match base.rsplit_once('/') {
                    Some((server, _)) => format!("{server}/{name}"),
                    None => panic!("admin URL has no database part"),
                };
                (StoreConfig::Postgres { url }, Some(name))
            }
        };
        Self {
            addr: "127.0.0.1:0".parse().expect("addr"),
            metrics_addr: None,
            console_addr: None,
            config,
            running: None,
            pg_database,
            _dir: dir,
        }
    }

    /// A server on a store the test made itself (nothing is dropped at
    /// the end).
    pub async fn start_on(config: StoreConfig) -> Self {
        let running = start(&config, listen(), setup(builtin_policy()))
            .await
            .expect("ticketd starts");
        Self {
            addr: running.addr,
            metrics_addr: running.metrics_addr,
            console_addr: running.console_addr,
            config,
            running: Some(running),
            pg_database: None,
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// The policy the running server decides under (built in if none runs).
    pub fn policy(&self) -> PolicyHandle {
        self.running
            .as_ref()
            .map_or_else(builtin_policy, |r| r.policy().clone())
    }

    /// Points the clients at a server running elsewhere on this store.
    pub fn served_at(&mut self, addr: SocketAddr) {
        self.addr = addr;
    }

    /// The directory that holds the SQLite file (and anything else the
    /// test puts there).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Stops the server gracefully and starts a new one on the same store.
    pub async fn restart(&mut self) {
        let policy = self.policy();
        if let Some(running) = self.running.take() {
            running.shutdown().await.expect("clean shutdown");
        }
        let running = start(&self.config, listen(), setup(policy))
            .await
            .expect("ticketd restarts");
        self.addr = running.addr;
        self.metrics_addr = running.metrics_addr;
        self.console_addr = running.console_addr;
        self.running = Some(running);
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("uri")
            .connect()
            .await
            .expect("connect to ticketd")
    }

    pub async fn commands(&self) -> TicketCommandsClient<Channel> {
        TicketCommandsClient::new(self.channel().await)
    }

    /// A query client that reads as the service manager.
    pub async fn queries(&self) -> TicketQueriesClient<Authed> {
        TicketQueriesClient::with_interceptor(self.channel().await, as_reader as Reader)
    }

    /// An audit client acting as the auditor.
    pub async fn audit(&self) -> AuditClient<Authed> {
        AuditClient::with_interceptor(self.channel().await, as_auditor as Reader)
    }

    /// Events in the store, counted with raw SQL beside the server.
    pub async fn event_count(&self) -> i64 {
        match &self.config {
            StoreConfig::Postgres { url } => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query_scalar("SELECT count(*) FROM events")
                    .fetch_one(&mut conn)
                    .await
                    .expect("count")
            }
            StoreConfig::Sqlite { path } => {
                let mut conn = sqlite(path).await;
                sqlx::query_scalar("SELECT count(*) FROM events")
                    .fetch_one(&mut conn)
                    .await
                    .expect("count")
            }
        }
    }

    pub async fn events(&self) -> EventLogClient<Authed> {
        EventLogClient::with_interceptor(self.channel().await, as_integration as Reader)
    }

    /// A second ticketd on the same store (on PostgreSQL, the same
    /// database). Stopping it leaves the store to this server.
    pub async fn start_beside(&self) -> TestServer {
        let running = start(&self.config, listen(), setup(self.policy()))
            .await
            .expect("a second ticketd starts on the same store");
        Self {
            addr: running.addr,
            metrics_addr: running.metrics_addr,
            console_addr: running.console_addr,
            config: self.config.clone(),
            running: Some(running),
            pg_database: None,
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Stops the server gracefully but keeps its store (for `restart`, a
    /// server beside it, or raw SQL).
    pub async fn shut_down(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.expect("clean shutdown");
        }
    }

    /// A pool of our own on the server's store, for maintenance calls.
    pub async fn open_db(&self) -> Pool {
        ticketd::store::open(&self.config)
            .await
            .expect("open the store")
    }

    /// Waits until every event in the store is in the log and every
    /// projection has applied it, for at most `limit`.
    pub async fn caught_up_within(&self, limit: Duration) -> pb::LogStatus {
        let mut log = self.events().await;
        let deadline = Instant::now() + limit;
        loop {
            let events = u64::try_from(self.event_count().await).expect("count");
            let status = log
                .get_log_status(pb::GetLogStatusRequest {})
                .await
                .expect("log status")
                .into_inner();
            let caught_up = status.head_position == events
                && status
                    .projections
                    .iter()
                    .all(|p| p.lag == 0 && p.position == events);
            if caught_up {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "not caught up within {limit:?}: {events} events, {status:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the log and every projection have caught up.
    pub async fn caught_up(&self) -> pb::LogStatus {
        self.caught_up_within(Duration::from_secs(60)).await
    }

    /// The ticket summary table, read with raw SQL beside the server, in
    /// ticket id order; times as text.
    pub async fn summary_rows(&self) -> Vec<SummaryRow> {
        const COLUMNS: &str = "ticket_id, version, status, kind, priority, customer_name,
            customer_phone, serial_number, product_model, technician";
        match &self.config {
            StoreConfig::Postgres { url } => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS}, received_at::text AS received_at,
                            updated_at::text AS updated_at
                       FROM ticket_summary ORDER BY ticket_id"
                ))
                .fetch_all(&mut conn)
                .await
                .expect("read ticket_summary")
            }
            StoreConfig::Sqlite { path } => {
                let mut conn = sqlite(path).await;
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS}, received_at, updated_at
                       FROM ticket_summary ORDER BY ticket_id"
                ))
                .fetch_all(&mut conn)
                .await
                .expect("read ticket_summary")
            }
        }
    }

    /// Every ticket's version (its last event's sequence) in the event
    /// store, in ticket id order.
    pub async fn stream_versions(&self) -> Vec<(String, i64)> {
        const SQL: &str = "SELECT aggregate_id, MAX(sequence) FROM events
            WHERE aggregate_type = 'Ticket' GROUP BY aggregate_id ORDER BY aggregate_id";
        match &self.config {
            StoreConfig::Postgres { url } => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query_as(SQL)
                    .fetch_all(&mut conn)
                    .await
                    .expect("read versions")
            }
            StoreConfig::Sqlite { path } => sqlx::query_as(SQL)
                .fetch_all(&mut sqlite(path).await)
                .await
                .expect("read versions"),
        }
    }

    /// Every stored event's id, sorted.
    pub async fn event_ids(&self) -> Vec<String> {
        match &self.config {
            StoreConfig::Postgres { url } => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query_scalar("SELECT event_id::text FROM events ORDER BY 1")
                    .fetch_all(&mut conn)
                    .await
                    .expect("read event ids")
            }
            StoreConfig::Sqlite { path } => {
                sqlx::query_scalar("SELECT event_id FROM events ORDER BY 1")
                    .fetch_all(&mut sqlite(path).await)
                    .await
                    .expect("read event ids")
            }
        }
    }

    /// Runs one raw SQL statement on the store, beside the server (to
    /// tamper with it, for instance).
    pub async fn exec(&self, sql: &str) {
        match &self.config {
            StoreConfig::Postgres { url } => {
                let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
            }
            StoreConfig::Sqlite { path } => {
                sqlx::raw_sql(sql)
                    .execute(&mut sqlite(path).await)
                    .await
                    .expect(sql);
            }
        }
    }

    /// A raw connection to the PostgreSQL test database.
    pub async fn postgres(&self) -> sqlx::PgConnection {
        match &self.config {
            StoreConfig::Postgres { url } => {
                sqlx::PgConnection::connect(url).await.expect("connect")
            }
            StoreConfig::Sqlite { .. } => panic!("not a PostgreSQL test"),
        }
    }

    /// Shuts down and drops the test database.
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.expect("clean shutdown");
        }
        if let Some(name) = self.pg_database.take() {
            if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await;
            }
        }
    }
}

async fn sqlite(path: &std::path::Path) -> sqlx::SqliteConnection {
    let url = format!("sqlite://{}", path.display());
    sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect")
}

/// One row of the ticket summary, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SummaryRow {
    pub ticket_id: String,
    pub version: i64,
    pub status: String,
    pub kind: String,
    pub priority: String,
    pub customer_name: String,
    pub customer_phone: String,
    pub serial_number: String,
    pub product_model: String,
    pub technician: Option<String>,
    pub received_at: String,
    pub updated_at: String,
}

/// A number below `n` that differs from run to run.
pub fn random_below(n: u64) -> u64 {
    let r = uuid::Uuid::new_v4().as_u128();
    u64::try_from(r % u128::from(n.max(1))).expect("below n")
}

/// Wraps a message with the bearer token of the `<role>-1` test user.
pub fn as_role<T>(role: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", token(role)).parse().expect("header"),
    );
    request
}

pub fn context(ticket_id: &str) -> Option<pb::CommandContext> {
    Some(pb::CommandContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        ticket_id: ticket_id.to_owned(),
        ..Default::default()
    })
}

pub fn cny(minor_units: i64) -> Option<pb::Money> {
    Some(pb::Money {
        currency: "CNY".into(),
        minor_units,
    })
}

/// Today in Beijing, as the server sees it, plus `days`.
pub fn day_from_today(days: i64) -> String {
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    (today + chrono::Duration::days(days)).to_string()
}

/// A phone repair request for a washer; `purchase_days_ago` None = no receipt.
pub fn receive_request(
    ticket_id: &str,
    purchase_days_ago: Option<i64>,
) -> pb::ReceiveTicketRequest {
    pb::ReceiveTicketRequest {
        context: context(ticket_id),
        channel: pb::Channel::Phone as i32,
        kind: pb::TicketKind::Repair as i32,
        customer: Some(pb::Customer {
            name: "Li Lei".into(),
            phone: "+86 138 0013 8000".into(),
            address: "1 Renmin Rd, Hangzhou".into(),
            region: pb::Region::Urban as i32,
            ..Default::default()
        }),
        product: Some(pb::Product {
            line: "washer".into(),
            model: "WM-800".into(),
            serial_number: format!("SN-{ticket_id}"),
            batch: "B2026-01".into(),
            purchase_date: purchase_days_ago
                .map(|d| day_from_today(-d))
                .unwrap_or_default(),
            proof_of_purchase: purchase_days_ago.is_some(),
            installed_on: String::new(),
        }),
        description: "drum does not turn".into(),
        priority: pb::Priority::Normal as i32,
        service_mode: pb::ServiceMode::MailIn as i32,
        refers_to: String::new(),
    }
}

/// Asserts a call failed with `code`, and returns its message.
pub fn expect_code<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: Code,
) -> tonic::Status {
    match result {
        Ok(reply) => panic!("expected {code:?}, got {reply:?}"),
        Err(status) => {
            assert_eq!(status.code(), code, "status: {status:?}");
            assert!(!status.message().is_empty(), "status without a message");
            status
        }
    }
}

/// Runs a PostgreSQL-only scenario.
#[macro_export]
macro_rules! on_postgres {
    ($($name:ident),+ $(,)?) => {
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::helpers::Backend::Postgres).await;
            })+
        }
    };
}

/// Runs a scenario on both stores, as two tests.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::helpers::Backend::Sqlite).await;
            })+
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::helpers::Backend::Postgres).await;
            })+
        }
    };
}

/// The built-in policy's local time (UTC+8), as the test servers use it.
pub fn local_time() -> domain::LocalTime {
    builtin_policy().current().local_time()
}
