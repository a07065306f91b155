//! The gRPC API as one set of routes: every service, with health and
//! reflection beside them (`access::layer` identifies and checks each
//! caller in front of them all).

use std::sync::Arc;

use domain::TicketServices;
use tokio::sync::watch;
use tonic::service::Routes;
use tonic_health::pb::health_server::{Health, HealthServer};

use super::ServeError;
use crate::bus::CommandBus;
use crate::clock::SystemClock;
use crate::privacy::Keyring;
use crate::rpc::audit::AuditService;
use crate::rpc::commands::CommandService;
use crate::rpc::cost::CostLedgerService;
use crate::rpc::events::EventLogService;
use crate::rpc::fracas::FracasService;
use crate::rpc::import::ImportService;
use crate::rpc::limits::MAX_MESSAGE_BYTES;
use crate::rpc::pb::audit_server::AuditServer;
use crate::rpc::pb::cost_ledger_server::CostLedgerServer;
use crate::rpc::pb::event_log_server::EventLogServer;
use crate::rpc::pb::fracas_server::FracasServer;
use crate::rpc::pb::privacy_server::PrivacyServer;
use crate::rpc::pb::sla_dashboard_server::SlaDashboardServer;
use crate::rpc::pb::ticket_commands_server::TicketCommandsServer;
use crate::rpc::pb::ticket_import_server::TicketImportServer;
use crate::rpc::pb::ticket_queries_server::TicketQueriesServer;
use crate::rpc::privacy::PrivacyService;
use crate::rpc::queries::QueryService;
use crate::rpc::sla::SlaDashboardService;
use crate::rpc::DESCRIPTOR_SET;
use crate::store::Pool;
use projections::sla::SlaConfig;

/// What the services are built on.
pub(super) struct Parts {
    pub db: Pool,
    pub bus: Arc<CommandBus>,
    pub services: TicketServices,
    pub head: watch::Receiver<i64>,
    pub keyring: Arc<Keyring>,
    pub sla: &'static SlaConfig,
}

/// Every service of the API, health and reflection as one set of routes.
pub(super) async fn routes(p: Parts) -> Result<Routes, ServeError> {
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    // Every API call is identified and checked against the access table
    // by `access::layer` around the whole server, before it reaches a
    // service here.
    let privacy = PrivacyServer::new(PrivacyService::new(p.bus.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let (db, bus) = (p.db, p.bus);
    Ok(Routes::new(health().await)
        .add_service(reflection)
        .add_service(reflection_alpha)
        .add_service(privacy)
        .add_service(
            TicketCommandsServer::new(CommandService::new(bus.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            TicketQueriesServer::new(QueryService::new(bus.clone(), db.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            EventLogServer::new(EventLogService::new(db.clone(), p.head, p.keyring))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            AuditServer::new(AuditService::new(db.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            CostLedgerServer::new(CostLedgerService::new(db.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            FracasServer::new(FracasService::new(db.clone(), bus.clone(), p.services))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            SlaDashboardServer::new(SlaDashboardService::new(db, p.sla, Arc::new(SystemClock)))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            TicketImportServer::new(ImportService::new(bus))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        ))
}

/// The health service, every API service marked serving.
async fn health() -> HealthServer<impl Health> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_serving::<TicketCommandsServer<CommandService>>()
        .await;
    reporter
        .set_serving::<TicketQueriesServer<QueryService>>()
        .await;
    reporter
        .set_serving::<EventLogServer<EventLogService>>()
        .await;
    reporter.set_serving::<AuditServer<AuditService>>().await;
    reporter
        .set_serving::<CostLedgerServer<CostLedgerService>>()
        .await;
    reporter.set_serving::<FracasServer<FracasService>>().await;
    reporter
        .set_serving::<SlaDashboardServer<SlaDashboardService>>()
        .await;
    reporter
        .set_serving::<TicketImportServer<ImportService>>()
        .await;
    reporter
        .set_serving::<PrivacyServer<PrivacyService>>()
        .await;
    health
}
