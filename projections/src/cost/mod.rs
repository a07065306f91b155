//! The cost ledger (DOMAIN.md §10, approvals of §5): who bears each cost
//! of each repair, quote against actual, invoiced and paid.
//!
//! [`ledger::ledger`] derives a ticket's whole ledger from its events (pure);
//! the store modules replace the ticket's rows with it whenever one of its
//! events arrives, rows and checkpoint in one transaction. Recomputing the
//! ticket rather than patching rows keeps a late fact (a diagnosis that
//! turns a visit chargeable, a waiver) consistent with every earlier line.

pub mod ledger;
pub mod reports;
pub mod rollup;
pub mod store;

pub use store::CostLedger;

pub use ledger::{ledger, Bearer, Kind, Line, TicketLedger};

/// Checkpoint name of the cost ledger projection.
pub const COST_LEDGER: &str = "cost_ledger";

/// The ledger's tables: its rows, its roll-ups ([`rollup::ROLLUPS`]) and
/// last the table that keeps each ticket's state.
pub const TABLES: &[&str] = &[
    "cost_lines",
    "cost_tickets",
    "cost_quoted",
    "cost_warranty",
    "cost_parts",
    "cost_quote_actual",
    "cost_state",
];
