//! The baselines every figure is compared with, measured in the same run on
//! the same database server:
//!
//! 1. the raw limit: pgbench running what one command must do (read the
//!    ticket's events, insert one event, commit) at the same concurrency;
//! 2. plain cqrs-es + postgres-es executing the same commands in-process,
//!    with no gRPC, no request-id check, no seals and no projections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cqrs_es::persist::PersistedEventStore;
use cqrs_es::CqrsFramework;
use domain::ticket::command::*;
use domain::ticket::types::*;
use domain::values::{
    ActorId, Hours, Label, PartNumber, PhoneNumber, Quantity, SerialNumber, Text,
};
use domain::{Actor, Authored, Money, Role, Ticket, TicketCommand, TicketServices};
use indicatif::ProgressBar;
use postgres_es::PostgresEventRepository;

use super::load::Measured;
use crate::clock::SystemClock;
use crate::policy::PolicyHandle;

type Error = Box<dyn std::error::Error>;

const PGBENCH_SCRIPT: &str = r#"\set stream random(1, 100000)
BEGIN;
SELECT payload FROM bench_raw WHERE stream = :stream ORDER BY id;
INSERT INTO bench_raw (stream, payload) VALUES (:stream, '{"TicketEscalated":{"reason":"bench","to":"general_manager","at":"2026-01-01T00:00:00Z"}}');
COMMIT;
"#;

/// Transactions per second pgbench reaches at `clients`.
pub async fn pgbench(url: &str, clients: usize, seconds: u64) -> Result<f64, Error> {
    let pool = sqlx::PgPool::connect(url).await?;
    for statement in [
        "DROP TABLE IF EXISTS bench_raw",
        "CREATE TABLE bench_raw (stream bigint NOT NULL, id bigserial, payload jsonb NOT NULL, PRIMARY KEY (stream, id))",
    ] {
        sqlx::query(statement).execute(&pool).await?;
    }
    pool.close().await;
    let dir = std::env::temp_dir().join(format!("ticketd-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("command.sql");
    std::fs::write(&script, PGBENCH_SCRIPT)?;
    let output = tokio::process::Command::new("pgbench")
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-f",
        ])
        .arg(&script)
        .arg(url)
        .output()
        .await?;
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            format!(
                "pgbench gave no tps: {}{}",
                text,
                String::from_utf8_lossy(&output.stderr)
            )
            .into()
        })
}

/// The postgres-es schema, as its own documentation creates it.
const PLAIN_SCHEMA: &[&str] = &[
    "DROP TABLE IF EXISTS events",
    "CREATE TABLE events (aggregate_type text NOT NULL, aggregate_id text NOT NULL, sequence bigint CHECK (sequence >= 0) NOT NULL,
        event_type text NOT NULL, event_version text NOT NULL, payload json NOT NULL, metadata json NOT NULL,
        PRIMARY KEY (aggregate_type, aggregate_id, sequence))",
];

fn actor(role: Role) -> Result<Actor, Error> {
    Ok(Actor {
        id: ActorId::parse(&format!("bench-{role}")).map_err(|p| p.to_string())?,
        role,
    })
}

fn label(s: &str) -> Result<Label, Error> {
    Label::parse(s).map_err(|p| format!("{s}: {p}").into())
}

/// The same 13 commands the gRPC load sends, as domain commands.
fn lifecycle(ticket: &str) -> Result<Vec<Authored<TicketCommand>>, Error> {
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let by = |role, command| -> Result<Authored<TicketCommand>, Error> {
        Ok(Authored::now(actor(role)?, command))
    };
    let level = SatisfactionLevel::VerySatisfied;
    [
        by(
            Role::CustomerService,
            TicketCommand::ReceiveTicket(ReceiveTicket {
                channel: Channel::Phone,
                kind: TicketKind::Repair,
                customer: Customer {
                    id: None,
                    name: label("Bench Customer")?.into(),
                    phone: PhoneNumber::parse("13800138000")
                        .map_err(|p| p.to_string())?
                        .into(),
                    address: label("1 Bench Rd")?.into(),
                    region: Region::Urban,
                },
                product: Product {
                    line: label("washer")?,
                    model: label("WM-800")?,
                    serial: SerialNumber::parse(&format!("SN-{ticket}"))
                        .map_err(|p| p.to_string())?,
                    batch: Some(label("B1")?),
                    purchased_on: Some(today - chrono::Duration::days(60)),
                    proof_of_purchase: true,
                    installed_on: None,
                },
                description: Text::parse("does not spin").map_err(|p| p.to_string())?,
                priority: Priority::Normal,
                service_mode: ServiceMode::OnSite,
                refers_to: None,
            }),
        ),
        by(
            Role::CustomerService,
            TicketCommand::DetermineWarranty(DetermineWarranty {
                service_contract: false,
            }),
        ),
        by(
            Role::ServiceManager,
            TicketCommand::DispatchTechnician(DispatchTechnician {
                technician: ActorId::parse("bench-technician").map_err(|p| p.to_string())?,
                planned_arrival: chrono::Utc::now() + chrono::Duration::hours(1),
            }),
        ),
        by(Role::Technician, TicketCommand::AcceptDispatch),
        by(Role::Technician, TicketCommand::RecordArrival),
        by(
            Role::Technician,
            TicketCommand::DiagnoseFault(DiagnoseFault {
                symptom: Text::parse("no spin").map_err(|p| p.to_string())?,
                failure_mode: label("MOTOR-OPEN")?,
                failed_parts: vec![PartNumber::parse("MTR-100").map_err(|p| p.to_string())?],
                root_cause: RootCause::Manufacturing,
                customer_caused: false,
                responsible_department: domain::policy::Department::Production,
                path: RepairPath::OnSiteRepair,
                major: false,
            }),
        ),
        by(
            Role::ServiceManager,
            TicketCommand::EscalateTicket {
                reason: Text::parse("bench").map_err(|p| p.to_string())?,
            },
        ),
        by(
            Role::Technician,
            TicketCommand::RecordRepair(RecordRepair {
                labour: Hours::from_minutes(60).map_err(|p| p.to_string())?,
                parts: vec![PartUsed {
                    part_number: PartNumber::parse("MTR-100").map_err(|p| p.to_string())?,
                    quantity: Quantity::new(1).map_err(|p| p.to_string())?,
                    unit_cost: Money::cny(35_000),
                    old_part: OldPartDisposition::Scrapped,
                }],
                notes: None,
            }),
        ),
        by(Role::QcInspector, TicketCommand::PassQc),
        by(
            Role::Technician,
            TicketCommand::ShipItem(ShipItem {
                carrier: label("SF")?,
                tracking_number: label("SF1")?,
                address: label("1 Bench Rd")?,
            }),
        ),
        by(
            Role::Technician,
            TicketCommand::ConfirmDelivery {
                signed_by: label("Bench")?,
            },
        ),
        by(
            Role::CustomerService,
            TicketCommand::RecordRevisit(RecordRevisit {
                satisfaction: Satisfaction {
                    attitude: level,
                    skill: level,
                    arrival_time: level,
                    promises_kept: level,
                },
                comment: None,
                resolved: true,
            }),
        ),
        by(Role::CustomerService, TicketCommand::CloseTicket),
    ]
    .into_iter()
    .collect()
}

/// The same lifecycles through plain cqrs-es + postgres-es, in-process.
pub async fn plain_cqrs(
    url: &str,
    clients: usize,
    tickets_per_client: usize,
    policy: &PolicyHandle,
    bar: &ProgressBar,
) -> Result<Measured, Error> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(clients as u32 + 2)
        .connect(url)
        .await?;
    for statement in PLAIN_SCHEMA {
        sqlx::query(statement).execute(&pool).await?;
    }
    let services = TicketServices::new(Arc::new(SystemClock), (*policy.current()).clone());
    let store: PersistedEventStore<_, Ticket> =
        PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()));
    let cqrs = Arc::new(CqrsFramework::new(store, vec![], services));
    let run = uuid::Uuid::new_v4().simple().to_string();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let cqrs = cqrs.clone();
        let bar = bar.clone();
        let run = run.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Measured::default();
            for t in 0..tickets_per_client {
                let ticket = format!("plain-{run}-{client}-{t}");
                let Ok(commands) = lifecycle(&ticket) else {
                    out.errors += 1;
                    continue;
                };
                for command in commands {
                    let began = Instant::now();
                    if cqrs.execute(&ticket, command).await.is_err() {
                        out.errors += 1;
                    }
                    out.command_us.push(began.elapsed().as_micros() as u64);
                    out.commands += 1;
                }
                bar.inc(super::load::EVENTS_PER_TICKET);
            }
            out
        }));
    }
    let mut total = Measured::default();
    for task in tasks {
        total.merge(task.await?);
    }
    total.elapsed = started.elapsed();
    pool.close().await;
    Ok(total)
}

/// Waits a moment between phases so one does not bleed into the next.
pub async fn settle() {
    tokio::time::sleep(Duration::from_secs(2)).await;
}
