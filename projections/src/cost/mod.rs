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
pub mod store;

pub use store::CostLedger;

pub use ledger::{ledger, Bearer, Kind, Line, TicketLedger};

/// Checkpoint name of the cost ledger projection.
pub const COST_LEDGER: &str = "cost_ledger";

/// The ledger's tables (the last keeps each ticket's state).
pub const TABLES: &[&str] = &[
    "cost_lines",
    "cost_tickets",
    "cost_quoted",
    WARRANTY,
    "cost_state",
];

/// The warranty roll-up: company-borne cost per product model and month
/// (of the sale, or of the cost), region and currency, kept by the
/// projection so that the warranty reports read it instead of every line.
pub const WARRANTY: &str = "cost_warranty";
