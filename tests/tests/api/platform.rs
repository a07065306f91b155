//! What every gRPC client relies on: health and reflection.

use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

use crate::helpers::{Backend, TestServer};

/// Every API service ticketd serves.
const SERVICES: &[&str] = &[
    "repair.v1.TicketCommands",
    "repair.v1.TicketQueries",
    "repair.v1.EventLog",
    "repair.v1.Audit",
    "repair.v1.CostLedger",
    "repair.v1.Fracas",
    "repair.v1.SlaDashboard",
    "repair.v1.TicketImport",
];

async fn health_reports_serving(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut health = HealthClient::new(server.channel().await);
    for service in [""].iter().chain(SERVICES) {
        let reply = health
            .check(HealthCheckRequest {
                service: (*service).to_owned(),
            })
            .await
            .expect("health")
            .into_inner();
        assert_eq!(reply.status(), ServingStatus::Serving, "{service}");
    }
    server.stop().await;
}

async fn reflection_lists_the_services(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut client = ServerReflectionClient::new(server.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .expect("reflection")
        .into_inner();
    let reply = replies.message().await.expect("stream").expect("one reply");
    let names: Vec<String> = match reply.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("unexpected reflection reply {other:?}"),
    };
    for expected in SERVICES.iter().copied().chain(["grpc.health.v1.Health"]) {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    server.stop().await;
}

crate::on_both_stores!(health_reports_serving, reflection_lists_the_services);
