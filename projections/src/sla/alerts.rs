//! The deadline watcher's events: `SlaAtRisk` when a running clock reaches
//! the policy's share of its target, `SlaBreached` when it passes it (or
//! stopped or paused past it before the watcher saw it). They are stored in the
//! `events` table as aggregate type `SlaClock` with the ticket's id, so
//! they get log positions, hashes and subscribers like any event.
//!
//! Exactly once per (ticket, clock, cycle, kind): each alert's request id
//! is `sla:<ticket>:<clock>:<cycle>:<kind>`, and the log's unique index on
//! request ids refuses a second one, whichever process or restart tries.

use super::ALERT_AGGREGATE;
use crate::db::{parse_time, Pool, Val};
use crate::log::append::{is_unique_violation, to_micros, NewEvent};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Schema version of the alert shapes.
pub const ALERT_VERSION: &str = "1.0";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Alert {
    SlaAtRisk {
        clock: String,
        cycle: u32,
        /// When the clock reached the at-risk share.
        due_at: DateTime<Utc>,
        /// When the watcher noticed.
        at: DateTime<Utc>,
    },
    SlaBreached {
        clock: String,
        cycle: u32,
        /// The deadline that passed.
        due_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
}

impl Alert {
    pub const AT_RISK: &'static str = "SlaAtRisk";
    pub const BREACHED: &'static str = "SlaBreached";

    pub fn name(&self) -> &'static str {
        match self {
            Alert::SlaAtRisk { .. } => Self::AT_RISK,
            Alert::SlaBreached { .. } => Self::BREACHED,
        }
    }

    pub fn clock(&self) -> &str {
        match self {
            Alert::SlaAtRisk { clock, .. } | Alert::SlaBreached { clock, .. } => clock,
        }
    }

    pub fn cycle(&self) -> u32 {
        match self {
            Alert::SlaAtRisk { cycle, .. } | Alert::SlaBreached { cycle, .. } => *cycle,
        }
    }
}

/// An alert that is due for a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub ticket_id: String,
    pub alert: Alert,
}

impl Due {
    /// The request id that makes the alert unique in the log.
    pub fn request_id(&self) -> String {
        format!(
            "sla:{}:{}:{}:{}",
            self.ticket_id,
            self.alert.clock(),
            self.alert.cycle(),
            self.alert.name()
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("stored SLA row has a bad time: {0}")]
    Time(String),
}

const DUE: &str = "
SELECT ticket_id, clock, CAST(cycle AS bigint), state, at_risk_at, deadline_at,
       CAST(risk_noted AS bigint), CAST(breach_noted AS bigint)
  FROM sla_clocks
 WHERE (state = 'running' AND ((risk_noted = 0 AND at_risk_at <= $1) OR (breach_noted = 0 AND deadline_at < $1)))
    OR (state = 'stopped' AND met = 0 AND breach_noted = 0)
    OR (state = 'paused' AND elapsed_seconds > target_seconds AND breach_noted = 0)
 ORDER BY ticket_id, clock, cycle
 LIMIT $2";

fn time(raw: Option<String>) -> Result<Option<DateTime<Utc>>, AlertError> {
    raw.map(|s| parse_time(&s).ok_or(AlertError::Time(s)))
        .transpose()
}

type DueRow = (
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
);

fn due_from(rows: Vec<DueRow>, now: DateTime<Utc>) -> Result<Vec<Due>, AlertError> {
    let mut out = Vec::new();
    for (ticket_id, clock, cycle, state, risk_at, deadline, risk_noted, breach_noted) in rows {
        let cycle = u32::try_from(cycle).unwrap_or_default();
        let (risk_at, deadline) = (time(risk_at)?, time(deadline)?);
        let running = state == "running";
        if running && risk_noted == 0 {
            if let Some(due_at) = risk_at.filter(|t| *t <= now) {
                out.push(Due {
                    ticket_id: ticket_id.clone(),
                    alert: Alert::SlaAtRisk {
                        clock: clock.clone(),
                        cycle,
                        due_at,
                        at: now,
                    },
                });
            }
        }
        let breached = if running {
            deadline.filter(|t| *t < now)
        } else {
            // Stopped (or paused) past its target before the watcher looked.
            Some(deadline.unwrap_or(now))
        };
        if let (0, Some(due_at)) = (breach_noted, breached) {
            out.push(Due {
                ticket_id,
                alert: Alert::SlaBreached {
                    clock,
                    cycle,
                    due_at,
                    at: now,
                },
            });
        }
    }
    Ok(out)
}

/// Alerts due at `now` (at most `limit`).
pub async fn due(pool: &Pool, now: DateTime<Utc>, limit: i64) -> Result<Vec<Due>, AlertError> {
    let rows: Vec<DueRow> = pool
        .fetch(DUE, vec![Val::Time(now), Val::Int(limit)])
        .await?;
    due_from(rows, now)
}

/// The alert as a sealed event at `sequence` of its ticket's alert stream.
/// The watcher noticed it at the alert's `at` (ticketd's clock): that is
/// both when it happened and when it was recorded.
fn new_event(due: &Due, sequence: i64) -> Result<NewEvent, sqlx::Error> {
    let request = due.request_id();
    let at = to_micros(match &due.alert {
        Alert::SlaAtRisk { at, .. } | Alert::SlaBreached { at, .. } => *at,
    });
    let event_id = uuid::Uuid::new_v4().to_string();
    let mut metadata = serde_json::json!({
        "request_id": request,
        "actor_id": "ticketd-sla-watcher",
        "actor_role": "system",
        "channel": "sla_watcher",
        "correlation_id": request,
        "causation_id": request,
        "event_type": due.alert.name(),
    });
    if let Some(map) = metadata.as_object_mut() {
        NewEvent::stamp_metadata(map, &event_id, at, at);
    }
    Ok(NewEvent {
        aggregate_type: ALERT_AGGREGATE.to_owned(),
        aggregate_id: due.ticket_id.clone(),
        sequence,
        event_type: due.alert.name().to_owned(),
        event_version: ALERT_VERSION.to_owned(),
        payload: serde_json::to_value(&due.alert)
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?,
        metadata,
        event_id,
        recorded_at: at,
        occurred_at: at,
    })
}

/// Appends `due` unless its request id is already in the log. Returns
/// whether this call wrote it. Safe to race from several processes: on
/// PostgreSQL a racing writer makes the insert fail and the loop look
/// again; on SQLite the write lock is held from the start.
pub async fn append(pool: &Pool, due: &Due) -> Result<bool, AlertError> {
    for _ in 0..5 {
        let mut tx = pool.begin_write().await?;
        if tx.find_request(&due.request_id()).await?.is_some() {
            return Ok(false);
        }
        let last: Vec<(i64, String)> = tx
            .fetch(
                "SELECT sequence, COALESCE(hash, '') FROM events
                  WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence DESC LIMIT 1",
                vec![
                    Val::Text(ALERT_AGGREGATE.into()),
                    Val::Text(due.ticket_id.clone()),
                ],
            )
            .await?;
        let (sequence, previous) = last
            .into_iter()
            .next()
            .map_or((1, String::new()), |(s, h)| (s + 1, h));
        match tx.append(&new_event(due, sequence)?, &previous).await {
            Ok(_) => {
                tx.commit().await?;
                return Ok(true);
            }
            // Another process wrote this alert, or another alert of the
            // ticket took the sequence: look again.
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sortable_time;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 12, h, 0, 0)
            .single()
            .expect("t")
    }

    fn row(state: &str, risk: Option<u32>, deadline: Option<u32>, noted: (i64, i64)) -> DueRow {
        let s = |h: Option<u32>| h.map(|h| sortable_time(t(h)));
        (
            "T-1".into(),
            "dispatch_arrival".into(),
            1,
            state.into(),
            s(risk),
            s(deadline),
            noted.0,
            noted.1,
        )
    }

    #[test]
    fn a_running_clock_past_its_deadline_owes_both_alerts_once() {
        let due = due_from(vec![row("running", Some(2), Some(4), (0, 0))], t(5)).expect("due");
        let names: Vec<&str> = due.iter().map(|d| d.alert.name()).collect();
        assert_eq!(names, ["SlaAtRisk", "SlaBreached"]);
        assert_eq!(
            due[1].request_id(),
            "sla:T-1:dispatch_arrival:1:SlaBreached"
        );
        let noted = due_from(vec![row("running", Some(2), Some(4), (1, 1))], t(5)).expect("due");
        assert!(noted.is_empty());
    }

    #[test]
    fn a_clock_between_at_risk_and_deadline_owes_only_the_at_risk_alert() {
        let due = due_from(vec![row("running", Some(2), Some(4), (0, 0))], t(3)).expect("due");
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].alert.name(), "SlaAtRisk");
    }

    #[test]
    fn a_clock_that_stopped_late_unnoticed_owes_a_breach_alert() {
        let due = due_from(vec![row("stopped", None, Some(2), (0, 0))], t(3)).expect("due");
        assert_eq!(due.len(), 1);
        assert!(matches!(&due[0].alert, Alert::SlaBreached { due_at, .. } if *due_at == t(2)));
    }

    #[test]
    fn alerts_serialize_like_ticket_events() {
        let a = Alert::SlaAtRisk {
            clock: "revisit".into(),
            cycle: 2,
            due_at: t(1),
            at: t(2),
        };
        let v = serde_json::to_value(&a).expect("json");
        assert_eq!(v["SlaAtRisk"]["cycle"], 2);
        assert_eq!(
            v["SlaAtRisk"]["at"],
            serde_json::to_value(t(2)).expect("json")
        );
    }
}
