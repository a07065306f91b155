//! ticketd: the repair ticket service.
//!
//! * [`store`]: opening SQLite or PostgreSQL and applying migrations.
//! * [`backup`]: a verified copy of the SQLite store while it runs.
//! * [`bus`]: executing commands exactly once per request id.
//! * [`import`]: history import, each ticket all or nothing.
//! * [`rpc`]: the gRPC services (the only module that knows tonic/prost).
//! * [`project`]: running the read-model projections.
//! * [`console`]: the web console (server-rendered pages over the same
//!   services as the API).
//! * [`server`]: wiring it all together, start and graceful shutdown.

pub mod access;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod bench;
pub mod bus;
pub mod cli;
pub mod clock;
pub mod console;
pub mod consumers;
pub mod files;
pub mod import;
mod import_cli;
pub mod lists;
pub mod maintenance;
pub mod metrics;
pub mod policy;
pub mod privacy;
pub mod project;
pub mod relay;
pub mod rpc;
pub mod sealed;
pub mod server;
pub mod sla;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod units;
