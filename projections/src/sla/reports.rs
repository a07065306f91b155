//! The dashboard's open clocks, on either store (same SQL): by status at
//! a given "now", keyset-paged, as a [`Table`] and CSV. The KPI figures
//! are in [`super::kpis`].

use super::clocks::{ClockState, State, Status, View};
use super::policy::Basis;
use super::SlaConfig;
use crate::db::{parse_time, sortable_time, Pool, Val};
use crate::report::{Page, Table};
use chrono::{DateTime, Utc};
use domain::ticket::types::{Priority, Region};

/// Filters of the open-clocks query; they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenFilter {
    /// One ticket: all its clocks, finished ones included.
    pub ticket_id: Option<String>,
    pub status: Option<Status>,
    pub region: Option<Region>,
    pub technician: Option<String>,
    pub priority: Option<Priority>,
    pub clock: Option<String>,
}

/// A clock as seen at "now" (running or paused unless one ticket's were asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenClock {
    pub ticket_id: String,
    pub region: String,
    pub technician: String,
    pub priority: String,
    pub clock: ClockState,
    pub view: View,
}

type OpenRow = (
    String,
    String,
    i64,
    String,
    i64,
    String,
    String,
    i64,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
    String,
    String,
    String,
);

const OPEN: &str = "SELECT ticket_id, clock, CAST(cycle AS bigint), basis, target_seconds, started_at, state,
        paused_seconds, stopped_at, elapsed_seconds, at_risk_at, deadline_at, CAST(met AS bigint), region,
        technician, priority
   FROM sla_clocks";

/// Where a page of open clocks starts: after this clock, in the listing's
/// order (deadline, paused and finished last; ticket; clock; cycle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockCursor {
    /// The stored deadline, or `NO_DEADLINE`.
    pub deadline: String,
    pub ticket_id: String,
    pub clock: String,
    pub cycle: i64,
}

/// Where a clock without a deadline sorts: after every time.
const NO_DEADLINE: &str = "9999";

impl ClockCursor {
    /// An opaque page token.
    pub fn token(&self) -> String {
        format!(
            "{}|{}|{}|{}{}",
            self.deadline,
            self.cycle,
            self.clock.len(),
            self.clock,
            self.ticket_id
        )
    }

    pub fn parse(raw: &str) -> Option<Self> {
        // The clock's length in bytes says where it ends, so neither it
        // nor the ticket id has to be free of '|'.
        let mut parts = raw.splitn(4, '|');
        let deadline = parts.next()?.to_owned();
        let cycle = parts.next()?.parse().ok()?;
        let len: usize = parts.next()?.parse().ok()?;
        let rest = parts.next()?;
        let (clock, ticket_id) = (rest.get(..len)?.to_owned(), rest.get(len..)?.to_owned());
        Some(Self {
            deadline,
            ticket_id,
            clock,
            cycle,
        })
    }

    fn of(c: &OpenClock) -> Self {
        Self {
            deadline: c
                .clock
                .deadline
                .map_or_else(|| NO_DEADLINE.to_owned(), sortable_time),
            ticket_id: c.ticket_id.clone(),
            clock: c.clock.clock.clone(),
            cycle: i64::from(c.clock.cycle),
        }
    }
}

fn open_sql(filter: &OpenFilter, after: Option<&ClockCursor>) -> (String, Vec<Val>) {
    let mut sql = OPEN.to_owned();
    let mut vals = Vec::new();
    match &filter.ticket_id {
        Some(id) => {
            vals.push(Val::Text(id.clone()));
            sql.push_str(" WHERE ticket_id = $1");
        }
        None => sql.push_str(" WHERE state IN ('running', 'paused')"),
    }
    let region = filter.region.map(|r| r.as_str().to_owned());
    let priority = filter.priority.map(|p| p.as_str().to_owned());
    for (column, v) in [
        ("region", &region),
        ("technician", &filter.technician),
        ("priority", &priority),
        ("clock", &filter.clock),
    ] {
        if let Some(v) = v {
            vals.push(Val::Text(v.clone()));
            sql.push_str(&format!(" AND {column} = ${}", vals.len()));
        }
    }
    if let Some(c) = after {
        vals.push(Val::Text(c.deadline.clone()));
        let a = vals.len();
        vals.push(Val::Text(c.ticket_id.clone()));
        vals.push(Val::Text(c.clock.clone()));
        vals.push(Val::Int(c.cycle));
        let (b, k, n) = (a + 1, a + 2, a + 3);
        // A row comparison, so the index in listing order starts the page.
        sql.push_str(&format!(
            " AND (COALESCE(deadline_at, '{NO_DEADLINE}'), ticket_id, clock, sla_clocks.cycle)
                > (${a}, ${b}, ${k}, ${n})"
        ));
    }
    // Paused and finished clocks (no deadline) last, the same on both stores.
    sql.push_str(&format!(
        " ORDER BY COALESCE(deadline_at, '{NO_DEADLINE}'), ticket_id, clock, sla_clocks.cycle"
    ));
    (sql, vals)
}

fn open_from(
    rows: Vec<OpenRow>,
    filter: &OpenFilter,
    config: &SlaConfig,
    now: DateTime<Utc>,
) -> Vec<OpenClock> {
    let mut out = Vec::new();
    for r in rows {
        let (ticket_id, clock, cycle, basis, target, started, state) =
            (r.0, r.1, r.2, r.3, r.4, r.5, r.6);
        let Some(started_at) = parse_time(&started) else {
            continue;
        };
        let c = ClockState {
            clock,
            cycle: u32::try_from(cycle).unwrap_or_default(),
            basis: if basis == "calendar" {
                Basis::Calendar
            } else {
                Basis::Business
            },
            target,
            started_at,
            state: match state.as_str() {
                "paused" => State::Paused,
                "stopped" => State::Stopped,
                "cancelled" => State::Cancelled,
                _ => State::Running,
            },
            paused: r.7,
            paused_since: None,
            awaiting_custody: false,
            elapsed: r.9,
            stopped_at: r.8.as_deref().and_then(parse_time),
            at_risk_at: r.10.as_deref().and_then(parse_time),
            deadline: r.11.as_deref().and_then(parse_time),
            met: r.12.map(|m| m == 1),
        };
        let cal = config.calendars.for_region(&r.13);
        let view = c.view(cal, now, config.policy.at_risk_percent);
        if filter.status.is_some_and(|s| s != view.status) {
            continue;
        }
        out.push(OpenClock {
            ticket_id,
            region: r.13,
            technician: r.14,
            priority: r.15,
            clock: c,
            view,
        });
    }
    out
}

pub async fn open(
    pool: &Pool,
    filter: &OpenFilter,
    config: &SlaConfig,
    now: DateTime<Utc>,
) -> Result<Vec<OpenClock>, sqlx::Error> {
    let (sql, vals) = open_sql(filter, None);
    Ok(open_from(
        pool.fetch(&sql, vals).await?,
        filter,
        config,
        now,
    ))
}

/// One page of the open clocks, in the listing's order, and where the next
/// page starts. The status is computed at `now`, after reading: a page
/// reads on until it holds `page.size` clocks of the status asked for, or
/// the listing ends.
pub async fn open_page(
    pool: &Pool,
    filter: &OpenFilter,
    config: &SlaConfig,
    now: DateTime<Utc>,
    page: &Page<ClockCursor>,
) -> Result<(Vec<OpenClock>, Option<ClockCursor>), sqlx::Error> {
    let size = usize::try_from(page.size).unwrap_or(0);
    let chunk = page.size.max(99) + 1;
    let mut out = Vec::new();
    let mut after = page.after.clone();
    loop {
        let (sql, mut vals) = open_sql(filter, after.as_ref());
        vals.push(Val::Int(chunk));
        let sql = format!("{sql} LIMIT ${}", vals.len());
        let rows: Vec<OpenRow> = pool.fetch(&sql, vals).await?;
        let read = rows.len();
        after = rows.last().map(|r| ClockCursor {
            deadline: r.11.clone().unwrap_or_else(|| NO_DEADLINE.to_owned()),
            ticket_id: r.0.clone(),
            clock: r.1.clone(),
            cycle: r.2,
        });
        out.extend(open_from(rows, filter, config, now));
        if out.len() > size || i64::try_from(read).unwrap_or(0) < chunk {
            break;
        }
    }
    let more = out.len() > size;
    out.truncate(size);
    let next = out.last().filter(|_| more).map(ClockCursor::of);
    Ok((out, next))
}

/// Open clocks as a table (minutes of the clock's basis).
pub fn open_table(clocks: &[OpenClock]) -> Table {
    let opt = |t: Option<DateTime<Utc>>| t.map(sortable_time).unwrap_or_default();
    Table::new(
        &[
            "ticket_id",
            "clock",
            "cycle",
            "status",
            "started_at",
            "deadline_at",
            "elapsed_minutes",
            "remaining_minutes",
            "percent_used",
            "region",
            "technician",
            "priority",
        ],
        clocks
            .iter()
            .map(|o| {
                vec![
                    o.ticket_id.clone(),
                    o.clock.clock.clone(),
                    o.clock.cycle.to_string(),
                    o.view.status.as_str().to_owned(),
                    sortable_time(o.clock.started_at),
                    opt(o.clock.deadline),
                    (o.view.elapsed / 60).to_string(),
                    (o.view.remaining / 60).to_string(),
                    o.view.percent_used.to_string(),
                    o.region.clone(),
                    o.technician.clone(),
                    o.priority.clone(),
                ]
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_clock_name_with_a_bar_when_its_token_is_read_back_then_the_cursor_is_the_same() {
        let c = ClockCursor {
            deadline: "2026-12-07T01:00:00.000000Z".into(),
            ticket_id: "t-1".into(),
            clock: "first|contact".into(),
            cycle: 2,
        };
        assert_eq!(ClockCursor::parse(&c.token()), Some(c));
        assert_eq!(ClockCursor::parse("9999|1|9|short"), None);
    }

    #[test]
    fn open_filters_become_numbered_parameters() {
        let (sql, vals) = open_sql(
            &OpenFilter {
                region: Some(Region::Urban),
                clock: Some("revisit".into()),
                ..OpenFilter::default()
            },
            None,
        );
        assert!(sql.contains("AND region = $1 AND clock = $2"), "{sql}");
        assert_eq!(
            vals,
            vec![Val::Text("urban".into()), Val::Text("revisit".into())]
        );
        let (sql, _) = open_sql(
            &OpenFilter {
                ticket_id: Some("T-1".into()),
                ..OpenFilter::default()
            },
            None,
        );
        assert!(sql.contains("WHERE ticket_id = $1 ORDER BY"), "{sql}");
    }

    #[test]
    fn a_clock_cursor_reads_back_from_its_token() {
        let c = ClockCursor {
            deadline: "2026-03-20T02:00:00.000000Z".into(),
            ticket_id: "T|1".into(),
            clock: "repair_cycle".into(),
            cycle: 2,
        };
        assert_eq!(ClockCursor::parse(&c.token()), Some(c));
        assert_eq!(ClockCursor::parse("9999|x|5|clockT-1"), None);
    }
}
