//! The `TicketCommands` service: parse, execute on the bus, reply.

use std::sync::Arc;

use domain::values::{Problem, ValueError};
use domain::{Recording, TicketCommand, When};
use tonic::{Request, Response, Status};

use super::build;
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
    ApproveRefundRequest,
    RecordItemReturnedRequest,
    PayRefundRequest,
    AcceptDispatchRequest,
    DeclineDispatchRequest,
    TakeInItemRequest,
    HandBackItemRequest,
    ContactCustomerRequest,
    RecordBackFromTripRequest,
    FileTripReportRequest,
    AnswerInquiryRequest,
    ScheduleInstallationRequest,
    RecordInstallationRequest,
    AcceptInstallationRequest,
    RecordMaintenanceVisitRequest,
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

    /// A ticket another refers to must exist (the domain, being pure,
    /// cannot look).
    async fn must_exist(&self, field: &str, raw: &str) -> Result<(), Status> {
        let id = p::ticket_id(field, raw).map_err(|e| invalid(&e))?;
        let (_, version) = self.bus.load(&id).await.map_err(from_command_error)?;
        if version == 0 {
            let problem = Problem::Malformed(format!("no ticket {id} to refer to"));
            return Err(invalid(&problem.at(field)));
        }
        Ok(())
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
                imported_by: None,
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
        if !request.get_ref().refers_to.trim().is_empty() {
            p::caller(&request)?;
            self.must_exist("refers_to", &request.get_ref().refers_to)
                .await?;
        }
        self.run(request, true, build::receive_ticket).await
    }

    async fn determine_warranty(&self, request: Request<pb::DetermineWarrantyRequest>) -> Reply {
        self.run(request, false, build::determine_warranty).await
    }

    async fn dispatch_technician(&self, request: Request<pb::DispatchTechnicianRequest>) -> Reply {
        self.run(request, false, build::dispatch_technician).await
    }

    async fn record_arrival(&self, request: Request<pb::RecordArrivalRequest>) -> Reply {
        self.run(request, false, build::record_arrival).await
    }

    async fn diagnose_fault(&self, request: Request<pb::DiagnoseFaultRequest>) -> Reply {
        self.run(request, false, build::diagnose_fault).await
    }

    async fn resolve_remotely(&self, request: Request<pb::ResolveRemotelyRequest>) -> Reply {
        self.run(request, false, build::resolve_remotely).await
    }

    async fn quote_repair(&self, request: Request<pb::QuoteRepairRequest>) -> Reply {
        self.run(request, false, build::quote_repair).await
    }

    async fn approve_quote(&self, request: Request<pb::ApproveQuoteRequest>) -> Reply {
        self.run(request, false, build::approve_quote).await
    }

    async fn accept_quote(&self, request: Request<pb::AcceptQuoteRequest>) -> Reply {
        self.run(request, false, build::accept_quote).await
    }

    async fn decline_quote(&self, request: Request<pb::DeclineQuoteRequest>) -> Reply {
        self.run(request, false, build::decline_quote).await
    }

    async fn approve_fee_waiver(&self, request: Request<pb::ApproveFeeWaiverRequest>) -> Reply {
        self.run(request, false, build::approve_fee_waiver).await
    }

    async fn send_to_factory(&self, request: Request<pb::SendToFactoryRequest>) -> Reply {
        self.run(request, false, build::send_to_factory).await
    }

    async fn receive_from_factory(&self, request: Request<pb::ReceiveFromFactoryRequest>) -> Reply {
        self.run(request, false, build::receive_from_factory).await
    }

    async fn ship_exchange(&self, request: Request<pb::ShipExchangeRequest>) -> Reply {
        self.run(request, false, build::ship_exchange).await
    }

    async fn record_repair(&self, request: Request<pb::RecordRepairRequest>) -> Reply {
        self.run(request, false, build::record_repair).await
    }

    async fn pass_qc(&self, request: Request<pb::PassQcRequest>) -> Reply {
        self.run(request, false, build::pass_qc).await
    }

    async fn fail_qc(&self, request: Request<pb::FailQcRequest>) -> Reply {
        self.run(request, false, build::fail_qc).await
    }

    async fn ship_item(&self, request: Request<pb::ShipItemRequest>) -> Reply {
        self.run(request, false, build::ship_item).await
    }

    async fn confirm_delivery(&self, request: Request<pb::ConfirmDeliveryRequest>) -> Reply {
        self.run(request, false, build::confirm_delivery).await
    }

    async fn issue_invoice(&self, request: Request<pb::IssueInvoiceRequest>) -> Reply {
        self.run(request, false, build::issue_invoice).await
    }

    async fn record_payment(&self, request: Request<pb::RecordPaymentRequest>) -> Reply {
        self.run(request, false, build::record_payment).await
    }

    async fn record_revisit(&self, request: Request<pb::RecordRevisitRequest>) -> Reply {
        self.run(request, false, build::record_revisit).await
    }

    async fn close_ticket(&self, request: Request<pb::CloseTicketRequest>) -> Reply {
        self.run(request, false, build::close_ticket).await
    }

    async fn reopen_ticket(&self, request: Request<pb::ReopenTicketRequest>) -> Reply {
        self.run(request, false, build::reopen_ticket).await
    }

    async fn cancel_ticket(&self, request: Request<pb::CancelTicketRequest>) -> Reply {
        self.run(request, false, build::cancel_ticket).await
    }

    async fn escalate_ticket(&self, request: Request<pb::EscalateTicketRequest>) -> Reply {
        self.run(request, false, build::escalate_ticket).await
    }

    async fn extend_repair_cycle(&self, request: Request<pb::ExtendRepairCycleRequest>) -> Reply {
        self.run(request, false, build::extend_repair_cycle).await
    }

    async fn route_complaint(&self, request: Request<pb::RouteComplaintRequest>) -> Reply {
        self.run(request, false, build::route_complaint).await
    }

    async fn reply_to_complaint(&self, request: Request<pb::ReplyToComplaintRequest>) -> Reply {
        self.run(request, false, build::reply_to_complaint).await
    }

    async fn approve_refund(&self, request: Request<pb::ApproveRefundRequest>) -> Reply {
        self.run(request, false, build::approve_refund).await
    }

    async fn record_item_returned(&self, request: Request<pb::RecordItemReturnedRequest>) -> Reply {
        self.run(request, false, build::record_item_returned).await
    }

    async fn pay_refund(&self, request: Request<pb::PayRefundRequest>) -> Reply {
        self.run(request, false, build::pay_refund).await
    }

    async fn accept_dispatch(&self, request: Request<pb::AcceptDispatchRequest>) -> Reply {
        self.run(request, false, build::accept_dispatch).await
    }

    async fn decline_dispatch(&self, request: Request<pb::DeclineDispatchRequest>) -> Reply {
        self.run(request, false, build::decline_dispatch).await
    }

    async fn take_in_item(&self, request: Request<pb::TakeInItemRequest>) -> Reply {
        self.run(request, false, build::take_in_item).await
    }

    async fn hand_back_item(&self, request: Request<pb::HandBackItemRequest>) -> Reply {
        self.run(request, false, build::hand_back_item).await
    }

    async fn contact_customer(&self, request: Request<pb::ContactCustomerRequest>) -> Reply {
        self.run(request, false, build::contact_customer).await
    }

    async fn record_back_from_trip(
        &self,
        request: Request<pb::RecordBackFromTripRequest>,
    ) -> Reply {
        self.run(request, false, build::record_back_from_trip).await
    }

    async fn file_trip_report(&self, request: Request<pb::FileTripReportRequest>) -> Reply {
        self.run(request, false, build::file_trip_report).await
    }

    async fn answer_inquiry(&self, request: Request<pb::AnswerInquiryRequest>) -> Reply {
        self.run(request, false, build::answer_inquiry).await
    }

    async fn schedule_installation(
        &self,
        request: Request<pb::ScheduleInstallationRequest>,
    ) -> Reply {
        self.run(request, false, build::schedule_installation).await
    }

    async fn record_installation(&self, request: Request<pb::RecordInstallationRequest>) -> Reply {
        self.run(request, false, build::record_installation).await
    }

    async fn accept_installation(&self, request: Request<pb::AcceptInstallationRequest>) -> Reply {
        self.run(request, false, build::accept_installation).await
    }

    async fn record_maintenance_visit(
        &self,
        request: Request<pb::RecordMaintenanceVisitRequest>,
    ) -> Reply {
        self.run(request, false, build::record_maintenance_visit)
            .await
    }
}
