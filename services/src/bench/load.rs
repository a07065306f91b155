//! The gRPC load: N clients, each driving whole repair lifecycles (13
//! events per ticket) plus two queries per ticket, against a running server.

use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use tonic::transport::Channel;
use tonic::{Request, Status};

use crate::rpc::pb;
use crate::rpc::pb::ticket_commands_client::TicketCommandsClient;
use crate::rpc::pb::ticket_queries_client::TicketQueriesClient;

/// Commands per lifecycle.
pub const EVENTS_PER_TICKET: u64 = 13;

#[derive(Debug, Default, Clone)]
pub struct Measured {
    pub commands: u64,
    pub queries: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Microseconds per command.
    pub command_us: Vec<u64>,
    /// Microseconds per query.
    pub query_us: Vec<u64>,
}

impl Measured {
    pub fn merge(&mut self, other: Measured) {
        self.commands += other.commands;
        self.queries += other.queries;
        self.errors += other.errors;
        self.command_us.extend(other.command_us);
        self.query_us.extend(other.query_us);
    }

    pub fn commands_per_second(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The `q`th quantile (0..=1) of `samples`, in milliseconds.
pub fn quantile_ms(samples: &mut [u64], q: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_unstable();
    let i = ((samples.len() - 1) as f64 * q).round() as usize;
    samples[i.min(samples.len() - 1)] as f64 / 1000.0
}

fn as_role<T>(role: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if let (Ok(id), Ok(r)) = (format!("bench-{role}").parse(), role.parse()) {
        request.metadata_mut().insert("x-actor-id", id);
        request.metadata_mut().insert("x-actor-role", r);
    }
    request
}

fn ctx(ticket: &str, n: &mut u32) -> Option<pb::CommandContext> {
    *n += 1;
    Some(pb::CommandContext {
        request_id: format!("{ticket}-{n}"),
        ticket_id: ticket.to_owned(),
        ..Default::default()
    })
}

fn money(minor: i64) -> Option<pb::Money> {
    Some(pb::Money {
        currency: "CNY".into(),
        minor_units: minor,
    })
}

/// One lifecycle; each command's latency is pushed to `out`.
async fn lifecycle(
    c: &mut TicketCommandsClient<Channel>,
    ticket: &str,
    out: &mut Measured,
) -> Result<(), Status> {
    let mut n = 0;
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    macro_rules! timed {
        ($call:expr) => {{
            let started = Instant::now();
            let result = $call.await;
            out.command_us.push(started.elapsed().as_micros() as u64);
            out.commands += 1;
            result?;
        }};
    }
    timed!(c.receive_ticket(as_role(
        "customer_service",
        pb::ReceiveTicketRequest {
            context: ctx(ticket, &mut n),
            channel: pb::Channel::Phone as i32,
            kind: pb::TicketKind::Repair as i32,
            customer: Some(pb::Customer {
                name: "Bench Customer".into(),
                phone: "13800138000".into(),
                address: "1 Bench Rd".into(),
                region: pb::Region::Urban as i32,
                ..Default::default()
            }),
            product: Some(pb::Product {
                line: "washer".into(),
                model: "WM-800".into(),
                serial_number: format!("SN-{ticket}"),
                batch: "B1".into(),
                purchase_date: (today - chrono::Duration::days(60)).to_string(),
                proof_of_purchase: true,
                installed_on: String::new(),
            }),
            description: "does not spin".into(),
            priority: pb::Priority::Normal as i32,
            service_mode: pb::ServiceMode::OnSite as i32,
            refers_to: String::new(),
        }
    )));
    timed!(c.determine_warranty(as_role(
        "customer_service",
        pb::DetermineWarrantyRequest {
            context: ctx(ticket, &mut n),
            service_contract: false
        }
    )));
    timed!(c.dispatch_technician(as_role(
        "service_manager",
        pb::DispatchTechnicianRequest {
            context: ctx(ticket, &mut n),
            technician_id: "bench-technician".into(),
            planned_arrival: Some(prost_types::Timestamp {
                seconds: chrono::Utc::now().timestamp() + 3600,
                nanos: 0
            }),
        }
    )));
    timed!(c.accept_dispatch(as_role(
        "technician",
        pb::AcceptDispatchRequest {
            context: ctx(ticket, &mut n)
        }
    )));
    timed!(c.record_arrival(as_role(
        "technician",
        pb::RecordArrivalRequest {
            context: ctx(ticket, &mut n)
        }
    )));
    timed!(c.diagnose_fault(as_role(
        "technician",
        pb::DiagnoseFaultRequest {
            context: ctx(ticket, &mut n),
            symptom: "no spin".into(),
            failure_mode: "MOTOR-OPEN".into(),
            failed_parts: vec!["MTR-100".into()],
            root_cause: pb::RootCause::Manufacturing as i32,
            customer_caused: false,
            responsible_department: pb::Department::Production as i32,
            path: pb::RepairPath::OnSiteRepair as i32,
            major: false,
        }
    )));
    timed!(c.escalate_ticket(as_role(
        "service_manager",
        pb::EscalateTicketRequest {
            context: ctx(ticket, &mut n),
            reason: "bench".into()
        }
    )));
    timed!(c.record_repair(as_role(
        "technician",
        pb::RecordRepairRequest {
            context: ctx(ticket, &mut n),
            labour_minutes: 60,
            parts: vec![pb::PartUsed {
                part_number: "MTR-100".into(),
                quantity: 1,
                unit_cost: money(35_000),
                old_part: pb::OldPartDisposition::Scrapped as i32,
            }],
            notes: String::new(),
        }
    )));
    timed!(c.pass_qc(as_role(
        "qc_inspector",
        pb::PassQcRequest {
            context: ctx(ticket, &mut n)
        }
    )));
    timed!(c.ship_item(as_role(
        "technician",
        pb::ShipItemRequest {
            context: ctx(ticket, &mut n),
            carrier: "SF".into(),
            tracking_number: "SF1".into(),
            address: "1 Bench Rd".into(),
        }
    )));
    timed!(c.confirm_delivery(as_role(
        "technician",
        pb::ConfirmDeliveryRequest {
            context: ctx(ticket, &mut n),
            signed_by: "Bench".into()
        }
    )));
    let level = pb::SatisfactionLevel::VerySatisfied as i32;
    timed!(c.record_revisit(as_role(
        "customer_service",
        pb::RecordRevisitRequest {
            context: ctx(ticket, &mut n),
            satisfaction: Some(pb::Satisfaction {
                attitude: level,
                skill: level,
                arrival_time: level,
                promises_kept: level,
            }),
            comment: String::new(),
            resolved: true,
        }
    )));
    timed!(c.close_ticket(as_role(
        "customer_service",
        pb::CloseTicketRequest {
            context: ctx(ticket, &mut n)
        }
    )));
    Ok(())
}

/// Runs `clients` concurrent clients for `tickets_per_client` lifecycles each.
pub async fn run(
    target: &str,
    run_id: &str,
    clients: usize,
    tickets_per_client: usize,
    with_queries: bool,
    bar: &ProgressBar,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let channel = Channel::from_shared(target.to_owned())?.connect().await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let channel = channel.clone();
        let bar = bar.clone();
        let run_id = run_id.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut commands = TicketCommandsClient::new(channel.clone());
            let mut queries = TicketQueriesClient::new(channel);
            let mut out = Measured::default();
            for t in 0..tickets_per_client {
                let ticket = format!("{run_id}-{client}-{t}");
                if lifecycle(&mut commands, &ticket, &mut out).await.is_err() {
                    out.errors += 1;
                }
                let asks: &[bool] = if with_queries { &[false, true] } else { &[] };
                for &list in asks {
                    let started = Instant::now();
                    let ok = if list {
                        let request = pb::ListTicketsRequest {
                            serial_number: format!("SN-{ticket}"),
                            page_size: 10,
                            ..Default::default()
                        };
                        queries
                            .list_tickets(as_role("service_manager", request))
                            .await
                            .is_ok()
                    } else {
                        let request = pb::GetTicketRequest {
                            ticket_id: ticket.clone(),
                        };
                        queries
                            .get_ticket(as_role("service_manager", request))
                            .await
                            .is_ok()
                    };
                    out.query_us.push(started.elapsed().as_micros() as u64);
                    out.queries += 1;
                    if !ok {
                        out.errors += 1;
                    }
                }
                bar.inc(EVENTS_PER_TICKET);
            }
            out
        }));
    }
    let mut total = Measured::default();
    for task in tasks {
        total.merge(task.await?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}
