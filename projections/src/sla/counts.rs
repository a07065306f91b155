//! The KPI counts (DOMAIN.md §7) kept as roll-ups, so the KPI figures
//! read one row per day and group instead of every clock and revisit:
//! - [`ON_TIME`]: stopped clocks per clock, outcome day, outcome week,
//!   technician and region, with how many met their deadline;
//! - [`REVISITS`]: revisits per day, week, technician and region, with how
//!   many were resolved and satisfied.
//!
//! A day is the date in the default calendar's zone, the zone a KPI
//! request's dates are read in, so a request's days select exactly the
//! clocks and revisits its instants would. A running clock past its
//! deadline counts too (as not met) but depends on "now": it is read from
//! the clocks at query time (`reports::kpis`).
//!
//! The cells need the calendars (the day's zone, the region's week), so
//! [`cells`] computes them and each roll-up moves by the difference of
//! what a ticket added before and adds now (its type is the cells).
//! Invariant: the calendars are those the kept rows were made with; after
//! changing them, `ticketd rebuild sla` recomputes the counts.

use chrono::{DateTime, Utc};

use super::clocks::{State, TicketSla};
use super::SlaConfig;
use crate::rollup::{add, Cells, Rollup};

/// Cells a caller computed (with the calendars): the roll-up's "stream".
pub type Counted = (Cells, Cells);

/// Stopped clocks per clock, outcome day, outcome week, technician and
/// region: how many met their deadline, how many there are.
pub const ON_TIME: Rollup<Counted> = Rollup {
    table: "sla_on_time_counts",
    keys: &[
        "clock",
        "outcome_on",
        "outcome_week",
        "technician",
        "region",
    ],
    sums: &["met", "clocks"],
    cells: |c| c.0.clone(),
};

/// Revisits per day, week, technician and region: resolved, satisfied, all.
pub const REVISITS: Rollup<Counted> = Rollup {
    table: "sla_revisit_counts",
    keys: &["revisited_on", "week", "technician", "region"],
    sums: &["resolved", "satisfied", "revisits"],
    cells: |c| c.1.clone(),
};

/// Every roll-up the SLA read model keeps.
pub const ROLLUPS: [&Rollup<Counted>; 2] = [&ON_TIME, &REVISITS];

/// What one ticket adds to [`ON_TIME`] and [`REVISITS`].
pub fn cells(sla: &TicketSla, config: &SlaConfig) -> Counted {
    let zone = config.calendars.default.zone;
    let day = |t: DateTime<Utc>| t.with_timezone(&zone).date_naive().to_string();
    let cal = config.calendars.for_region(&sla.facts.region);
    let technician = sla.technician.clone().unwrap_or_default();
    let region = sla.facts.region.clone();
    let mut on_time = Cells::new();
    for c in sla.clocks.iter().filter(|c| c.state == State::Stopped) {
        let Some(outcome) = c.stopped_at.or(c.deadline) else {
            continue;
        };
        let key = vec![
            c.clock.clone(),
            day(outcome),
            cal.week_of(outcome),
            technician.clone(),
            region.clone(),
        ];
        add(&mut on_time, key, &[i64::from(c.met == Some(true)), 1]);
    }
    let mut revisits = Cells::new();
    for r in &sla.revisits {
        let key = vec![
            day(r.at),
            cal.week_of(r.at),
            technician.clone(),
            region.clone(),
        ];
        let sums = [i64::from(r.resolved), i64::from(r.satisfied), 1];
        add(&mut revisits, key, &sums);
    }
    (on_time, revisits)
}
