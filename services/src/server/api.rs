//! The gRPC API as one set of routes: every service behind the caller's
//! identification, with health and reflection beside them.

use std::sync::Arc;

use domain::TicketServices;
use tokio::sync::watch;
use tonic::service::interceptor::InterceptedService;
use tonic::service::Routes;
use tonic_health::pb::health_server::{Health, HealthServer};

use super::ServeError;
use crate::auth::Auth;
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
    pub auth: Auth,
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

    // Every API call but health and reflection is authenticated first. The
    // data protection officer may erase personal data and do nothing else
    // (DOMAIN.md §11): every service but Privacy refuses the role.
    let auth = Arc::new(p.auth);
    let privacy_auth = auth.clone();
    let identify = move |mut request: tonic::Request<()>| {
        let actor = auth.identify(request.metadata())?;
        if actor.role == domain::Role::DataProtectionOfficer {
            return Err(tonic::Status::permission_denied(
                "role data_protection_officer may only erase personal data (the Privacy service)",
            ));
        }
        request.extensions_mut().insert(actor);
        Ok(request)
    };
    let privacy = InterceptedService::new(
        PrivacyServer::new(PrivacyService::new(p.bus.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
        move |mut request: tonic::Request<()>| {
            let actor = privacy_auth.identify(request.metadata())?;
            request.extensions_mut().insert(actor);
            Ok(request)
        },
    );
    let (db, bus) = (p.db, p.bus);
    Ok(Routes::new(health().await)
        .add_service(reflection)
        .add_service(reflection_alpha)
        .add_service(privacy)
        .add_service(InterceptedService::new(
            TicketCommandsServer::new(CommandService::new(bus.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            identify.clone(),
        ))
        .add_service(InterceptedService::new(
            TicketQueriesServer::new(QueryService::new(bus.clone(), db.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            identify.clone(),
        ))
        .add_service(InterceptedService::new(
            EventLogServer::new(EventLogService::new(db.clone(), p.head, p.keyring))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            identify.clone(),
        ))
        .add_service(InterceptedService::new(
            AuditServer::new(AuditService::new(db.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            identify.clone(),
        ))
        .add_service(InterceptedService::new(
            CostLedgerServer::new(CostLedgerService::new(db.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            identify.clone(),
        ))
        .add_service(InterceptedService::new(
            FracasServer::new(FracasService::new(db.clone(), bus.clone(), p.services))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            identify.clone(),
        ))
        .add_service(InterceptedService::new(
            SlaDashboardServer::new(SlaDashboardService::new(db, p.sla, Arc::new(SystemClock)))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            identify.clone(),
        ))
        .add_service(InterceptedService::new(
            TicketImportServer::new(ImportService::new(bus))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            identify.clone(),
        )))
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
