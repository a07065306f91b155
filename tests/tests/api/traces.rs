//! OpenTelemetry traces over OTLP: `ticketd serve --otlp-endpoint` sends
//! one trace per command, continuing the caller's `traceparent`, from the
//! gRPC call through the command bus to the group commit. The receiver is
//! an OTLP trace service of the test's own, on a real socket.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use ticketd::rpc::pb::ticket_commands_client::TicketCommandsClient;
use tokio::sync::mpsc;
use tonic::transport::Channel;

use crate::crash::{child_command, free_addr, wait_serving, write_token_file};
use crate::helpers::{as_role, receive_request, Backend, TestServer};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// Hands every export it receives to the test.
struct Receiver(mpsc::UnboundedSender<ExportTraceServiceRequest>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let _ = self.0.send(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn named<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| {
        panic!(
            "no span {name} among {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    })
}

async fn a_command_is_traced_from_the_call_to_the_commit(backend: Backend) {
    let mut server = TestServer::without_server(backend).await;
    let (tx, mut exports) = mpsc::unbounded_channel();
    let collector = free_addr();
    let receiver = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Receiver(tx)))
            .serve(collector),
    );
    let tokens = write_token_file(server.dir());
    let addr = free_addr();
    let mut child = child_command(&server, addr, &tokens)
        .arg("--otlp-endpoint")
        .arg(format!("http://{collector}"))
        .spawn()
        .expect("start ticketd-child");
    wait_serving(addr).await;
    server.served_at(addr);

    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut request = as_role("customer_service", receive_request("traced-1", Some(30)));
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-{CALLER_SPAN}-01")
            .parse()
            .expect("header"),
    );
    TicketCommandsClient::new(channel)
        .receive_ticket(request)
        .await
        .expect("received");

    // A graceful stop exports what is buffered.
    let pid = child.id().expect("pid").to_string();
    let stopped = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill -TERM");
    assert!(stopped.success());
    tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("ticketd stops on SIGTERM")
        .expect("exit status");

    let mut spans = Vec::new();
    let mut service = None;
    while let Ok(Some(export)) = tokio::time::timeout(Duration::from_secs(2), exports.recv()).await
    {
        for resource in export.resource_spans {
            if let Some(r) = &resource.resource {
                for a in &r.attributes {
                    if a.key == "service.name" {
                        service = a.value.clone().and_then(|v| v.value);
                    }
                }
            }
            for scope in resource.scope_spans {
                spans.extend(scope.spans);
            }
        }
    }
    assert_eq!(service, Some(Value::StringValue("ticketd".to_owned())));
    let rpc = named(&spans, "repair.v1.TicketCommands/ReceiveTicket");
    assert_eq!(hex(&rpc.trace_id), TRACE_ID, "the caller's trace goes on");
    assert_eq!(hex(&rpc.parent_span_id), CALLER_SPAN);
    let bus = named(&spans, "bus.execute");
    assert_eq!(
        (hex(&bus.trace_id), &bus.parent_span_id),
        (TRACE_ID.to_owned(), &rpc.span_id)
    );
    let wait = named(&spans, "commit.wait");
    assert_eq!(
        &wait.parent_span_id, &bus.span_id,
        "the commit is waited for inside the bus"
    );
    let batch = spans
        .iter()
        .find(|s| s.name == "commit.batch" && s.links.iter().any(|l| l.span_id == wait.span_id))
        .expect("the batch that wrote the event links to the command's wait");
    assert!(
        batch.start_time_unix_nano >= wait.start_time_unix_nano,
        "the batch takes the row the command queued: {batch:?} {wait:?}"
    );

    receiver.abort();
    server.stop().await;
}

crate::on_both_stores!(a_command_is_traced_from_the_call_to_the_commit);
