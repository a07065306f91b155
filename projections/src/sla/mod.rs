//! Service levels (DOMAIN.md §7): business calendars, the clock policy,
//! each ticket's clocks per repair cycle, the dashboard's queries and KPI
//! figures, and the alerts (`SlaAtRisk`, `SlaBreached`) the deadline
//! watcher appends to the log.
//!
//! [`clocks::derive`] computes a ticket's clocks from its events (pure);
//! [`store`] replaces the ticket's rows whenever one of its events arrives,
//! rows and checkpoint in one transaction, with the KPI roll-ups of
//! [`counts`]; [`reports`] reads them at a given "now"; [`alerts`] finds
//! due clocks and appends their events.

pub mod alerts;
pub mod calendar;
pub mod clocks;
pub mod counts;
#[cfg(test)]
mod counts_tests;
pub mod kpis;
pub mod policy;
pub mod reports;
pub mod store;

pub use calendar::{Calendar, CalendarError, Calendars};
pub use clocks::{derive, ClockState, State, Status, TicketSla, View};
pub use policy::{Basis, PolicyError, SlaPolicy};
pub use store::Sla;

/// Checkpoint name of the SLA projection.
pub const SLA: &str = "sla";

/// The projection's tables (the last keeps each ticket's state).
pub const TABLES: &[&str] = &[
    "sla_clocks",
    "sla_revisits",
    "sla_on_time_counts",
    "sla_revisit_counts",
    "sla_state",
];

/// Aggregate type of the watcher's alerts in the `events` table; their
/// aggregate id is the ticket's.
pub const ALERT_AGGREGATE: &str = "SlaClock";

/// Policy and calendars together: what the projection, the queries and the
/// watcher compute with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlaConfig {
    pub policy: SlaPolicy,
    pub calendars: Calendars,
}

static SHIPPED: std::sync::LazyLock<SlaConfig> = std::sync::LazyLock::new(SlaConfig::default);

impl SlaConfig {
    /// The shipped policy and calendars, for what runs without the user's
    /// files (tests, the bench). The service reads the user's in `main`
    /// and passes them down; nothing looks a configuration up.
    pub fn shipped() -> &'static SlaConfig {
        &SHIPPED
    }

    /// `self` for the rest of the process: read once in `main`, then
    /// shared by every runner, rebuild and query it starts.
    pub fn leak(self) -> &'static SlaConfig {
        Box::leak(Box::new(self))
    }
}
