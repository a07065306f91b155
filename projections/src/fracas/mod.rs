//! FRACAS (DOMAIN.md §9): failure reports, reliability figures and the
//! corrective actions' read model.
//!
//! [`records::failures`] derives a ticket's unit and failure records from
//! its events (pure); [`analysis`] computes Pareto, repeats, MTBF / failure
//! rate and NFF rate from records (pure, hand-worked fixture in
//! `analysis_tests.rs`); [`store`] replaces a ticket's rows (or an action's
//! row) whenever one of its events arrives, rows and checkpoint in one
//! transaction; [`reports`] reads rows back (history is keyset-paged) and
//! [`tables`] tabulates every report, with CSV. Issue #19: [`installed`]
//! (the installed base and the population, stored by [`base`]), [`life`]
//! and [`weibull`] (life-data analysis), [`trends`] (per period). Issue
//! #14: [`exposure`] (what MTBF and the rate trend are sums over) kept by
//! [`population`].

pub mod analysis;
pub mod base;
pub mod counts;
pub mod exposure;
pub mod installed;
pub mod life;
pub mod population;
pub mod records;
pub mod reports;
pub mod store;
pub mod tables;
pub mod trends;
pub mod weibull;

#[cfg(test)]
mod analysis_tests;
#[cfg(test)]
mod counts_tests;
#[cfg(test)]
mod installed_tests;
#[cfg(test)]
mod population_tests;
#[cfg(test)]
pub(crate) mod records_tests;
#[cfg(test)]
mod trends_tests;
#[cfg(test)]
mod weibull_tests;

pub use records::{failures, FailureRecord, Signal, Unit};
pub use store::Fracas;

/// Checkpoint name of the FRACAS projection.
pub const FRACAS: &str = "fracas";

/// The projection's tables (the last keeps each stream's state).
pub const TABLES: &[&str] = &[
    "fracas_failure_parts",
    "fracas_failures",
    "fracas_units",
    "fracas_action_scope",
    "fracas_action_plan",
    "fracas_action_links",
    "fracas_actions",
    "fracas_mode_counts",
    "fracas_part_counts",
    "fracas_serial_mode_counts",
    "fracas_population_units",
    "fracas_population_failures",
    "fracas_serials",
    "fracas_state",
];
