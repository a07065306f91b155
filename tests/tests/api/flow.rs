//! Drives one ticket through its lifecycle over gRPC, one call per step,
//! each as the role that may issue it.

use ticketd::rpc::pb;
use ticketd::rpc::pb::ticket_commands_client::TicketCommandsClient;
use tonic::transport::Channel;
use tonic::Status;

use crate::helpers::{as_role, cny, context, day_from_today, receive_request, TestServer};

/// The events of an in-warranty workshop repair that is escalated on the
/// way, ten commands from receipt to closing.
pub const IN_WARRANTY_LIFECYCLE: [&str; 10] = [
    "TicketReceived",
    "WarrantyDetermined",
    "FaultDiagnosed",
    "TicketEscalated",
    "RepairRecorded",
    "QcPassed",
    "ItemShipped",
    "ItemDelivered",
    "CustomerRevisited",
    "TicketClosed",
];

/// Drives ticket `id` (bought 60 days ago: in warranty) through
/// [`IN_WARRANTY_LIFECYCLE`] on `client`, asserting every step.
pub async fn in_warranty_lifecycle(client: TicketCommandsClient<Channel>, id: &str) -> Flow {
    try_in_warranty_lifecycle(client, id)
        .await
        .unwrap_or_else(|s| panic!("lifecycle of {id} refused: {s:?}"))
}

/// As [`in_warranty_lifecycle`], but a refused step (e.g. the server went
/// away) ends the lifecycle with that status. Steps that are applied are
/// still asserted.
pub async fn try_in_warranty_lifecycle(
    mut client: TicketCommandsClient<Channel>,
    id: &str,
) -> Result<Flow, Status> {
    let r = client
        .receive_ticket(as_role("customer_service", receive_request(id, Some(60))))
        .await?
        .into_inner();
    assert_eq!((r.version, r.event_type.as_str()), (1, "TicketReceived"));
    let mut t = Flow::at(client, &r.ticket_id, 1);
    for event_type in &IN_WARRANTY_LIFECYCLE[1..] {
        let r = step(&mut t, event_type).await?;
        t.ok(Ok(r), event_type);
    }
    Ok(t)
}

/// Issues the command of [`IN_WARRANTY_LIFECYCLE`] that records
/// `event_type` (after the receipt), as the role that may issue it.
pub async fn step(t: &mut Flow, event_type: &str) -> Reply {
    match event_type {
        "WarrantyDetermined" => t.determine_warranty().await,
        "FaultDiagnosed" => t.workshop_diagnosis().await,
        "TicketEscalated" => t.escalate().await,
        "RepairRecorded" => t.repair().await,
        "QcPassed" => t.pass_qc().await,
        "ItemShipped" => t.ship().await,
        "ItemDelivered" => t.deliver().await,
        "CustomerRevisited" => t.revisit(true).await,
        "TicketClosed" => t.close().await,
        other => panic!("no step for {other}"),
    }
}

pub type Reply = Result<pb::CommandReply, Status>;

pub struct Flow {
    pub client: TicketCommandsClient<Channel>,
    pub id: String,
    pub version: u64,
    /// Sent as each command's `expected_version` when set.
    pub expected_version: Option<u64>,
}

fn reply(r: Result<tonic::Response<pb::CommandReply>, Status>) -> Reply {
    r.map(tonic::Response::into_inner)
}

impl Flow {
    /// Receives a repair ticket; `purchase_days_ago` None means no receipt.
    pub async fn receive(server: &TestServer, id: &str, purchase_days_ago: Option<i64>) -> Self {
        Self::receive_with(server, receive_request(id, purchase_days_ago)).await
    }

    pub async fn receive_with(server: &TestServer, request: pb::ReceiveTicketRequest) -> Self {
        let mut client = server.commands().await;
        let r = reply(
            client
                .receive_ticket(as_role("customer_service", request))
                .await,
        )
        .expect("ticket received");
        assert_eq!(r.version, 1);
        assert_eq!(r.event_type, "TicketReceived");
        Self::at(client, &r.ticket_id, 1)
    }

    /// Asserts the step was applied as the next version.
    pub fn ok(&mut self, r: Reply, event_type: &str) {
        let r = r.unwrap_or_else(|s| panic!("{event_type} refused: {s:?}"));
        self.version += 1;
        assert_eq!(r.version, self.version, "{event_type}");
        assert_eq!(r.event_type, event_type);
        assert!(!r.duplicate);
    }

    /// A flow for ticket `id`, known to be at `version`.
    pub fn at(client: TicketCommandsClient<Channel>, id: &str, version: u64) -> Self {
        Self {
            client,
            id: id.to_owned(),
            version,
            expected_version: None,
        }
    }

    pub(crate) fn ctx(&self) -> Option<pb::CommandContext> {
        let mut ctx = context(&self.id);
        if let Some(c) = ctx.as_mut() {
            c.expected_version = self.expected_version;
        }
        ctx
    }

    pub async fn determine_warranty(&mut self) -> Reply {
        let m = pb::DetermineWarrantyRequest {
            context: self.ctx(),
            service_contract: false,
        };
        reply(
            self.client
                .determine_warranty(as_role("customer_service", m))
                .await,
        )
    }

    pub async fn dispatch(&mut self) -> Reply {
        let m = pb::DispatchTechnicianRequest {
            context: self.ctx(),
            technician_id: "technician-1".into(),
            planned_arrival: Some(prost_types::Timestamp {
                seconds: chrono::Utc::now().timestamp() + 3_600,
                nanos: 0,
            }),
        };
        reply(
            self.client
                .dispatch_technician(as_role("service_manager", m))
                .await,
        )
    }

    /// The dispatched technician (`technician-1`) takes the job.
    pub async fn accept_dispatch(&mut self) -> Reply {
        let m = pb::AcceptDispatchRequest {
            context: self.ctx(),
        };
        reply(self.client.accept_dispatch(as_role("technician", m)).await)
    }

    pub async fn arrive(&mut self) -> Reply {
        let m = pb::RecordArrivalRequest {
            context: self.ctx(),
        };
        reply(self.client.record_arrival(as_role("technician", m)).await)
    }

    pub async fn diagnose(&mut self, root_cause: pb::RootCause, path: pb::RepairPath) -> Reply {
        let m = pb::DiagnoseFaultRequest {
            context: self.ctx(),
            symptom: "drum does not turn".into(),
            failure_mode: "MOTOR-OPEN".into(),
            failed_parts: vec!["MTR-100".into()],
            root_cause: root_cause as i32,
            customer_caused: root_cause == pb::RootCause::Misuse,
            responsible_department: pb::Department::Production as i32,
            path: path as i32,
            major: false,
        };
        reply(self.client.diagnose_fault(as_role("technician", m)).await)
    }

    pub async fn workshop_diagnosis(&mut self) -> Reply {
        self.diagnose(pb::RootCause::Manufacturing, pb::RepairPath::WorkshopRepair)
            .await
    }

    pub async fn resolve_remotely(&mut self) -> Reply {
        let m = pb::ResolveRemotelyRequest {
            context: self.ctx(),
            resolution: "reset the controller".into(),
        };
        reply(self.client.resolve_remotely(as_role("technician", m)).await)
    }

    pub async fn quote(&mut self, fen: i64) -> Reply {
        let m = pb::QuoteRepairRequest {
            context: self.ctx(),
            lines: vec![
                pb::QuoteLine {
                    line: Some(pb::quote_line::Line::Parts(pb::PartsLine {
                        part_number: "MTR-100".into(),
                        quantity: 1,
                        unit_price: cny(fen - 12_000),
                    })),
                },
                pb::QuoteLine {
                    line: Some(pb::quote_line::Line::Labour(pb::LabourLine {
                        minutes: 90,
                        hourly_rate: cny(8_000),
                    })),
                },
            ],
            valid_until: day_from_today(30),
        };
        reply(self.client.quote_repair(as_role("technician", m)).await)
    }

    pub async fn approve_quote(&mut self, role: &str) -> Reply {
        let m = pb::ApproveQuoteRequest {
            context: self.ctx(),
        };
        reply(self.client.approve_quote(as_role(role, m)).await)
    }

    pub async fn waive(&mut self, fen: i64, role: &str) -> Reply {
        let m = pb::ApproveFeeWaiverRequest {
            context: self.ctx(),
            amount: cny(fen),
            reason: "goodwill".into(),
        };
        reply(self.client.approve_fee_waiver(as_role(role, m)).await)
    }

    pub async fn accept(&mut self) -> Reply {
        let m = pb::AcceptQuoteRequest {
            context: self.ctx(),
        };
        reply(
            self.client
                .accept_quote(as_role("customer_service", m))
                .await,
        )
    }

    pub async fn decline(&mut self) -> Reply {
        let m = pb::DeclineQuoteRequest {
            context: self.ctx(),
            reason: "too expensive".into(),
        };
        reply(
            self.client
                .decline_quote(as_role("customer_service", m))
                .await,
        )
    }

    pub async fn send_to_factory(&mut self) -> Reply {
        let m = pb::SendToFactoryRequest {
            context: self.ctx(),
            factory: "Ningbo plant".into(),
            request: pb::FactoryRequest::Repair as i32,
        };
        reply(self.client.send_to_factory(as_role("technician", m)).await)
    }

    pub async fn receive_from_factory(&mut self, outcome: pb::FactoryOutcome) -> Reply {
        let m = pb::ReceiveFromFactoryRequest {
            context: self.ctx(),
            outcome: outcome as i32,
            note: String::new(),
        };
        reply(
            self.client
                .receive_from_factory(as_role("technician", m))
                .await,
        )
    }

    pub async fn ship_exchange(&mut self) -> Reply {
        let m = pb::ShipExchangeRequest {
            context: self.ctx(),
            replacement_serial_number: "SN-NEW-1".into(),
            carrier: "SF Express".into(),
            tracking_number: "SF1".into(),
        };
        reply(self.client.ship_exchange(as_role("technician", m)).await)
    }

    pub async fn repair(&mut self) -> Reply {
        let m = pb::RecordRepairRequest {
            context: self.ctx(),
            labour_minutes: 90,
            parts: vec![pb::PartUsed {
                part_number: "MTR-100".into(),
                quantity: 1,
                unit_cost: cny(35_000),
                old_part: pb::OldPartDisposition::Scrapped as i32,
            }],
            notes: String::new(),
        };
        reply(self.client.record_repair(as_role("technician", m)).await)
    }

    pub async fn pass_qc(&mut self) -> Reply {
        let m = pb::PassQcRequest {
            context: self.ctx(),
        };
        reply(self.client.pass_qc(as_role("qc_inspector", m)).await)
    }

    pub async fn fail_qc(&mut self) -> Reply {
        let m = pb::FailQcRequest {
            context: self.ctx(),
            defects: vec!["noise at spin".into()],
        };
        reply(self.client.fail_qc(as_role("qc_inspector", m)).await)
    }

    pub async fn ship(&mut self) -> Reply {
        let m = pb::ShipItemRequest {
            context: self.ctx(),
            carrier: "SF Express".into(),
            tracking_number: "SF123".into(),
            address: "1 Renmin Rd, Hangzhou".into(),
        };
        reply(self.client.ship_item(as_role("technician", m)).await)
    }

    pub async fn deliver(&mut self) -> Reply {
        let m = pb::ConfirmDeliveryRequest {
            context: self.ctx(),
            signed_by: "Li Lei".into(),
        };
        reply(self.client.confirm_delivery(as_role("technician", m)).await)
    }

    pub async fn invoice(&mut self, fen: i64) -> Reply {
        let m = pb::IssueInvoiceRequest {
            context: self.ctx(),
            invoice_number: "INV-1".into(),
            amount: cny(fen),
        };
        reply(self.client.issue_invoice(as_role("finance", m)).await)
    }

    pub async fn pay(&mut self, fen: i64) -> Reply {
        let m = pb::RecordPaymentRequest {
            context: self.ctx(),
            amount: cny(fen),
            reference: "PAY-1".into(),
        };
        reply(self.client.record_payment(as_role("finance", m)).await)
    }

    pub async fn revisit(&mut self, resolved: bool) -> Reply {
        let level = pb::SatisfactionLevel::VerySatisfied as i32;
        let m = pb::RecordRevisitRequest {
            context: self.ctx(),
            satisfaction: Some(pb::Satisfaction {
                attitude: level,
                skill: level,
                arrival_time: level,
                promises_kept: level,
            }),
            comment: String::new(),
            resolved,
        };
        reply(
            self.client
                .record_revisit(as_role("customer_service", m))
                .await,
        )
    }

    pub async fn close(&mut self) -> Reply {
        let m = pb::CloseTicketRequest {
            context: self.ctx(),
        };
        reply(
            self.client
                .close_ticket(as_role("customer_service", m))
                .await,
        )
    }

    pub async fn reopen(&mut self) -> Reply {
        let m = pb::ReopenTicketRequest {
            context: self.ctx(),
            reason: "same noise again".into(),
            same_fault: true,
        };
        reply(
            self.client
                .reopen_ticket(as_role("customer_service", m))
                .await,
        )
    }

    pub async fn cancel(&mut self) -> Reply {
        let m = pb::CancelTicketRequest {
            context: self.ctx(),
            reason: "customer withdrew".into(),
        };
        reply(
            self.client
                .cancel_ticket(as_role("customer_service", m))
                .await,
        )
    }

    pub async fn escalate(&mut self) -> Reply {
        let m = pb::EscalateTicketRequest {
            context: self.ctx(),
            reason: "major fault".into(),
        };
        reply(
            self.client
                .escalate_ticket(as_role("service_manager", m))
                .await,
        )
    }

    pub async fn extend_cycle(&mut self, days: i64) -> Reply {
        let m = pb::ExtendRepairCycleRequest {
            context: self.ctx(),
            new_due_on: day_from_today(days),
            reason: "part on back order".into(),
            customer_notified: true,
        };
        reply(
            self.client
                .extend_repair_cycle(as_role("service_manager", m))
                .await,
        )
    }

    pub async fn route_complaint(&mut self, category: pb::ComplaintCategory) -> Reply {
        let m = pb::RouteComplaintRequest {
            context: self.ctx(),
            category: category as i32,
        };
        reply(
            self.client
                .route_complaint(as_role("customer_service", m))
                .await,
        )
    }

    pub async fn reply_to_complaint(&mut self) -> Reply {
        let m = pb::ReplyToComplaintRequest {
            context: self.ctx(),
            reply: "we apologise and will visit".into(),
        };
        reply(
            self.client
                .reply_to_complaint(as_role("customer_service", m))
                .await,
        )
    }
}
