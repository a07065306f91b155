//! End-to-end tests: a real ticketd on port 0, real gRPC over TCP, against
//! a temporary SQLite file and a fresh PostgreSQL database.

mod helpers;

mod audit;
mod cost;
mod crash;
mod flow;
mod fracas;
mod idempotency;
mod leadership;
mod lifecycle;
mod outage;
mod platform;
mod policy;
mod projections;
mod queries;
mod rejections;
mod restart;
mod robustness;
mod sla;
mod subscriptions;
