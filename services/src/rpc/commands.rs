//! The `TicketCommands` service: parse, execute on the bus, reply.

use std::sync::Arc;

use domain::ticket::command::*;
use domain::values::{Problem, ValueError};
use domain::{Recording, TicketCommand, When};
use tonic::{Request, Response, Status};

use super::parse as p;
use super::pb;
use super::pb::ticket_commands_server::TicketCommands;
use super::status::{from_command_error, invalid};
use crate::bus::{CommandBus, CommandRequest};

type Reply = Result<Response<pb::CommandReply>, Status>;

/// Every command request carries a `CommandContext` as field 1.
trait WithContext {
    fn context(&self) -> Option<&pb::CommandContext>;
}

macro_rules! with_context {
    ($($t:ident),+ $(,)?) => {
        $(impl WithContext for pb::$t {
            fn context(&self) -> Option<&pb::CommandContext> {
                self.context.as_ref()
            }
        })+
    };
}

with_context!(
    ReceiveTicketRequest,
    DetermineWarrantyRequest,
    DispatchTechnicianRequest,
    RecordArrivalRequest,
    DiagnoseFaultRequest,
    ResolveRemotelyRequest,
    QuoteRepairRequest,
    ApproveQuoteRequest,
    AcceptQuoteRequest,
    DeclineQuoteRequest,
    ApproveFeeWaiverRequest,
    SendToFactoryRequest,
    ReceiveFromFactoryRequest,
    ShipExchangeRequest,
    RecordRepairRequest,
    PassQcRequest,
    FailQcRequest,
    ShipItemRequest,
    ConfirmDeliveryRequest,
    IssueInvoiceRequest,
    RecordPaymentRequest,
    RecordRevisitRequest,
    CloseTicketRequest,
    ReopenTicketRequest,
    CancelTicketRequest,
    EscalateTicketRequest,
    ExtendRepairCycleRequest,
    RouteComplaintRequest,
    ReplyToComplaintRequest,
);

/// Request ids, correlation and causation ids: 1–128 visible characters.
pub(crate) fn request_id(field: &str, raw: &str) -> Result<String, ValueError> {
    let id = raw.trim();
    if id.is_empty() {
        return Err(Problem::Empty.at(field));
    }
    if id.len() > 128 {
        return Err(Problem::TooLong { max: 128 }.at(field));
    }
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            Problem::Malformed("must not contain spaces or control characters".into()).at(field),
        );
    }
    Ok(id.to_owned())
}

pub(crate) fn optional_id(field: &str, raw: &str) -> Result<Option<String>, ValueError> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        request_id(field, raw).map(Some)
    }
}

#[derive(Debug)]
pub struct CommandService {
    bus: Arc<CommandBus>,
}

impl CommandService {
    pub fn new(bus: Arc<CommandBus>) -> Self {
        Self { bus }
    }

    /// The one path every command RPC takes.
    async fn run<M: WithContext>(
        &self,
        request: Request<M>,
        new_ticket: bool,
        build: impl FnOnce(&M) -> Result<TicketCommand, ValueError>,
    ) -> Reply {
        let actor = p::caller(&request)?;
        let message = request.into_inner();
        let parsed = (|| {
            let context = message
                .context()
                .ok_or_else(|| Problem::Empty.at("context"))?;
            let ticket_id = if new_ticket && context.ticket_id.trim().is_empty() {
                uuid::Uuid::new_v4().to_string()
            } else {
                p::ticket_id("context.ticket_id", &context.ticket_id)?
            };
            Ok::<_, ValueError>(CommandRequest {
                ticket_id,
                request_id: request_id("context.request_id", &context.request_id)?,
                expected_version: context.expected_version,
                actor,
                command: build(&message)?,
                when: When {
                    occurred_at: p::occurred_at(context.occurred_at.as_ref())?,
                    recording: Recording::Live,
                },
                correlation_id: optional_id("context.correlation_id", &context.correlation_id)?,
                causation_id: optional_id("context.causation_id", &context.causation_id)?,
            })
        })();
        let command = parsed.map_err(|e| invalid(&e))?;
        let applied = self
            .bus
            .execute(command)
            .await
            .map_err(from_command_error)?;
        Ok(Response::new(pb::CommandReply {
            ticket_id: applied.ticket_id,
            version: applied.version,
            event_type: applied.event_type,
            duplicate: applied.duplicate,
        }))
    }
}

#[tonic::async_trait]
impl TicketCommands for CommandService {
    async fn receive_ticket(&self, request: Request<pb::ReceiveTicketRequest>) -> Reply {
        self.run(request, true, |m| {
            Ok(TicketCommand::ReceiveTicket(ReceiveTicket {
                channel: p::channel("channel", m.channel)?,
                kind: p::ticket_kind("kind", m.kind)?,
                customer: p::customer("customer", m.customer.as_ref())?,
                product: p::product("product", m.product.as_ref())?,
                description: p::text("description", &m.description)?,
                priority: p::priority("priority", m.priority)?,
                service_mode: p::service_mode("service_mode", m.service_mode)?,
            }))
        })
        .await
    }

    async fn determine_warranty(&self, request: Request<pb::DetermineWarrantyRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::DetermineWarranty(DetermineWarranty {
                service_contract: m.service_contract,
            }))
        })
        .await
    }

    async fn dispatch_technician(&self, request: Request<pb::DispatchTechnicianRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::DispatchTechnician(DispatchTechnician {
                technician: p::actor_id("technician_id", &m.technician_id)?,
                planned_arrival: p::timestamp("planned_arrival", m.planned_arrival.as_ref())?,
            }))
        })
        .await
    }

    async fn record_arrival(&self, request: Request<pb::RecordArrivalRequest>) -> Reply {
        self.run(request, false, |_| Ok(TicketCommand::RecordArrival))
            .await
    }

    async fn diagnose_fault(&self, request: Request<pb::DiagnoseFaultRequest>) -> Reply {
        self.run(request, false, |m| {
            p::bounded_list("failed_parts", &m.failed_parts)?;
            Ok(TicketCommand::DiagnoseFault(DiagnoseFault {
                symptom: p::text("symptom", &m.symptom)?,
                failure_mode: p::label("failure_mode", &m.failure_mode)?,
                failed_parts: m
                    .failed_parts
                    .iter()
                    .enumerate()
                    .map(|(i, part)| p::part_number(&format!("failed_parts[{i}]"), part))
                    .collect::<Result<_, _>>()?,
                root_cause: p::root_cause("root_cause", m.root_cause)?,
                customer_caused: m.customer_caused,
                responsible_department: p::department(
                    "responsible_department",
                    m.responsible_department,
                )?,
                path: p::repair_path("path", m.path)?,
            }))
        })
        .await
    }

    async fn resolve_remotely(&self, request: Request<pb::ResolveRemotelyRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::ResolveRemotely {
                resolution: p::text("resolution", &m.resolution)?,
            })
        })
        .await
    }

    async fn quote_repair(&self, request: Request<pb::QuoteRepairRequest>) -> Reply {
        self.run(request, false, |m| {
            p::bounded_list("lines", &m.lines)?;
            Ok(TicketCommand::QuoteRepair(QuoteRepair {
                lines: m
                    .lines
                    .iter()
                    .enumerate()
                    .map(|(i, line)| p::quote_line(&format!("lines[{i}]"), line))
                    .collect::<Result<_, _>>()?,
                valid_until: p::date("valid_until", &m.valid_until)?,
            }))
        })
        .await
    }

    async fn approve_quote(&self, request: Request<pb::ApproveQuoteRequest>) -> Reply {
        self.run(request, false, |_| Ok(TicketCommand::ApproveQuote))
            .await
    }

    async fn accept_quote(&self, request: Request<pb::AcceptQuoteRequest>) -> Reply {
        self.run(request, false, |_| Ok(TicketCommand::AcceptQuote))
            .await
    }

    async fn decline_quote(&self, request: Request<pb::DeclineQuoteRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::DeclineQuote {
                reason: p::text("reason", &m.reason)?,
            })
        })
        .await
    }

    async fn approve_fee_waiver(&self, request: Request<pb::ApproveFeeWaiverRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::ApproveFeeWaiver(ApproveFeeWaiver {
                amount: p::money("amount", m.amount.as_ref())?,
                reason: p::text("reason", &m.reason)?,
            }))
        })
        .await
    }

    async fn send_to_factory(&self, request: Request<pb::SendToFactoryRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::SendToFactory(SendToFactory {
                factory: p::label("factory", &m.factory)?,
                request: p::factory_request("request", m.request)?,
            }))
        })
        .await
    }

    async fn receive_from_factory(&self, request: Request<pb::ReceiveFromFactoryRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::ReceiveFromFactory(ReceiveFromFactory {
                outcome: p::factory_outcome("outcome", m.outcome)?,
                note: p::optional_text("note", &m.note)?,
            }))
        })
        .await
    }

    async fn ship_exchange(&self, request: Request<pb::ShipExchangeRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::ShipExchange(ShipExchange {
                replacement_serial: p::serial(
                    "replacement_serial_number",
                    &m.replacement_serial_number,
                )?,
                carrier: p::label("carrier", &m.carrier)?,
                tracking_number: p::label("tracking_number", &m.tracking_number)?,
            }))
        })
        .await
    }

    async fn record_repair(&self, request: Request<pb::RecordRepairRequest>) -> Reply {
        self.run(request, false, |m| {
            p::bounded_list("parts", &m.parts)?;
            Ok(TicketCommand::RecordRepair(RecordRepair {
                labour: p::minutes("labour_minutes", m.labour_minutes)?,
                parts: m
                    .parts
                    .iter()
                    .enumerate()
                    .map(|(i, part)| p::part_used(&format!("parts[{i}]"), part))
                    .collect::<Result<_, _>>()?,
                notes: p::optional_text("notes", &m.notes)?,
            }))
        })
        .await
    }

    async fn pass_qc(&self, request: Request<pb::PassQcRequest>) -> Reply {
        self.run(request, false, |_| Ok(TicketCommand::PassQc))
            .await
    }

    async fn fail_qc(&self, request: Request<pb::FailQcRequest>) -> Reply {
        self.run(request, false, |m| {
            p::bounded_list("defects", &m.defects)?;
            Ok(TicketCommand::FailQc {
                defects: m
                    .defects
                    .iter()
                    .enumerate()
                    .map(|(i, d)| p::label(&format!("defects[{i}]"), d))
                    .collect::<Result<_, _>>()?,
            })
        })
        .await
    }

    async fn ship_item(&self, request: Request<pb::ShipItemRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::ShipItem(ShipItem {
                carrier: p::label("carrier", &m.carrier)?,
                tracking_number: p::label("tracking_number", &m.tracking_number)?,
                address: p::label("address", &m.address)?,
            }))
        })
        .await
    }

    async fn confirm_delivery(&self, request: Request<pb::ConfirmDeliveryRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::ConfirmDelivery {
                signed_by: p::label("signed_by", &m.signed_by)?,
            })
        })
        .await
    }

    async fn issue_invoice(&self, request: Request<pb::IssueInvoiceRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::IssueInvoice(IssueInvoice {
                invoice_number: p::label("invoice_number", &m.invoice_number)?,
                amount: p::money("amount", m.amount.as_ref())?,
            }))
        })
        .await
    }

    async fn record_payment(&self, request: Request<pb::RecordPaymentRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::RecordPayment(RecordPayment {
                amount: p::money("amount", m.amount.as_ref())?,
                reference: p::label("reference", &m.reference)?,
            }))
        })
        .await
    }

    async fn record_revisit(&self, request: Request<pb::RecordRevisitRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::RecordRevisit(RecordRevisit {
                satisfaction: p::satisfaction("satisfaction", m.satisfaction.as_ref())?,
                comment: p::optional_text("comment", &m.comment)?,
                resolved: m.resolved,
            }))
        })
        .await
    }

    async fn close_ticket(&self, request: Request<pb::CloseTicketRequest>) -> Reply {
        self.run(request, false, |_| Ok(TicketCommand::CloseTicket))
            .await
    }

    async fn reopen_ticket(&self, request: Request<pb::ReopenTicketRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::ReopenTicket(ReopenTicket {
                reason: p::text("reason", &m.reason)?,
                same_fault: m.same_fault,
            }))
        })
        .await
    }

    async fn cancel_ticket(&self, request: Request<pb::CancelTicketRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::CancelTicket {
                reason: p::text("reason", &m.reason)?,
            })
        })
        .await
    }

    async fn escalate_ticket(&self, request: Request<pb::EscalateTicketRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::EscalateTicket {
                reason: p::text("reason", &m.reason)?,
            })
        })
        .await
    }

    async fn extend_repair_cycle(&self, request: Request<pb::ExtendRepairCycleRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::ExtendRepairCycle(ExtendRepairCycle {
                new_due_on: p::date("new_due_on", &m.new_due_on)?,
                reason: p::text("reason", &m.reason)?,
                customer_notified: m.customer_notified,
            }))
        })
        .await
    }

    async fn route_complaint(&self, request: Request<pb::RouteComplaintRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::RouteComplaint {
                category: p::complaint_category("category", m.category)?,
            })
        })
        .await
    }

    async fn reply_to_complaint(&self, request: Request<pb::ReplyToComplaintRequest>) -> Reply {
        self.run(request, false, |m| {
            Ok(TicketCommand::ReplyToComplaint {
                reply: p::text("reply", &m.reply)?,
            })
        })
        .await
    }
}
