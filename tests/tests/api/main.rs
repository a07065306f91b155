//! End-to-end tests: a real ticketd on port 0, real gRPC over TCP, against
//! a temporary SQLite file and a fresh PostgreSQL database.

mod helpers;

mod cost;
mod flow;
mod idempotency;
mod leadership;
mod lifecycle;
mod platform;
mod projections;
mod queries;
mod rejections;
mod restart;
mod sla;
mod subscriptions;
