//! The subcommands that do more than one call: each reads what it needs
//! from its arguments and the settings `run` read once (the policy file,
//! the SLA configuration), and hands them down.

use std::path::Path;
use std::sync::Arc;

use projections::engine::Context;
use projections::sla::SlaConfig;
use tokio::sync::{watch, Notify};

use super::StoreArgs;
use super::{shutdown_signal, BenchArgs, ImportUnitsArgs, RebuildArgs, RelayArgs, ServeArgs};
use crate::policy::PolicySource;

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

/// `ticketd serve`: the server until SIGINT or SIGTERM.
pub(super) async fn serve(
    args: ServeArgs,
    policy: PolicySource,
    sla: &'static SlaConfig,
) -> Result {
    // Before anything is opened or written: a setting production refuses,
    // or a bad policy, stops here.
    super::production::check(&args)?;
    let policy = crate::policy::PolicyHandle::load(policy)?;
    let master_key = args.keys.master_key(&args.store.data_dir)?;
    let store = args.store.config()?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::tls::Tls::load(&crate::tls::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: args.tls_client_ca.clone(),
        })?),
        _ => None,
    };
    let listen = crate::server::Listen {
        grpc: args.listen,
        metrics: (!args.no_metrics).then_some(args.metrics_listen),
        console: (!args.no_console).then_some(args.console_listen),
        tls,
    };
    let auth = match &args.auth_file {
        Some(path) => crate::auth::Auth::load(path)?,
        None => crate::auth::Auth::InsecureHeaders,
    };
    let setup = crate::server::Setup {
        timing: args.timing.policy(),
        ..crate::server::Setup::new(auth, policy, sla, master_key)
    };
    let running = crate::server::start(&store, listen, setup).await?;
    let stop = running.stopper();
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    running.wait().await?;
    Ok(())
}

/// `ticketd rebuild`: one read model (or all) from position 0, with a
/// progress bar.
pub(super) async fn rebuild(
    args: RebuildArgs,
    policy: PolicySource,
    sla: &'static SlaConfig,
) -> Result {
    let db = crate::store::open(&args.store.config()?).await?;
    crate::store::migrate(&db).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let local = crate::policy::PolicyHandle::load(policy)?
        .current()
        .local_time();
    let done = crate::maintenance::rebuild(
        &db,
        args.projection.as_deref(),
        Context::new(local, sla),
        |name, at, head| {
            bar.set_message(name.to_owned());
            bar.set_length(u64::try_from(head).unwrap_or_default());
            bar.set_position(u64::try_from(at).unwrap_or_default());
        },
    )
    .await;
    bar.finish();
    db.close().await;
    for (name, rebuilt) in done? {
        println!(
            "{name}: rebuilt from {} events, now at position {}",
            rebuilt.events, rebuilt.position
        );
    }
    Ok(())
}

/// `ticketd bench`: the figures of docs/BENCHMARKS.md.
pub(super) async fn bench(
    args: BenchArgs,
    policy: PolicySource,
    sla: &'static SlaConfig,
) -> Result {
    let policy = crate::policy::PolicyHandle::load(policy)?;
    let report = crate::bench::run(crate::bench::Options {
        policy,
        sla,
        admin_url: args.admin_url,
        clients: args.clients,
        tickets_per_client: args.tickets_per_client,
        pgbench_seconds: args.pgbench_seconds,
        bulk_events: args.bulk_events,
        sqlite_tickets_per_client: args.sqlite_tickets_per_client,
        import_copies: args.import_copies,
        only_import: args.only_import,
        only_commands: args.only_commands,
        only_relay: args.only_relay,
        only_bulk: args.only_bulk,
        nats_url: args.nats_url.clone(),
        output: args.output.clone(),
    })
    .await?;
    if args.only_import || args.only_commands || args.only_relay || args.only_bulk {
        println!("{report}");
    } else {
        println!("{report}\nwritten to {}", args.output.display());
    }
    Ok(())
}

/// `ticketd verify-export FILE`: whether an audit export is intact.
pub(super) fn verify_export(file: &Path) -> Result {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    match crate::audit::verify_export(&text) {
        Ok((events, head)) => println!("intact: {events} events, head hash {head}"),
        Err(problem) => {
            println!(
                "TAMPERED: ticket {} version {}: {}",
                problem.ticket_id, problem.version, problem.reason
            );
            return Err("export failed verification".into());
        }
    }
    Ok(())
}

/// `ticketd import-units FILE`: the installed base from CSV.
pub(super) async fn import_units(args: ImportUnitsArgs, policy: PolicySource) -> Result {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let db = crate::store::open(&args.store.config()?).await?;
    crate::store::migrate(&db).await?;
    let local = crate::policy::PolicyHandle::load(policy)?
        .current()
        .local_time();
    let done = crate::units::import(&db, &text, chrono::Utc::now(), local).await;
    db.close().await;
    println!("{} units registered", done?);
    Ok(())
}

/// `ticketd project`: the log watcher and every read model, in a process
/// of their own, until SIGINT or SIGTERM.
pub(super) async fn project(
    args: StoreArgs,
    policy: PolicySource,
    sla: &'static SlaConfig,
) -> Result {
    let local = crate::policy::PolicyHandle::load(policy)?
        .current()
        .local_time();
    let db = crate::store::open(&args.config()?).await?;
    crate::store::migrate(&db).await?;
    let stopped = stop_on_signal();
    let (head, _) = watch::channel(0);
    let cx = Context::new(local, sla);
    crate::project::run_all(db.clone(), cx, Arc::new(Notify::new()), head, stopped).await;
    db.close().await;
    Ok(())
}

/// A stop that turns true at SIGINT or SIGTERM.
fn stop_on_signal() -> watch::Receiver<bool> {
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    stopped
}

/// `ticketd relay`: extends the log (another process may be writing) and
/// relays it while this process leads the stream's relay.
pub(super) async fn relay(args: RelayArgs) -> Result {
    let db = crate::store::open(&args.store.config()?).await?;
    crate::store::migrate(&db).await?;
    let stopped = stop_on_signal();
    let (head, seen) = watch::channel(0);
    let watcher = tokio::spawn(crate::project::watch_log(
        db.clone(),
        Arc::new(Notify::new()),
        head,
        stopped.clone(),
    ));
    let settings = args.settings();
    // The relay returns by itself only when it cannot go on (`Some`); a
    // lost lease or the stop ends it with `Ok` and leadership decides.
    let outcome = crate::project::while_leading(&db, &settings.name(), stopped, |lost| {
        let run = crate::relay::run(db.clone(), settings.clone(), seen.clone(), lost);
        async move { run.await.err().map(Err::<(), _>) }
    })
    .await;
    let _ = watcher.await;
    db.close().await;
    outcome.unwrap_or(Ok(())).map_err(Into::into)
}
