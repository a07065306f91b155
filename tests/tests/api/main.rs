//! End-to-end tests: a real ticketd on port 0, real gRPC over TCP, against
//! a temporary SQLite file and a fresh PostgreSQL database.

mod helpers;
mod runtime;

mod access;
mod audit;
mod browser;
mod console;
mod consumers;
mod cost;
mod crash;
mod custody;
mod escalations;
mod failover;
mod flow;
mod fracas;
mod fracas_8d;
mod fracas_life;
mod idempotency;
mod import;
mod leadership;
mod lifecycle;
mod outage;
mod platform;
mod policy;
mod privacy;
mod projections;
mod python_client;
mod queries;
mod rejections;
mod relay;
mod replicas;
mod report_pages;
mod restart;
mod robustness;
mod rules;
mod short_flows;
mod sla;
mod sla_rules;
mod subscription_forms;
mod subscriptions;
mod times;
mod tls;
mod traces;
mod typed_events;
mod upcasting;
