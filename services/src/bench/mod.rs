//! `ticketd bench`: how fast the product is, against the raw-database limit
//! and plain cqrs-es, measured in one run on one machine, written to
//! `docs/BENCHMARKS.md` as ratios (the machine is shared and noisy; ratios
//! measured side by side are what can be compared between runs).

mod baselines;
mod bulk;
mod import;
mod load;
mod relay;
mod reports;

use std::fmt::Write as _;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use sqlx::Connection;

use crate::auth::Auth;
use crate::policy::PolicyHandle;
use crate::privacy::MasterKey;
use crate::server::{start, Listen, Setup};
use crate::store::StoreConfig;
use load::{quantile_ms, Measured, EVENTS_PER_TICKET};

type Error = Box<dyn std::error::Error>;

/// How the bench's servers run: headers name the caller, and the made-up
/// personal data is sealed under a key of its own, kept nowhere.
fn setup(o: &Options) -> Setup {
    Setup::new(
        Auth::InsecureHeaders,
        o.policy.clone(),
        o.sla,
        MasterKey::generate(),
    )
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// A PostgreSQL URL whose user may create databases; the bench creates
    /// and drops its own.
    pub admin_url: String,
    /// The SLA configuration the servers and rebuilds it starts use.
    pub sla: &'static projections::sla::SlaConfig,
    pub clients: usize,
    pub tickets_per_client: usize,
    pub pgbench_seconds: u64,
    /// Events in the log for the rebuild, catch-up and query figures.
    pub bulk_events: u64,
    pub sqlite_tickets_per_client: usize,
    /// Copies of the example history for the import figures.
    pub import_copies: usize,
    /// Measure only the import; write no report.
    pub only_import: bool,
    /// Measure only the command loads; write no report.
    pub only_commands: bool,
    /// Measure the NATS relay only (on a log of `bulk_events`).
    pub only_relay: bool,
    /// Measure the bulk-log figures only (on a log of `bulk_events`).
    pub only_bulk: bool,
    /// Where the relay figure publishes (a stream of the bench's own).
    pub nats_url: String,
    pub output: PathBuf,
    /// The policy the servers and the plain cqrs-es baseline decide under.
    pub policy: PolicyHandle,
}

fn bar(len: u64, what: &str) -> ProgressBar {
    tracing::info!(phase = what, "bench phase begins");
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>24} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

async fn fresh_database(admin_url: &str, name: &str) -> Result<String, Error> {
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let (server, _) = admin_url
        .rsplit_once('/')
        .ok_or("admin URL has no database part")?;
    Ok(format!("{server}/{name}"))
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), Error> {
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    Ok(())
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{cores} cores ({cpu}), {mem:.0} GiB RAM, PostgreSQL on the same machine")
}

/// History import into a fresh PostgreSQL database and a fresh SQLite file.
async fn imports(o: &Options) -> Result<(import::Imported, import::Imported), Error> {
    let url = fresh_database(&o.admin_url, "ticketd_bench_import").await?;
    let pg = import::measure(
        &StoreConfig::Postgres { url },
        "PG",
        o.import_copies,
        &o.policy,
    )
    .await?;
    let dir = std::env::temp_dir().join(format!(
        "ticketd-bench-import-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let lite = StoreConfig::Sqlite {
        path: dir.join("ticketd.db"),
    };
    let sqlite = import::measure(&lite, "SQLite", o.import_copies, &o.policy).await?;
    let _ = std::fs::remove_dir_all(&dir);
    let mut admin = sqlx::PgConnection::connect(&o.admin_url).await?;
    sqlx::query("DROP DATABASE IF EXISTS ticketd_bench_import WITH (FORCE)")
        .execute(&mut admin)
        .await?;
    Ok((pg, sqlite))
}

fn import_rows(s: &mut String, pg: &import::Imported, sqlite: &import::Imported, live_pg: f64) {
    let _ = writeln!(
        s,
        "| history import (PG, {} events, `ticketd import` path), events/s | {:.0} | target 5,000 | {} | ≥ 5,000 | {} |",
        pg.events,
        pg.events_per_second,
        ratio(pg.events_per_second, 5_000.0),
        verdict(pg.events_per_second >= 5_000.0)
    );
    let _ = writeln!(
        s,
        "| history import (SQLite, {} events), events/s | {:.0} | import on PG {:.0} | {} | | |",
        sqlite.events,
        sqlite.events_per_second,
        pg.events_per_second,
        ratio(sqlite.events_per_second, pg.events_per_second)
    );
    if live_pg > 0.0 {
        let _ = writeln!(
            s,
            "| history import vs live commands (PG), events/s | {:.0} | live gRPC {live_pg:.0} | {} | | |",
            pg.events_per_second,
            ratio(pg.events_per_second, live_pg)
        );
    }
}

/// The command loads and their baselines, with (unless `only_commands`)
/// the bulk-log figures measured on the PostgreSQL server in between.
async fn commands(o: &Options) -> Result<(Loads, Option<bulk::Bulk>), Error> {
    let lifecycle_events = (o.clients * o.tickets_per_client) as u64 * EVENTS_PER_TICKET;

    // 1. The raw limit.
    eprintln!(
        "1/6 pgbench: the raw limit at {} clients for {} s",
        o.clients, o.pgbench_seconds
    );
    let raw_url = fresh_database(&o.admin_url, "ticketd_bench_raw").await?;
    let raw_tps = baselines::pgbench(&raw_url, o.clients, o.pgbench_seconds).await?;
    baselines::settle().await;

    // 2. Plain cqrs-es + postgres-es, in-process.
    let plain_url = fresh_database(&o.admin_url, "ticketd_bench_plain").await?;
    let b = bar(lifecycle_events, "plain cqrs-es");
    let plain =
        baselines::plain_cqrs(&plain_url, o.clients, o.tickets_per_client, &o.policy, &b).await?;
    b.finish();
    baselines::settle().await;

    // 3. ticketd over gRPC on PostgreSQL, with the lag sampled meanwhile.
    let pg_url = fresh_database(&o.admin_url, "ticketd_bench").await?;
    let pg = StoreConfig::Postgres {
        url: pg_url.clone(),
    };
    let listen = Listen {
        grpc: "127.0.0.1:0".parse()?,
        metrics: None,
        console: None,
        tls: None,
    };
    let server = start(&pg, listen.clone(), setup(o)).await?;
    let target = format!("http://{}", server.addr);
    let sampler = bulk::LagSampler::start(&pg_url).await?;
    let b = bar(lifecycle_events, "ticketd gRPC (PG)");
    let grpc = load::run(&target, "pg", o.clients, o.tickets_per_client, true, &b).await?;
    b.finish();
    let lag_ms = sampler.stop().await;

    // 4. Bulk log for rebuild, catch-up and query figures.
    let bulk = if o.only_commands {
        None
    } else {
        Some(
            bulk::measure(
                &pg_url,
                &target,
                o.bulk_events,
                projections::engine::Context::new(o.policy.current().local_time(), o.sla),
            )
            .await?,
        )
    };
    let relayed = if o.only_commands {
        None
    } else {
        Some(relay_figure(&pg, &o.nats_url).await)
    };
    server.shutdown().await?;

    // 5. The embedded default.
    let dir = std::env::temp_dir().join(format!("ticketd-bench-{}", uuid::Uuid::new_v4().simple()));
    let lite = StoreConfig::Sqlite {
        path: dir.join("ticketd.db"),
    };
    let server = start(&lite, listen, setup(o)).await?;
    let b = bar(
        (o.clients * o.sqlite_tickets_per_client) as u64 * EVENTS_PER_TICKET,
        "ticketd gRPC (SQLite)",
    );
    let sqlite = load::run(
        &format!("http://{}", server.addr),
        "lite",
        o.clients,
        o.sqlite_tickets_per_client,
        false,
        &b,
    )
    .await?;
    b.finish();
    server.shutdown().await?;
    let _ = std::fs::remove_dir_all(&dir);

    Ok((
        Loads {
            raw_tps,
            plain,
            grpc,
            sqlite,
            lag_ms,
            relayed,
        },
        bulk,
    ))
}

/// The relay's figure, or why it could not be taken (NATS unreachable).
async fn relay_figure(store: &StoreConfig, nats_url: &str) -> Result<relay::Relayed, String> {
    eprintln!("relay: the whole log to NATS at {nats_url}");
    let db = crate::store::open(store).await.map_err(|e| e.to_string())?;
    let measured = relay::measure(&db, nats_url)
        .await
        .map_err(|e| e.to_string());
    db.close().await;
    measured
}

/// `--only-relay`: a log of `bulk_events` (a few lifecycles over gRPC,
/// then copies), relayed.
async fn only_relay(o: &Options) -> Result<Result<relay::Relayed, String>, Error> {
    let url = fresh_database(&o.admin_url, "ticketd_bench_relay").await?;
    let store = StoreConfig::Postgres { url: url.clone() };
    let listen = Listen {
        grpc: "127.0.0.1:0".parse()?,
        metrics: None,
        console: None,
        tls: None,
    };
    let server = start(&store, listen, setup(o)).await?;
    let b = bar(4 * 5 * EVENTS_PER_TICKET, "lifecycles (PG)");
    load::run(&format!("http://{}", server.addr), "relay", 4, 5, false, &b).await?;
    b.finish();
    let pool = sqlx::PgPool::connect(&url).await?;
    let events = bulk::grow(&pool, o.bulk_events).await?.events;
    let logged = crate::store::Pool::Postgres(pool.clone());
    while logged.head().await? < events {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    pool.close().await;
    let relayed = relay_figure(&store, &o.nats_url).await;
    server.shutdown().await?;
    drop_database(&o.admin_url, "ticketd_bench_relay").await?;
    Ok(relayed)
}

fn relay_row(s: &mut String, relayed: &Result<relay::Relayed, String>) {
    match relayed {
        Ok(r) => {
            let _ = writeln!(
                s,
                "| relay to NATS JetStream (PG, {} events, sequence = position), events/s | {:.0} | JetStream alone {:.0} | {} | ≥ 10,000 | {} |",
                r.events,
                r.per_second,
                r.broker_per_second,
                ratio(r.per_second, r.broker_per_second),
                verdict(r.per_second >= 10_000.0)
            );
        }
        Err(why) => {
            let _ = writeln!(
                s,
                "| relay to NATS JetStream, events/s | not measured: {} | | | ≥ 10,000 | **missed** |",
                why.replace('|', "/")
            );
        }
    }
}

/// What the command loads measured.
struct Loads {
    raw_tps: f64,
    plain: Measured,
    grpc: Measured,
    sqlite: Measured,
    lag_ms: Vec<u64>,
    relayed: Option<Result<relay::Relayed, String>>,
}

/// Runs everything and writes the report. Returns the report's text.
pub async fn run(options: Options) -> Result<String, Error> {
    let o = &options;
    if o.only_import {
        eprintln!("history import only");
        let (pg, sqlite) = imports(o).await?;
        let mut s = String::from(
            "| figure | value | baseline | ratio | target | |\n|---|---|---|---|---|---|\n",
        );
        import_rows(&mut s, &pg, &sqlite, 0.0);
        return Ok(s);
    }
    if o.only_relay {
        eprintln!("relay only");
        let relayed = only_relay(o).await?;
        let mut s = String::from(
            "| figure | value | baseline | ratio | target | |\n|---|---|---|---|---|---|\n",
        );
        relay_row(&mut s, &relayed);
        return Ok(s);
    }
    if o.only_bulk {
        eprintln!("bulk log only");
        let measured = bulk::only(o).await?;
        let mut s = String::from(
            "| figure | value | baseline | ratio | target | |\n|---|---|---|---|---|---|\n",
        );
        bulk_rows(&mut s, &measured);
        return Ok(s);
    }
    if o.only_commands {
        eprintln!("command loads only");
        let (mut loads, _) = commands(o).await?;
        let mut s = String::from(
            "| figure | value | baseline | ratio | target | |\n|---|---|---|---|---|---|\n",
        );
        command_rows(&mut s, &mut loads);
        return Ok(s);
    }
    let (mut loads, bulk) = commands(o).await?;
    let bulk = bulk.ok_or("the bulk figures were not measured")?;

    // 6. History import.
    let (import_pg, import_sqlite) = imports(o).await?;
    let rss = peak_rss_mib();

    let mut report = render(o, &mut loads, &bulk, rss);
    let mut rows = String::new();
    import_rows(
        &mut rows,
        &import_pg,
        &import_sqlite,
        loads.grpc.commands_per_second(),
    );
    if let Some(relayed) = &loads.relayed {
        relay_row(&mut rows, relayed);
    }
    if let Some(at) = report.find("| peak RSS") {
        report.insert_str(at, &rows);
    }
    std::fs::write(&o.output, &report)?;
    // Leave nothing behind but the report.
    let mut admin = sqlx::PgConnection::connect(&o.admin_url).await?;
    for name in ["ticketd_bench_raw", "ticketd_bench_plain", "ticketd_bench"] {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
    }
    Ok(report)
}

fn ratio(value: f64, baseline: f64) -> String {
    if baseline <= 0.0 {
        "—".into()
    } else {
        format!("{:.2}×", value / baseline)
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

fn render(o: &Options, loads: &mut Loads, bulk: &bulk::Bulk, rss: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks\n");
    let _ = writeln!(
        s,
        "Reproduce everything with one command (PostgreSQL running, user allowed to create databases):\n\n```sh\ncargo run --release -p ticketd -- bench\n```\n"
    );
    let _ = writeln!(
        s,
        "Machine: {}. Measured {}.\n",
        machine(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(
        s,
        "Load: {} concurrent gRPC clients, each driving {} whole repair lifecycles of {} commands (received → warranty → dispatched → accepted → arrived → diagnosed → escalated → repaired → QC passed → shipped → delivered → revisited → closed) plus a GetTicket and a ListTickets per ticket. Every figure is a ratio to a baseline measured in the same run on the same PostgreSQL server.\n",
        o.clients, o.tickets_per_client, EVENTS_PER_TICKET
    );
    let _ = writeln!(s, "| figure | value | baseline | ratio | target | |");
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    command_rows(&mut s, loads);
    bulk_rows(&mut s, bulk);
    let _ = writeln!(
        s,
        "| peak RSS of the bench process (server + clients), MiB | {rss:.0} | | | | |"
    );
    let _ = writeln!(
        s,
        "\nErrors during the loads: ticketd {} , plain cqrs-es {}, SQLite {}.",
        loads.grpc.errors, loads.plain.errors, loads.sqlite.errors
    );
    s
}

/// The rows of the bulk-log figures: rebuild, live catch-up, subscriber
/// catch-up, queries and reports, sequencing.
fn bulk_rows(s: &mut String, bulk: &bulk::Bulk) {
    let _ = writeln!(
        s,
        "| rebuild ticket_summary ({} events), events/s | {:.0} | target 50,000 | {} | ≥ 50,000 | {} |",
        bulk.events,
        bulk.rebuild_eps,
        ratio(bulk.rebuild_eps, 50_000.0),
        verdict(bulk.rebuild_eps >= 50_000.0)
    );
    let _ = writeln!(
        s,
        "| live projections (all four together) catching up on the bulk log, events/s | {:.0} | rebuild of one {:.0} | {} | ≥ 20,000 | {} |",
        bulk.live_projection_eps,
        bulk.rebuild_eps,
        ratio(bulk.live_projection_eps, bulk.rebuild_eps),
        verdict(bulk.live_projection_eps >= 20_000.0)
    );
    let _ = writeln!(
        s,
        "| subscriber catch-up (typed payload and JSON), events/s | {:.0} | target 100,000 | {} | ≥ 100,000 | {} |",
        bulk.catch_up_eps,
        ratio(bulk.catch_up_eps, 100_000.0),
        verdict(bulk.catch_up_eps >= 100_000.0)
    );
    let _ = writeln!(
        s,
        "| subscriber catch-up (`json_only`: the stored JSON as it is), events/s | {:.0} | target 100,000 | {} | ≥ 100,000 | {} |",
        bulk.catch_up_json_eps,
        ratio(bulk.catch_up_json_eps, 100_000.0),
        verdict(bulk.catch_up_json_eps >= 100_000.0)
    );
    for (name, p95) in &bulk.query_p95_ms {
        let _ = writeln!(
            s,
            "| {name} p95 at {} events / {} tickets (ms) | {p95:.1} | target 50 ms | {} | < 50 ms | {} |",
            bulk.events,
            bulk.tickets,
            ratio(*p95, 50.0),
            verdict(*p95 < 50.0)
        );
    }
    let _ = writeln!(
        s,
        "| sequencing the bulk log, events/s | {:.0} | | | | |",
        bulk.sequence_eps
    );
}

/// The rows of the command loads: ticketd against pgbench and plain
/// cqrs-es, latency, projection lag, and the SQLite default.
fn command_rows(s: &mut String, loads: &mut Loads) {
    let Loads {
        raw_tps,
        plain,
        grpc,
        sqlite,
        lag_ms,
        relayed: _,
    } = loads;
    let raw_tps = *raw_tps;
    let grpc_cps = grpc.commands_per_second();
    let plain_cps = plain.commands_per_second();
    let lag_p99 = quantile_ms(lag_ms, 0.99);
    let _ = writeln!(
        s,
        "| commands/s, ticketd over gRPC (PG) | {grpc_cps:.0} | raw limit: pgbench {raw_tps:.0} tx/s | {} | ≥ 0.60× | {} |",
        ratio(grpc_cps, raw_tps),
        verdict(grpc_cps >= 0.6 * raw_tps)
    );
    let _ = writeln!(
        s,
        "| commands/s, ticketd over gRPC (PG) | {grpc_cps:.0} | plain cqrs-es + postgres-es in-process {plain_cps:.0} | {} | ≥ 1.0× | {} |",
        ratio(grpc_cps, plain_cps),
        verdict(grpc_cps >= plain_cps)
    );
    let _ = writeln!(
        s,
        "| command latency p50 / p95 / p99 (ms) | {:.1} / {:.1} / {:.1} | plain cqrs-es {:.1} / {:.1} / {:.1} | {} (p99) | | |",
        quantile_ms(&mut grpc.command_us, 0.50),
        quantile_ms(&mut grpc.command_us, 0.95),
        quantile_ms(&mut grpc.command_us, 0.99),
        quantile_ms(&mut plain.command_us, 0.50),
        quantile_ms(&mut plain.command_us, 0.95),
        quantile_ms(&mut plain.command_us, 0.99),
        ratio(quantile_ms(&mut grpc.command_us, 0.99), quantile_ms(&mut plain.command_us, 0.99)),
    );
    let _ = writeln!(
        s,
        "| projection lag p99 under that load (ms) | {lag_p99:.0} | target 200 ms | {} | < 200 ms | {} |",
        ratio(lag_p99, 200.0),
        verdict(lag_p99 < 200.0)
    );
    let _ = writeln!(
        s,
        "| projection lag p50 / p95 / max, {} samples 50 ms apart (ms) | {:.0} / {:.0} / {:.0} | | | | |",
        lag_ms.len(),
        quantile_ms(lag_ms, 0.50),
        quantile_ms(lag_ms, 0.95),
        quantile_ms(lag_ms, 1.0),
    );
    let lite_cps = sqlite.commands_per_second();
    let _ = writeln!(
        s,
        "| SQLite default, durable commands/s | {lite_cps:.0} | ticketd on PG {grpc_cps:.0} | {} | ≥ 3,000/s | {} |",
        ratio(lite_cps, grpc_cps),
        verdict(lite_cps >= 3_000.0)
    );
}
