//! Each ticket command's fields, parsed from its request message into a
//! domain command (naming the field of every problem). Shared by the
//! `TicketCommands` RPCs and by history import, so an imported line passes
//! exactly the checks a live call does.

use domain::ticket::command::*;
use domain::values::ValueError;
use domain::TicketCommand;

use super::parse as p;
use super::pb;

type Built = Result<TicketCommand, ValueError>;

pub(crate) fn receive_ticket(m: &pb::ReceiveTicketRequest) -> Built {
    Ok(TicketCommand::ReceiveTicket(ReceiveTicket {
        channel: p::channel("channel", m.channel)?,
        kind: p::ticket_kind("kind", m.kind)?,
        customer: p::customer("customer", m.customer.as_ref())?,
        product: p::product("product", m.product.as_ref())?,
        description: p::text("description", &m.description)?,
        priority: p::priority("priority", m.priority)?,
        service_mode: p::service_mode("service_mode", m.service_mode)?,
        refers_to: p::optional_ticket_id("refers_to", &m.refers_to)?,
    }))
}

pub(crate) fn determine_warranty(m: &pb::DetermineWarrantyRequest) -> Built {
    Ok(TicketCommand::DetermineWarranty(DetermineWarranty {
        service_contract: m.service_contract,
    }))
}

pub(crate) fn dispatch_technician(m: &pb::DispatchTechnicianRequest) -> Built {
    Ok(TicketCommand::DispatchTechnician(DispatchTechnician {
        technician: p::actor_id("technician_id", &m.technician_id)?,
        planned_arrival: p::timestamp("planned_arrival", m.planned_arrival.as_ref())?,
    }))
}

pub(crate) fn record_arrival(_: &pb::RecordArrivalRequest) -> Built {
    Ok(TicketCommand::RecordArrival)
}

pub(crate) fn diagnose_fault(m: &pb::DiagnoseFaultRequest) -> Built {
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
        responsible_department: p::department("responsible_department", m.responsible_department)?,
        path: p::repair_path("path", m.path)?,
        major: m.major,
    }))
}

pub(crate) fn resolve_remotely(m: &pb::ResolveRemotelyRequest) -> Built {
    Ok(TicketCommand::ResolveRemotely {
        resolution: p::text("resolution", &m.resolution)?,
    })
}

pub(crate) fn quote_repair(m: &pb::QuoteRepairRequest) -> Built {
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
}

pub(crate) fn approve_quote(_: &pb::ApproveQuoteRequest) -> Built {
    Ok(TicketCommand::ApproveQuote)
}

pub(crate) fn accept_quote(_: &pb::AcceptQuoteRequest) -> Built {
    Ok(TicketCommand::AcceptQuote)
}

pub(crate) fn decline_quote(m: &pb::DeclineQuoteRequest) -> Built {
    Ok(TicketCommand::DeclineQuote {
        reason: p::text("reason", &m.reason)?,
    })
}

pub(crate) fn approve_fee_waiver(m: &pb::ApproveFeeWaiverRequest) -> Built {
    Ok(TicketCommand::ApproveFeeWaiver(ApproveFeeWaiver {
        amount: p::money("amount", m.amount.as_ref())?,
        reason: p::text("reason", &m.reason)?,
    }))
}

pub(crate) fn send_to_factory(m: &pb::SendToFactoryRequest) -> Built {
    Ok(TicketCommand::SendToFactory(SendToFactory {
        factory: p::label("factory", &m.factory)?,
        request: p::factory_request("request", m.request)?,
    }))
}

pub(crate) fn receive_from_factory(m: &pb::ReceiveFromFactoryRequest) -> Built {
    Ok(TicketCommand::ReceiveFromFactory(ReceiveFromFactory {
        outcome: p::factory_outcome("outcome", m.outcome)?,
        note: p::optional_text("note", &m.note)?,
    }))
}

pub(crate) fn ship_exchange(m: &pb::ShipExchangeRequest) -> Built {
    Ok(TicketCommand::ShipExchange(ShipExchange {
        replacement_serial: p::serial("replacement_serial_number", &m.replacement_serial_number)?,
        carrier: p::label("carrier", &m.carrier)?,
        tracking_number: p::label("tracking_number", &m.tracking_number)?,
    }))
}

pub(crate) fn record_repair(m: &pb::RecordRepairRequest) -> Built {
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
}

pub(crate) fn pass_qc(_: &pb::PassQcRequest) -> Built {
    Ok(TicketCommand::PassQc)
}

pub(crate) fn fail_qc(m: &pb::FailQcRequest) -> Built {
    p::bounded_list("defects", &m.defects)?;
    Ok(TicketCommand::FailQc {
        defects: m
            .defects
            .iter()
            .enumerate()
            .map(|(i, d)| p::label(&format!("defects[{i}]"), d))
            .collect::<Result<_, _>>()?,
    })
}

pub(crate) fn ship_item(m: &pb::ShipItemRequest) -> Built {
    Ok(TicketCommand::ShipItem(ShipItem {
        carrier: p::label("carrier", &m.carrier)?,
        tracking_number: p::label("tracking_number", &m.tracking_number)?,
        address: p::label("address", &m.address)?,
    }))
}

pub(crate) fn confirm_delivery(m: &pb::ConfirmDeliveryRequest) -> Built {
    Ok(TicketCommand::ConfirmDelivery {
        signed_by: p::label("signed_by", &m.signed_by)?,
    })
}

pub(crate) fn issue_invoice(m: &pb::IssueInvoiceRequest) -> Built {
    Ok(TicketCommand::IssueInvoice(IssueInvoice {
        invoice_number: p::label("invoice_number", &m.invoice_number)?,
        amount: p::money("amount", m.amount.as_ref())?,
    }))
}

pub(crate) fn record_payment(m: &pb::RecordPaymentRequest) -> Built {
    Ok(TicketCommand::RecordPayment(RecordPayment {
        amount: p::money("amount", m.amount.as_ref())?,
        reference: p::label("reference", &m.reference)?,
    }))
}

pub(crate) fn record_revisit(m: &pb::RecordRevisitRequest) -> Built {
    Ok(TicketCommand::RecordRevisit(RecordRevisit {
        satisfaction: p::satisfaction("satisfaction", m.satisfaction.as_ref())?,
        comment: p::optional_text("comment", &m.comment)?,
        resolved: m.resolved,
    }))
}

pub(crate) fn close_ticket(_: &pb::CloseTicketRequest) -> Built {
    Ok(TicketCommand::CloseTicket)
}

pub(crate) fn reopen_ticket(m: &pb::ReopenTicketRequest) -> Built {
    Ok(TicketCommand::ReopenTicket(ReopenTicket {
        reason: p::text("reason", &m.reason)?,
        same_fault: m.same_fault,
    }))
}

pub(crate) fn cancel_ticket(m: &pb::CancelTicketRequest) -> Built {
    Ok(TicketCommand::CancelTicket {
        reason: p::text("reason", &m.reason)?,
    })
}

pub(crate) fn escalate_ticket(m: &pb::EscalateTicketRequest) -> Built {
    Ok(TicketCommand::EscalateTicket {
        reason: p::text("reason", &m.reason)?,
    })
}

pub(crate) fn extend_repair_cycle(m: &pb::ExtendRepairCycleRequest) -> Built {
    Ok(TicketCommand::ExtendRepairCycle(ExtendRepairCycle {
        new_due_on: p::date("new_due_on", &m.new_due_on)?,
        reason: p::text("reason", &m.reason)?,
        customer_notified: m.customer_notified,
    }))
}

pub(crate) fn route_complaint(m: &pb::RouteComplaintRequest) -> Built {
    Ok(TicketCommand::RouteComplaint {
        category: p::complaint_category("category", m.category)?,
    })
}

pub(crate) fn reply_to_complaint(m: &pb::ReplyToComplaintRequest) -> Built {
    Ok(TicketCommand::ReplyToComplaint {
        reply: p::text("reply", &m.reply)?,
    })
}

pub(crate) fn approve_refund(m: &pb::ApproveRefundRequest) -> Built {
    Ok(TicketCommand::ApproveRefund(ApproveRefund {
        amount: p::money("amount", m.amount.as_ref())?,
        reason: p::text("reason", &m.reason)?,
    }))
}

pub(crate) fn record_item_returned(_: &pb::RecordItemReturnedRequest) -> Built {
    Ok(TicketCommand::RecordItemReturned)
}

pub(crate) fn pay_refund(m: &pb::PayRefundRequest) -> Built {
    Ok(TicketCommand::PayRefund {
        reference: p::label("reference", &m.reference)?,
    })
}

pub(crate) fn accept_dispatch(_: &pb::AcceptDispatchRequest) -> Built {
    Ok(TicketCommand::AcceptDispatch)
}

pub(crate) fn decline_dispatch(m: &pb::DeclineDispatchRequest) -> Built {
    Ok(TicketCommand::DeclineDispatch {
        reason: p::text("reason", &m.reason)?,
    })
}

pub(crate) fn take_in_item(m: &pb::TakeInItemRequest) -> Built {
    Ok(TicketCommand::TakeInItem(TakeInItem {
        receipt_number: p::label("receipt_number", &m.receipt_number)?,
        condition: p::text("condition", &m.condition)?,
        location: p::label("location", &m.location)?,
        bin: p::optional_label("bin", &m.bin)?,
    }))
}

pub(crate) fn hand_back_item(m: &pb::HandBackItemRequest) -> Built {
    Ok(TicketCommand::HandBackItem {
        receipt_number: p::label("receipt_number", &m.receipt_number)?,
    })
}

pub(crate) fn contact_customer(m: &pb::ContactCustomerRequest) -> Built {
    Ok(TicketCommand::ContactCustomer(ContactCustomer {
        commitment: p::text("commitment", &m.commitment)?,
        promised_on: p::date("promised_on", &m.promised_on)?,
    }))
}

pub(crate) fn record_back_from_trip(_: &pb::RecordBackFromTripRequest) -> Built {
    Ok(TicketCommand::RecordBackFromTrip)
}

pub(crate) fn file_trip_report(m: &pb::FileTripReportRequest) -> Built {
    Ok(TicketCommand::FileTripReport {
        report: p::text("report", &m.report)?,
    })
}

pub(crate) fn answer_inquiry(m: &pb::AnswerInquiryRequest) -> Built {
    Ok(TicketCommand::AnswerInquiry {
        answer: p::text("answer", &m.answer)?,
    })
}

pub(crate) fn schedule_installation(m: &pb::ScheduleInstallationRequest) -> Built {
    Ok(TicketCommand::ScheduleInstallation(ScheduleInstallation {
        technician: p::actor_id("technician_id", &m.technician_id)?,
        window_start: p::timestamp("window_start", m.window_start.as_ref())?,
        window_end: p::timestamp("window_end", m.window_end.as_ref())?,
    }))
}

pub(crate) fn record_installation(m: &pb::RecordInstallationRequest) -> Built {
    Ok(TicketCommand::RecordInstallation(RecordInstallation {
        installed_at: p::timestamp("installed_at", m.installed_at.as_ref())?,
        serial: p::serial("serial_number", &m.serial_number)?,
        notes: p::text("notes", &m.notes)?,
    }))
}

pub(crate) fn accept_installation(m: &pb::AcceptInstallationRequest) -> Built {
    Ok(TicketCommand::AcceptInstallation(AcceptInstallation {
        signed_by: p::label("signed_by", &m.signed_by)?,
        comment: p::optional_text("comment", &m.comment)?,
    }))
}

pub(crate) fn record_maintenance_visit(m: &pb::RecordMaintenanceVisitRequest) -> Built {
    p::bounded_list("parts_checked", &m.parts_checked)?;
    Ok(TicketCommand::RecordMaintenanceVisit(
        RecordMaintenanceVisit {
            visited_at: p::timestamp("visited_at", m.visited_at.as_ref())?,
            findings: p::text("findings", &m.findings)?,
            parts_checked: m
                .parts_checked
                .iter()
                .enumerate()
                .map(|(i, part)| p::part_number(&format!("parts_checked[{i}]"), part))
                .collect::<Result<_, _>>()?,
            next_due_on: p::optional_date("next_due_on", &m.next_due_on)?,
        },
    ))
}

/// Generates [`from_import`] from the list of commands an import line may
/// carry: the `match` is over the proto's `oneof`, so a command added there
/// and not here does not compile.
macro_rules! import_dispatch {
    ($($name:ident: $variant:ident),+ $(,)?) => {
        /// An import line's command: its context, and the domain command
        /// parsed exactly as its RPC parses it.
        pub(crate) fn from_import(
            command: &pb::import_line::Command,
        ) -> (Option<&pb::CommandContext>, Built) {
            use pb::import_line::Command as C;
            match command {
                $(C::$variant(m) => (m.context.as_ref(), $name(m)),)+
            }
        }
    };
}

import_dispatch!(
    receive_ticket: ReceiveTicket,
    determine_warranty: DetermineWarranty,
    dispatch_technician: DispatchTechnician,
    record_arrival: RecordArrival,
    diagnose_fault: DiagnoseFault,
    resolve_remotely: ResolveRemotely,
    quote_repair: QuoteRepair,
    approve_quote: ApproveQuote,
    accept_quote: AcceptQuote,
    decline_quote: DeclineQuote,
    approve_fee_waiver: ApproveFeeWaiver,
    send_to_factory: SendToFactory,
    receive_from_factory: ReceiveFromFactory,
    ship_exchange: ShipExchange,
    record_repair: RecordRepair,
    pass_qc: PassQc,
    fail_qc: FailQc,
    ship_item: ShipItem,
    confirm_delivery: ConfirmDelivery,
    issue_invoice: IssueInvoice,
    record_payment: RecordPayment,
    record_revisit: RecordRevisit,
    close_ticket: CloseTicket,
    reopen_ticket: ReopenTicket,
    cancel_ticket: CancelTicket,
    escalate_ticket: EscalateTicket,
    extend_repair_cycle: ExtendRepairCycle,
    route_complaint: RouteComplaint,
    reply_to_complaint: ReplyToComplaint,
    approve_refund: ApproveRefund,
    record_item_returned: RecordItemReturned,
    pay_refund: PayRefund,
    accept_dispatch: AcceptDispatch,
    decline_dispatch: DeclineDispatch,
    take_in_item: TakeInItem,
    hand_back_item: HandBackItem,
    contact_customer: ContactCustomer,
    record_back_from_trip: RecordBackFromTrip,
    file_trip_report: FileTripReport,
    answer_inquiry: AnswerInquiry,
    schedule_installation: ScheduleInstallation,
    record_installation: RecordInstallation,
    accept_installation: AcceptInstallation,
    record_maintenance_visit: RecordMaintenanceVisit,
);
