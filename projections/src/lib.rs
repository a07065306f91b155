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
//! * [`postgres`], [`sqlite`]: reading the log and applying batches.
//! * [`runner`]: the loop that keeps a projection caught up.

/// Binds a list of [`cost::store::Val`]s to a query, in order (shared by
/// the cost ledger and FRACAS stores).
macro_rules! bind_all {
    ($query:expr, $vals:expr) => {{
        let mut q = $query;
        for v in $vals {
            q = match v {
                $crate::cost::store::Val::Text(s) => q.bind(s),
                $crate::cost::store::Val::OptText(s) => q.bind(s),
                $crate::cost::store::Val::Int(i) => q.bind(i),
                $crate::cost::store::Val::OptInt(i) => q.bind(i),
            };
        }
        q
    }};
}

pub mod cost;
pub mod fracas;
pub mod log;
pub mod postgres;
pub mod query;
pub mod rebuild;
pub mod runner;
pub mod sla;
pub mod sqlite;
pub mod ticket_summary;

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
}
