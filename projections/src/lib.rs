//! Read models (CQRS projections) built from the event log.
//!
//! A projection reads the log in order from its checkpoint and writes its
//! view rows and its new checkpoint in one transaction, so after any crash
//! each event's effect is applied exactly once. cqrs-es's in-process query
//! dispatch is not used: it runs after the commit and is lost if the process
//! dies in between.
//!
//! * [`log`]: the event log: its one writer (sealed rows), the hash
//!   chains, reading it and the sequencers.
//! * [`ticket_summary`]: the row per ticket behind ListTickets.
//! * [`db`]: either store's pool and transaction, the one place their
//!   differences are decided.
//! * [`engine`]: the `Projection` trait, the registry and the one driver.
//! * [`rebuild`]: rebuilding any projection beside the live tables.
//! * [`runner`]: the loop that keeps a projection caught up.

#[macro_use]
pub mod db;
pub mod cost;
pub mod engine;
pub mod fracas;
pub mod kept;
#[cfg(test)]
mod kept_tests;
pub mod log;
pub mod query;
pub mod rebuild;
pub mod report;
pub mod rollup;
pub mod rows;
pub mod runner;
pub mod sla;
pub mod ticket_summary;

/// The aggregate type of ticket events in the log.
pub const TICKET: &str = "Ticket";

/// Name under which the ticket summary stores its checkpoint.
pub const TICKET_SUMMARY: &str = "ticket_summary";

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("event store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("event at position {position} cannot be read: {source}")]
    Undecodable {
        position: i64,
        source: serde_json::Error,
    },
    #[error("event at position {position} has a shape this build cannot read: {source}")]
    Unreadable {
        position: i64,
        source: domain::schema::SchemaError,
    },
}
