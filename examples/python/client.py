#!/usr/bin/env python3
"""Drives one repair through ticketd and follows it in the event log.

Written from the protos alone (stubs made by generate.sh):
  1. the README's walk-through, received -> closed, one command per step;
  2. a refused command, reading the google.rpc.BadRequest that names the field;
  3. EventLog.Subscribe for the ticket, each event typed: its EventType and
     the `payload` oneof (event_types.proto), read with WhichOneof.

  ./generate.sh && PYTHONPATH=gen python3 client.py --target localhost:50051

Without --tokens the calls carry the development headers (a server started
with --insecure-dev-auth); --tokens names a JSON file {"role": "token", ...}.
Exit status 0 when every step went as the API documents.
"""

import argparse
import json
import re
import sys
import uuid

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from repair.v1 import commands_pb2, commands_pb2_grpc, events_pb2, events_pb2_grpc
from repair.v1.types_pb2 import RepairPath


class Caller:
    """Adds who is calling to each call: a bearer token or dev headers."""

    def __init__(self, tokens):
        self.tokens = tokens

    def metadata(self, role):
        if self.tokens is not None:
            return [("authorization", "Bearer " + self.tokens[role])]
        headers = [("x-actor-id", role + "-py"), ("x-actor-role", role)]
        if role == "integration":
            # In development mode this header stands for the token file's
            # personal_data grant (docs/SECURITY.md): without it the
            # customer's fields in the events stay sealed.
            headers.append(("x-actor-grants", "personal_data"))
        return headers


def walk_through(ticket):
    """(role, RPC, request type, request as JSON) for one repair, as README.md."""
    c = lambda n: {"request_id": f"{ticket}-{n}", "ticket_id": ticket}
    cny = lambda minor: {"currency": "CNY", "minor_units": minor}
    return [
        ("customer_service", "ReceiveTicket", commands_pb2.ReceiveTicketRequest, {
            "context": c(1), "channel": "CHANNEL_PHONE", "kind": "TICKET_KIND_REPAIR",
            "customer": {"name": "Li Lei", "phone": "+86 138 0013 8000",
                         "address": "1 Renmin Rd, Hangzhou", "region": "REGION_URBAN"},
            "product": {"line": "washer", "model": "WM-800", "serial_number": "SN-PY-1",
                        "purchase_date": "2025-06-01", "proof_of_purchase": True},
            "description": "drum does not turn", "priority": "PRIORITY_NORMAL",
            "service_mode": "SERVICE_MODE_MAIL_IN"}),
        ("customer_service", "ContactCustomer", commands_pb2.ContactCustomerRequest, {
            "context": c(2), "commitment": "courier collects tomorrow",
            "promised_on": "2030-12-31"}),
        ("customer_service", "DetermineWarranty", commands_pb2.DetermineWarrantyRequest,
         {"context": c(3)}),
        ("technician", "DiagnoseFault", commands_pb2.DiagnoseFaultRequest, {
            "context": c(4), "symptom": "drum does not turn", "failure_mode": "MOTOR-OPEN",
            "failed_parts": ["MTR-100"], "root_cause": "ROOT_CAUSE_MANUFACTURING",
            "responsible_department": "DEPARTMENT_PRODUCTION",
            "path": "REPAIR_PATH_WORKSHOP_REPAIR"}),
        ("technician", "QuoteRepair", commands_pb2.QuoteRepairRequest, {
            "context": c(5), "valid_until": "2030-12-31", "lines": [
                {"parts": {"part_number": "MTR-100", "quantity": 1, "unit_price": cny(38000)}},
                {"labour": {"minutes": 90, "hourly_rate": cny(8000)}}]}),
        ("service_manager", "ApproveQuote", commands_pb2.ApproveQuoteRequest, {"context": c(6)}),
        ("customer_service", "AcceptQuote", commands_pb2.AcceptQuoteRequest, {"context": c(7)}),
        ("technician", "RecordRepair", commands_pb2.RecordRepairRequest, {
            "context": c(8), "labour_minutes": 90, "parts": [{
                "part_number": "MTR-100", "quantity": 1, "unit_cost": cny(21000),
                "old_part": "OLD_PART_DISPOSITION_SCRAPPED"}]}),
        ("qc_inspector", "PassQc", commands_pb2.PassQcRequest, {"context": c(9)}),
        ("technician", "ShipItem", commands_pb2.ShipItemRequest, {
            "context": c(10), "carrier": "SF Express", "tracking_number": "SF123456789",
            "address": "1 Renmin Rd, Hangzhou"}),
        ("technician", "ConfirmDelivery", commands_pb2.ConfirmDeliveryRequest, {
            "context": c(11), "signed_by": "Li Lei"}),
        ("finance", "IssueInvoice", commands_pb2.IssueInvoiceRequest, {
            "context": c(12), "invoice_number": f"INV-{ticket}", "amount": cny(50000)}),
        ("finance", "RecordPayment", commands_pb2.RecordPaymentRequest, {
            "context": c(13), "amount": cny(50000), "reference": "WX-889"}),
        ("customer_service", "RecordRevisit", commands_pb2.RecordRevisitRequest, {
            "context": c(14), "resolved": True, "satisfaction": {
                "attitude": "SATISFACTION_LEVEL_VERY_SATISFIED",
                "skill": "SATISFACTION_LEVEL_SATISFIED",
                "arrival_time": "SATISFACTION_LEVEL_SATISFIED",
                "promises_kept": "SATISFACTION_LEVEL_VERY_SATISFIED"}}),
        ("customer_service", "CloseTicket", commands_pb2.CloseTicketRequest, {"context": c(15)}),
    ]


def bad_request_fields(error):
    """The fields a refusal names, from its google.rpc.BadRequest detail."""
    status = rpc_status.from_call(error)
    fields = []
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields.extend(v.field for v in bad.field_violations)
    return fields


def enum_name_of(event_type):
    """QcPassed -> EVENT_TYPE_QC_PASSED, the EventType value of that name."""
    return "EVENT_TYPE_" + re.sub(r"(?<!^)(?=[A-Z])", "_", event_type).upper()


def case_of(event_type):
    """QcPassed -> qc_passed, the payload oneof's case of that name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event_type).lower()


def describe(typed):
    """A few typed fields of the events the walk-through produces."""
    case = typed.WhichOneof("event")
    event = getattr(typed, case)
    if case == "ticket_received":
        return f"model={event.product.model} customer={event.customer.name}"
    if case == "fault_diagnosed":
        return f"failure_mode={event.failure_mode} path={RepairPath.Name(event.path)}"
    if case == "repair_quoted":
        return f"total={event.total.minor_units} {event.total.currency} until {event.valid_until}"
    if case == "repair_recorded":
        return f"labour={event.labour_minutes}min parts={[p.part_number for p in event.parts]}"
    if case == "qc_passed":
        return f"inspector={event.inspector}"
    if case == "payment_recorded":
        return f"paid={event.amount.minor_units} ref={event.reference}"
    return ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="localhost:50051")
    parser.add_argument("--tokens", help='JSON file {"role": "token", ...}')
    args = parser.parse_args()
    tokens = json.load(open(args.tokens)) if args.tokens else None
    caller = Caller(tokens)
    channel = grpc.insecure_channel(args.target)
    commands = commands_pb2_grpc.TicketCommandsStub(channel)
    ticket = "PY-" + uuid.uuid4().hex[:8].upper()

    for role, rpc, request_type, body in walk_through(ticket):
        request = json_format.ParseDict(body, request_type())
        reply = getattr(commands, rpc)(request, metadata=caller.metadata(role))
        print(f"{rpc:<18} -> version {reply.version} {reply.event_type}")

    # A refusal names the field: INVALID_ARGUMENT with a BadRequest detail.
    bad = json_format.ParseDict(walk_through(ticket + "-BAD")[0][3],
                                commands_pb2.ReceiveTicketRequest())
    bad.description = ""
    try:
        commands.ReceiveTicket(bad, metadata=caller.metadata("customer_service"))
        sys.exit("an empty description was accepted")
    except grpc.RpcError as error:
        fields = bad_request_fields(error)
        print(f"refused: {error.code().name} {fields} {error.details()}")
        if error.code() != grpc.StatusCode.INVALID_ARGUMENT or "description" not in fields:
            sys.exit("expected INVALID_ARGUMENT naming description")

    # The ticket's events from the log, typed: the EventType and the
    # payload's oneof case, both of the event's name.
    log = events_pb2_grpc.EventLogStub(channel)
    request = events_pb2.SubscribeRequest(ticket_ids=[ticket], heartbeat_seconds=1)
    seen = []
    stream = log.Subscribe(request, metadata=caller.metadata("integration"), timeout=60)
    for message in stream:
        if message.WhichOneof("message") != "event":
            continue
        event = message.event
        name = events_pb2.EventType.Name(event.type)
        case = event.payload.WhichOneof("event")
        print(f"log {event.position:>4} v{event.version:<2} {name:<32} {case} "
              f"{describe(event.payload)}")
        if name != enum_name_of(event.event_type):
            sys.exit(f"{event.event_type} came as {name}")
        if case != case_of(event.event_type):
            sys.exit(f"{event.event_type} came typed as {case}")
        if case == "ticket_received" and event.payload.ticket_received.product.model != "WM-800":
            sys.exit(f"received the wrong model: {event.payload.ticket_received.product}")
        if case == "repair_recorded" and event.payload.repair_recorded.labour_minutes != 90:
            sys.exit(f"recorded the wrong labour: {event.payload.repair_recorded}")
        seen.append(event.event_type)
        if event.event_type == "TicketClosed":
            stream.cancel()
            break
    expected = [reply for _, _, _, _ in walk_through(ticket)]
    if len(seen) != len(expected):
        sys.exit(f"expected {len(expected)} events, saw {seen}")
    print(f"OK {ticket}: {len(seen)} events, received -> closed")


if __name__ == "__main__":
    main()
