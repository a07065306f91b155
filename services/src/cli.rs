//! The `ticketd` command line. Lives in the library so that the tests can
//! build the same program as a child process (`ticketd-child`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::store::StoreConfig;

mod commands;
mod production;
use clap::{Args, Parser, Subcommand};

/// The event-sourced after-sales repair ticket engine.
#[derive(Debug, Parser)]
#[command(name = "ticketd", version, about)]
struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true, env = "TICKETD_LOG_JSON")]
    log_json: bool,
    /// The company's policy file (product lines, warranty, approval tiers,
    /// cost rates); without it the built-in config/policy.toml applies.
    #[arg(long, global = true, env = "TICKETD_POLICY")]
    policy: Option<PathBuf>,
    /// The SLA clock policy file; without it the built-in
    /// config/sla-policy.toml applies.
    #[arg(long, global = true, env = "TICKETD_SLA_POLICY")]
    sla_policy: Option<String>,
    /// Business calendars: comma-separated files, `region=file` for a
    /// site's own; without it the built-in config/calendars/cn-2025.toml
    /// and cn-2026.toml.
    #[arg(long, global = true, env = "TICKETD_CALENDARS")]
    calendars: Option<String>,
    /// Export traces over OTLP (gRPC) to this endpoint, e.g.
    /// http://otel-collector:4317. Without it no traces are made.
    #[arg(long, global = true, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    /// The `service.name` of the traces.
    #[arg(
        long,
        global = true,
        env = "OTEL_SERVICE_NAME",
        default_value = "ticketd"
    )]
    otlp_service_name: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the gRPC API (and run the projections beside it).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(StoreArgs),
    /// Run the projections only, without serving gRPC.
    Project(StoreArgs),
    /// Rebuild a read model from position 0 while writes continue, then
    /// switch readers to it.
    Rebuild(RebuildArgs),
    /// Make a new bearer token: prints the token (give it to the user) and
    /// the line to add to the token file (which keeps only its hash).
    Token(TokenArgs),
    /// Import ticket history from a JSON Lines file (docs/IMPORT.md): each
    /// ticket all or nothing, with its original times. Exit status 0: every
    /// line imported (or already there); 1: some ticket was rejected.
    Import(ImportArgs),
    /// Check an exported ticket history (Audit.Export) offline, with no
    /// database. Exit status 0: intact; 1: tampered or unreadable.
    VerifyExport(VerifyExportArgs),
    /// Check a policy file, or show the policy in force.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Measure throughput, latency, lag, rebuild, catch-up and query speed
    /// against pgbench and plain cqrs-es in the same run; writes
    /// docs/BENCHMARKS.md.
    Bench(BenchArgs),
    /// Import units of the installed base from a CSV file (header:
    /// product_model, batch, serial, quantity, date, date_kind). Every line
    /// is checked first; with any bad line nothing is written.
    ImportUnits(ImportUnitsArgs),
    /// Publish every event of the log, in order, to a NATS JetStream stream
    /// whose sequence equals the log position (docs/DEPLOYMENT.md). Several
    /// may run on one PostgreSQL: one publishes, the others stand by.
    Relay(RelayArgs),
    /// Copy the embedded SQLite store to a new file while the server keeps
    /// writing, and verify the copy's whole log (docs/DEPLOYMENT.md,
    /// "Backup and restore"). PostgreSQL: use pg_basebackup.
    Backup(BackupArgs),
}

#[derive(Debug, Args)]
struct BackupArgs {
    /// The backup file to write (must not exist; made readable by its
    /// owner only).
    to: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Args)]
struct RelayArgs {
    /// The NATS server.
    #[arg(
        long,
        env = "TICKETD_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    nats_url: String,
    /// The JetStream stream (made when missing, on subjects `<prefix>.>`).
    #[arg(long, default_value = "REPAIR")]
    stream: String,
    /// Subjects are `<prefix>.<aggregate type>.<event type>`.
    #[arg(long, default_value = "repair")]
    subject_prefix: String,
    /// Publishes awaiting JetStream's acknowledgement at once (1-10000).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u16).range(1..=10000))]
    window: u16,
    #[command(flatten)]
    store: StoreArgs,
}

impl RelayArgs {
    fn settings(&self) -> crate::relay::RelaySettings {
        crate::relay::RelaySettings {
            url: self.nats_url.clone(),
            stream: self.stream.clone(),
            subject_prefix: self.subject_prefix.clone(),
            window: usize::from(self.window),
        }
    }
}

#[derive(Debug, Args)]
struct ImportUnitsArgs {
    /// The CSV file.
    file: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Check a policy file: names each bad field with its line. Exit status
    /// 0: good; 1: refused.
    Check {
        /// The policy file to check.
        file: PathBuf,
    },
    /// Print the policy in force (--policy / TICKETD_POLICY, else the
    /// built-in one) with its version and digest.
    Show,
}

#[derive(Debug, Args)]
struct StoreArgs {
    /// PostgreSQL URL (postgres://…). Without it, an embedded SQLite file
    /// under --data-dir is used.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Where the embedded SQLite database lives.
    #[arg(long, env = "TICKETD_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
}

impl StoreArgs {
    fn config(&self) -> Result<StoreConfig, crate::store::StoreError> {
        StoreConfig::choose(self.database_url.as_deref(), &self.data_dir)
    }
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The JSON Lines file, one `ImportLine` per line.
    file: PathBuf,
    /// Who is importing (sealed into every imported event as
    /// `imported_by`, in the role `importer`, beside the actor each line
    /// states).
    #[arg(long, env = "TICKETD_IMPORTER")]
    importer: String,
    #[command(flatten)]
    keys: crate::privacy::settings::KeyArgs,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// The user or service the token is for.
    #[arg(long)]
    actor: String,
    /// Their role: customer_service, technician, qc_inspector,
    /// service_manager, sales_vp, general_manager, finance,
    /// reliability_engineer, failure_review_board, auditor, integration,
    /// data_protection_officer or importer (docs/SECURITY.md).
    #[arg(long)]
    role: String,
    /// Print one JSON object (actor, role, token, sha256, token_file_entry)
    /// for a script to read, instead of the text for a person.
    #[arg(long)]
    json: bool,
    /// Grant the token personal data in clear (an integration's
    /// `personal_data = true`; docs/SECURITY.md).
    #[arg(long)]
    personal_data: bool,
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// PostgreSQL URL of a database whose user may create databases.
    #[arg(
        long,
        env = "TICKETD_BENCH_ADMIN_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    admin_url: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Lifecycles (13 commands each) per client on PostgreSQL.
    #[arg(long, default_value_t = 25)]
    tickets_per_client: usize,
    /// Lifecycles per client on SQLite.
    #[arg(long, default_value_t = 10)]
    sqlite_tickets_per_client: usize,
    /// How long pgbench runs.
    #[arg(long, default_value_t = 20)]
    pgbench_seconds: u64,
    /// Events in the log for the rebuild, catch-up and query figures.
    #[arg(long, default_value_t = 1_000_000)]
    bulk_events: u64,
    /// Copies of the example history (14 events each) for the import
    /// figures.
    #[arg(long, default_value_t = 1_000)]
    import_copies: usize,
    /// Measure only the history import (PostgreSQL and SQLite), print the
    /// figures and write nothing.
    #[arg(long)]
    only_import: bool,
    /// Measure only the command loads (pgbench, plain cqrs-es, ticketd on
    /// PostgreSQL and on SQLite), print the figures and write nothing.
    #[arg(long, conflicts_with = "only_import")]
    only_commands: bool,
    /// Measure only the NATS relay, on a log of --bulk-events; print the
    /// figure instead of writing the report.
    #[arg(long, conflicts_with_all = ["only_import", "only_commands"])]
    only_relay: bool,
    /// Measure only the bulk-log figures (sequencing, live projections,
    /// rebuild, subscriber catch-up, queries) on a log of --bulk-events;
    /// print them instead of writing the report.
    #[arg(long, conflicts_with_all = ["only_import", "only_commands", "only_relay"])]
    only_bulk: bool,
    /// The NATS server the relay figure publishes to (a stream of the
    /// bench's own, deleted afterwards).
    #[arg(
        long,
        env = "TICKETD_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    nats_url: String,
    /// Where to write the report.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    output: PathBuf,
}

#[derive(Debug, Args)]
struct VerifyExportArgs {
    /// The JSON file written from Audit.Export.
    file: PathBuf,
}

#[derive(Debug, Args)]
struct RebuildArgs {
    /// The projection to rebuild (ticket_summary, cost_ledger, fracas, sla); all
    /// omitted.
    projection: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on for gRPC.
    #[arg(long, env = "TICKETD_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    /// Address for the Prometheus /metrics endpoint.
    #[arg(long, env = "TICKETD_METRICS_LISTEN", default_value = "127.0.0.1:9464")]
    metrics_listen: SocketAddr,
    /// Do not serve /metrics.
    #[arg(long)]
    no_metrics: bool,
    /// Address of the web console (HTTP; HTTPS with --tls-cert).
    #[arg(long, env = "TICKETD_CONSOLE_LISTEN", default_value = "127.0.0.1:8080")]
    console_listen: SocketAddr,
    /// Do not serve the web console.
    #[arg(long)]
    no_console: bool,
    /// Token file: who may call, as whom (see `ticketd token`).
    #[arg(
        long,
        env = "TICKETD_AUTH_FILE",
        required_unless_present = "insecure_dev_auth"
    )]
    auth_file: Option<PathBuf>,
    /// Development only: trust the x-actor-id / x-actor-role headers
    /// instead of bearer tokens. Never in production.
    #[arg(long, conflicts_with = "auth_file")]
    insecure_dev_auth: bool,
    /// PEM certificate chain: serve gRPC, /metrics and the console over TLS (with
    /// --tls-key).
    #[arg(long, env = "TICKETD_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "TICKETD_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// PEM CA certificate(s): gRPC clients must present a certificate it
    /// signed (mutual TLS for service clients).
    #[arg(long, env = "TICKETD_TLS_CLIENT_CA", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    #[command(flatten)]
    timing: TimingArgs,
    #[command(flatten)]
    keys: crate::privacy::settings::KeyArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Limits on the `occurred_at` a live command may state.
#[derive(Debug, Args)]
struct TimingArgs {
    /// How far ahead of the server's clock a stated time may be, in seconds.
    #[arg(long, env = "TICKETD_MAX_CLOCK_SKEW_SECONDS", default_value_t = 120)]
    max_clock_skew_seconds: u32,
    /// How far back a live command may date its event, in hours (history
    /// imports are exempt).
    #[arg(long, env = "TICKETD_BACKDATE_WINDOW_HOURS", default_value_t = 72)]
    backdate_window_hours: u32,
}

impl TimingArgs {
    fn policy(&self) -> domain::TimingPolicy {
        domain::TimingPolicy {
            max_skew: chrono::Duration::seconds(i64::from(self.max_clock_skew_seconds)),
            backdate_window: chrono::Duration::hours(i64::from(self.backdate_window_hours)),
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only SIGINT stops the server");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    // SLA policy and calendars from the user's files (--sla-policy,
    // --calendars): the projection, rebuilds and the dashboard use them.
    let sla = crate::sla::load(cli.sla_policy.clone(), cli.calendars.clone())?.leak();
    let policy = crate::policy::PolicySource {
        path: cli.policy,
        rest_days: sla.calendars.default.rest_days(),
    };
    match cli.command {
        Command::Serve(args) => commands::serve(args, policy, sla).await?,
        Command::Migrate(args) => {
            let db = crate::store::open(&args.config()?).await?;
            crate::store::migrate(&db).await?;
            db.close().await;
            tracing::info!("migrations applied");
        }
        Command::Rebuild(args) => commands::rebuild(args, policy, sla).await?,
        Command::Policy(PolicyCommand::Check { file }) => {
            println!("{}", crate::policy::check(&file)?);
        }
        Command::Policy(PolicyCommand::Show) => {
            print!("{}", crate::policy::show(policy.path.as_deref())?);
        }
        Command::Bench(args) => commands::bench(args, policy, sla).await?,
        Command::Token(args) => {
            println!(
                "{}",
                crate::auth::token_text(&args.actor, &args.role, args.personal_data, args.json)?
            );
        }
        Command::Import(args) => {
            let master = args.keys.master_key(&args.store.data_dir)?;
            let policy = crate::policy::PolicyHandle::load(policy)?;
            let importer = domain::Actor {
                id: domain::values::ActorId::parse(&args.importer)
                    .map_err(|p| format!("--importer {p}"))?,
                role: domain::Role::Importer,
            };
            let store = args.store.config()?;
            crate::import_cli::run(&args.file, &store, &importer, policy, master).await?
        }
        Command::VerifyExport(args) => commands::verify_export(&args.file)?,
        Command::ImportUnits(args) => commands::import_units(args, policy).await?,
        Command::Relay(args) => commands::relay(args).await?,
        Command::Backup(args) => {
            let made = crate::backup::backup(&args.store.config()?, &args.to).await?;
            println!(
                "{}: {} events, every one verified; log digest {}",
                made.path.display(),
                made.events,
                made.digest
            );
        }
        Command::Project(args) => commands::project(args, policy, sla).await?,
    }
    Ok(())
}

/// The whole program: parses the arguments, runs the subcommand on a
/// multi-threaded runtime, and returns the exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ticketd: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let tracing = cli
        .otlp_endpoint
        .clone()
        .map(|endpoint| crate::telemetry::Tracing {
            endpoint,
            service: cli.otlp_service_name.clone(),
        });
    let telemetry = {
        // The OTLP exporter's client lives on the runtime.
        let _inside = runtime.enter();
        match crate::telemetry::init(cli.log_json, tracing.as_ref()) {
            Ok(telemetry) => telemetry,
            Err(error) => {
                eprintln!("ticketd: {error}");
                return ExitCode::FAILURE;
            }
        }
    };
    let log_json = cli.log_json;
    let outcome = runtime.block_on(run(cli));
    if let Err(error) = &outcome {
        // Once: as a JSON log record where logs are machine-read, else on
        // stderr for the person who ran the command.
        if log_json {
            tracing::error!(%error, "ticketd failed");
        } else {
            eprintln!("ticketd: {error}");
        }
    }
    {
        let _inside = runtime.enter();
        telemetry.shutdown();
    }
    if outcome.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// What `ticketd rebuild --help` and the README list are the read
    /// models the engine has (issue #39: they disagreed).
    #[test]
    fn the_rebuild_help_and_the_readme_name_every_read_model() {
        let mut cli = Cli::command();
        let rebuild = cli
            .find_subcommand_mut("rebuild")
            .expect("a rebuild command");
        let help = rebuild.render_long_help().to_string();
        let readme = include_str!("../../README.md");
        let line = readme
            .split("- `ticketd rebuild [PROJECTION]`")
            .nth(1)
            .and_then(|rest| rest.split("\n- ").next())
            .expect("the README describes ticketd rebuild");
        for p in projections::engine::REGISTRY {
            let name = p.name();
            assert!(help.contains(name), "--help lacks {name}: {help}");
            assert!(
                line.contains(&format!("`{name}`")),
                "README lacks {name}: {line}"
            );
        }
    }
}
