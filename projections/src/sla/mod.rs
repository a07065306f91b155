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

static INSTALLED: std::sync::OnceLock<SlaConfig> = std::sync::OnceLock::new();

impl SlaConfig {
    /// Makes `config` (read from the user's files by the service) the one
    /// every runner, rebuild and query of this process uses. Only the first
    /// call counts; returns whether it did.
    pub fn install(config: SlaConfig) -> bool {
        INSTALLED.set(config).is_ok()
    }

    /// The installed configuration, or the shipped default.
    pub fn current() -> &'static SlaConfig {
        INSTALLED.get_or_init(SlaConfig::default)
    }
}
