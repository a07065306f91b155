//! SLA configuration files and the deadline watcher.
//!
//! Files: `TICKETD_SLA_POLICY` names a policy file, `TICKETD_CALENDARS` a
//! comma-separated list of calendar files (several years of one calendar
//! merge; a file whose name is `region=path` serves that region only).
//! Without them the shipped files (embedded) apply.
//!
//! The watcher looks every `interval` for clocks that reached their
//! at-risk share or passed their deadline and appends `SlaAtRisk` /
//! `SlaBreached`; see `projections::sla::alerts` for why each is written
//! exactly once whatever the number of processes or restarts.

use std::sync::Arc;
use std::time::Duration;

use domain::Clock;
use projections::sla::alerts::{
    append_postgres, append_sqlite, due_postgres, due_sqlite, AlertError,
};
use projections::sla::{Calendar, CalendarError, Calendars, PolicyError, SlaConfig, SlaPolicy};
use tokio::sync::{watch, Notify};

use crate::store::Db;

/// How often the watcher looks by default.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(5);
const DUE_BATCH: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum SlaConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Policy { path: String, source: PolicyError },
    #[error("{path}: {source}")]
    Calendar { path: String, source: CalendarError },
}

fn read(path: &str) -> Result<String, SlaConfigError> {
    std::fs::read_to_string(path).map_err(|source| SlaConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads the configuration named by the environment (see the module docs).
pub fn load_from_env() -> Result<SlaConfig, SlaConfigError> {
    let mut config = SlaConfig::default();
    if let Ok(path) = std::env::var("TICKETD_SLA_POLICY") {
        config.policy = SlaPolicy::from_toml(&read(&path)?)
            .map_err(|source| SlaConfigError::Policy { path, source })?;
    }
    if let Ok(list) = std::env::var("TICKETD_CALENDARS") {
        let mut default: Option<Calendar> = None;
        let mut calendars = Calendars::default();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (region, path) = match item.split_once('=') {
                Some((r, p)) => (Some(r.trim().to_owned()), p.trim().to_owned()),
                None => (None, item.to_owned()),
            };
            let bad = |source| SlaConfigError::Calendar {
                path: path.clone(),
                source,
            };
            let cal = Calendar::from_toml(&read(&path)?).map_err(bad)?;
            let slot = match &region {
                Some(r) => calendars.by_region.remove(r),
                None => default.take(),
            };
            let cal = match slot {
                Some(earlier) => earlier.merge(cal).map_err(bad)?,
                None => cal,
            };
            match region {
                Some(r) => {
                    calendars.by_region.insert(r, cal);
                }
                None => default = Some(cal),
            }
        }
        if let Some(d) = default {
            calendars.default = d;
        }
        config.calendars = calendars;
    }
    Ok(config)
}

/// One look: appends every alert due at `clock.now()`. Returns how many
/// this call wrote.
pub async fn watch_once(db: &Db, clock: &dyn Clock) -> Result<usize, AlertError> {
    let now = clock.now();
    let due = match db {
        Db::Postgres(pool) => due_postgres(pool, now, DUE_BATCH).await?,
        Db::Sqlite(pool) => due_sqlite(pool, now, DUE_BATCH).await?,
    };
    let mut written = 0;
    for d in &due {
        let wrote = match db {
            Db::Postgres(pool) => append_postgres(pool, d).await?,
            Db::Sqlite(pool) => append_sqlite(pool, d).await?,
        };
        if wrote {
            tracing::info!(ticket = %d.ticket_id, clock = d.alert.clock(), cycle = d.alert.cycle(), alert = d.alert.name(), "SLA alert");
            written += 1;
        }
    }
    Ok(written)
}

/// Looks every `interval` until `stop`.
pub async fn watch_deadlines(
    db: Db,
    clock: Arc<dyn Clock>,
    interval: Duration,
    committed: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            break;
        }
        match watch_once(&db, clock.as_ref()).await {
            Ok(0) => {}
            Ok(_) => committed.notify_one(),
            Err(error) => tracing::warn!(%error, "SLA watcher cannot look; will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
    }
}
