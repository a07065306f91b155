//! SLA configuration files and the deadline watcher.
//!
//! Files: `--sla-policy` (`TICKETD_SLA_POLICY`, read by the CLI in `main`)
//! names a policy file, `--calendars` (`TICKETD_CALENDARS`) a
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
use projections::sla::alerts::{append, due, AlertError};
use projections::sla::{Calendar, CalendarError, Calendars, PolicyError, SlaConfig, SlaPolicy};
use tokio::sync::{watch, Notify};

use crate::store::Pool;

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

/// Reads a policy file and a calendar list (`file,file,region=file`);
/// what is not named stays as shipped.
pub fn load(
    policy: Option<String>,
    calendars: Option<String>,
) -> Result<SlaConfig, SlaConfigError> {
    let mut config = SlaConfig::default();
    if let Some(path) = policy {
        config.policy = SlaPolicy::from_toml(&read(&path)?)
            .map_err(|source| SlaConfigError::Policy { path, source })?;
    }
    if let Some(list) = calendars {
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
pub async fn watch_once(db: &Pool, clock: &dyn Clock) -> Result<usize, AlertError> {
    let now = clock.now();
    let due = due(db, now, DUE_BATCH).await?;
    let mut written = 0;
    for d in &due {
        if append(db, d).await? {
            tracing::info!(ticket = %d.ticket_id, clock = d.alert.clock(), cycle = d.alert.cycle(), alert = d.alert.name(), "SLA alert");
            written += 1;
        }
    }
    Ok(written)
}

/// Looks every `interval` until `stop`.
pub async fn watch_deadlines(
    db: Pool,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> String {
        let path = std::env::temp_dir().join(format!("ticketd-sla-{}-{name}", std::process::id()));
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    }

    #[test]
    fn nothing_named_means_the_shipped_policy_and_calendar() {
        assert_eq!(load(None, None).expect("loads"), SlaConfig::default());
    }

    #[test]
    fn years_merge_and_a_region_gets_its_own_calendar() {
        let y2027 = file("cn-2027.toml", "name = \"cn\"\nholidays = [\"2027-01-01\"]");
        let site = file(
            "site.toml",
            "name = \"site\"\n[hours]\nsaturday = [\"09:00-12:00\"]",
        );
        let shipped = file("cn-2026.toml", projections::sla::calendar::CN_2026);
        let c = load(None, Some(format!("{shipped}, {y2027}, suburban={site}"))).expect("loads");
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert!(!c.calendars.default.is_working_day(d(2027, 1, 1)));
        assert!(!c.calendars.default.is_working_day(d(2026, 10, 1)));
        assert!(c
            .calendars
            .for_region("suburban")
            .is_working_day(d(2026, 1, 10)));
        assert!(!c
            .calendars
            .for_region("urban")
            .is_working_day(d(2026, 1, 10)));
    }

    #[test]
    fn a_bad_file_is_reported_with_its_path() {
        let bad = file("bad-policy.toml", "at_risk_percent = 175");
        let e = load(Some(bad.clone()), None).expect_err("refused");
        assert!(e.to_string().starts_with(&bad), "{e}");
        let missing = load(None, Some("/nonexistent/cal.toml".into())).expect_err("refused");
        assert!(matches!(missing, SlaConfigError::Read { .. }));
    }
}
