//! Executes ticket commands against the event store: load, decide, commit,
//! exactly once per request id.
//!
//! We drive cqrs-es's `PersistedEventStore` directly instead of
//! `CqrsFramework` so that we can (1) check the request id between loading
//! and committing, (2) honour a client's expected version, (3) retry a lost
//! race on the fresh state, and (4) skip cqrs-es's in-process query
//! dispatch: read models follow the log durably (see `projections`).

use std::collections::HashMap;
use std::sync::Arc;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventStore};
use cqrs_es::{Aggregate, AggregateError, EventStore};
use domain::{Actor, Authored, Ticket, TicketCommand, TicketError, TicketEvent, TicketServices};
use postgres_es::PostgresEventRepository;
use sqlite_es::SqliteEventRepository;
use tokio::sync::Notify;

use crate::sealed::{SealedRepository, Writer};
use crate::store::{is_unavailable, Db, RecordedRequest};

/// How often a command is retried on the fresh state after losing a race.
const MAX_ATTEMPTS: usize = 5;

/// One command as the service received it.
#[derive(Debug, Clone)]
pub struct CommandRequest {
    pub ticket_id: String,
    pub request_id: String,
    pub expected_version: Option<u64>,
    pub actor: Actor,
    pub command: TicketCommand,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
}

/// A command that was applied, now or by an earlier request with the same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub ticket_id: String,
    pub version: u64,
    pub event_type: String,
    pub duplicate: bool,
}

/// Why a command was not applied. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The domain refused it; see [`TicketError`] for how to surface each.
    #[error(transparent)]
    Rejected(#[from] TicketError),
    /// The client's expected version is not the ticket's version.
    #[error("ticket is at version {actual}, not the expected {expected}")]
    VersionMismatch { expected: u64, actual: u64 },
    /// Lost the race to other writers on every attempt.
    #[error("too many concurrent changes to this ticket; retry")]
    Contention,
    /// The request id was already used for another ticket.
    #[error("request id was already used for ticket {ticket_id}")]
    RequestIdReused { ticket_id: String },
    /// The store cannot be reached.
    #[error("event store unavailable: {0}")]
    Unavailable(String),
    /// A bug or corrupt data; logged in full, shown to the caller briefly.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for CommandError {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            CommandError::Unavailable(error.to_string())
        } else {
            CommandError::Internal(error.to_string())
        }
    }
}

fn from_aggregate_error(error: AggregateError<TicketError>) -> CommandError {
    match error {
        AggregateError::UserError(e) => CommandError::Rejected(e),
        AggregateError::AggregateConflict => CommandError::Contention,
        AggregateError::DatabaseConnectionError(e) => CommandError::Unavailable(e.to_string()),
        AggregateError::DeserializationError(e) => CommandError::Internal(e.to_string()),
        AggregateError::UnexpectedError(e) => match e.downcast_ref::<sqlx::Error>() {
            Some(sql) if is_unavailable(sql) => CommandError::Unavailable(e.to_string()),
            _ => CommandError::Internal(e.to_string()),
        },
    }
}

/// The cqrs-es event store over whichever database is configured.
enum Events {
    Postgres(PersistedEventStore<SealedRepository<PostgresEventRepository>, Ticket>),
    Sqlite(PersistedEventStore<SealedRepository<SqliteEventRepository>, Ticket>),
}

type Context = EventStoreAggregateContext<Ticket>;

impl Events {
    async fn load(&self, ticket_id: &str) -> Result<Context, AggregateError<TicketError>> {
        match self {
            Events::Postgres(store) => store.load_aggregate(ticket_id).await,
            Events::Sqlite(store) => store.load_aggregate(ticket_id).await,
        }
    }

    async fn commit(
        &self,
        events: Vec<TicketEvent>,
        context: Context,
        metadata: HashMap<String, String>,
    ) -> Result<(), AggregateError<TicketError>> {
        match self {
            Events::Postgres(store) => store.commit(events, context, metadata).await.map(drop),
            Events::Sqlite(store) => store.commit(events, context, metadata).await.map(drop),
        }
    }
}

/// Runs commands. Cheap to share behind an `Arc`.
pub struct CommandBus {
    db: Db,
    events: Events,
    services: TicketServices,
    committed: Arc<Notify>,
}

impl std::fmt::Debug for CommandBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandBus")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl CommandBus {
    /// `committed` is notified after every commit, to wake projections.
    pub fn new(db: Db, services: TicketServices, committed: Arc<Notify>) -> Self {
        let events = match &db {
            Db::Postgres(pool) => {
                Events::Postgres(PersistedEventStore::new_event_store(SealedRepository::new(
                    PostgresEventRepository::new(pool.clone()),
                    Writer::Postgres(pool.clone()),
                )))
            }
            Db::Sqlite(pool) => {
                Events::Sqlite(PersistedEventStore::new_event_store(SealedRepository::new(
                    SqliteEventRepository::new(pool.clone()),
                    Writer::Sqlite(pool.clone()),
                )))
            }
        };
        Self {
            db,
            events,
            services,
            committed,
        }
    }

    /// The ticket's current state and version (0: no such ticket).
    pub async fn load(&self, ticket_id: &str) -> Result<(Ticket, u64), CommandError> {
        let context = self
            .events
            .load(ticket_id)
            .await
            .map_err(from_aggregate_error)?;
        Ok((context.aggregate, context.current_sequence as u64))
    }

    pub async fn execute(&self, request: CommandRequest) -> Result<Applied, CommandError> {
        for _ in 0..MAX_ATTEMPTS {
            // Load first, then look for the request id: a duplicate that
            // commits between the two is caught by the commit's conflict.
            let mut context = self
                .events
                .load(&request.ticket_id)
                .await
                .map_err(from_aggregate_error)?;
            if let Some(earlier) = self.db.find_request(&request.request_id).await? {
                return duplicate_of(earlier, &request);
            }
            let current = context.current_sequence as u64;
            if let Some(expected) = request.expected_version.filter(|e| *e != current) {
                return Err(CommandError::VersionMismatch {
                    expected,
                    actual: current,
                });
            }
            let sink = EventSink::default();
            let command = Authored {
                actor: request.actor.clone(),
                command: request.command.clone(),
            };
            context
                .aggregate
                .handle(command, &self.services, &sink)
                .await?;
            let events = sink.collect().await;
            let event_type = match events.as_slice() {
                [one] => one.name().to_owned(),
                other => {
                    return Err(CommandError::Internal(format!(
                        "a command must record exactly one event, got {}",
                        other.len()
                    )))
                }
            };
            // After `handle` the state includes the new event, so even a
            // just-received ticket knows its product.
            let product_model = context
                .aggregate
                .product
                .as_ref()
                .map(|p| p.model.to_string());
            let metadata = self.metadata(&request, &event_type, product_model);
            match self.events.commit(events, context, metadata).await {
                Ok(()) => {
                    self.committed.notify_one();
                    return Ok(Applied {
                        ticket_id: request.ticket_id,
                        version: current + 1,
                        event_type,
                        duplicate: false,
                    });
                }
                Err(error) => {
                    // The same request may have won the race elsewhere, or
                    // (on SQLite) tripped the unique request-id index.
                    if let Some(earlier) = self.db.find_request(&request.request_id).await? {
                        return duplicate_of(earlier, &request);
                    }
                    match error {
                        AggregateError::AggregateConflict if request.expected_version.is_none() => {
                            tracing::debug!(ticket = %request.ticket_id, "lost a race; retrying on fresh state");
                        }
                        AggregateError::AggregateConflict => {
                            let (_, actual) = self.load(&request.ticket_id).await?;
                            return Err(CommandError::VersionMismatch {
                                expected: current,
                                actual,
                            });
                        }
                        other => return Err(from_aggregate_error(other)),
                    }
                }
            }
        }
        Err(CommandError::Contention)
    }

    fn metadata(
        &self,
        request: &CommandRequest,
        event_type: &str,
        product_model: Option<String>,
    ) -> HashMap<String, String> {
        let recorded_at = self
            .services
            .clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let mut metadata = HashMap::from([
            ("request_id".to_owned(), request.request_id.clone()),
            ("actor_id".to_owned(), request.actor.id.to_string()),
            ("actor_role".to_owned(), request.actor.role.to_string()),
            ("channel".to_owned(), "grpc".to_owned()),
            (
                "correlation_id".to_owned(),
                request
                    .correlation_id
                    .clone()
                    .unwrap_or_else(|| request.request_id.clone()),
            ),
            (
                "causation_id".to_owned(),
                request
                    .causation_id
                    .clone()
                    .unwrap_or_else(|| request.request_id.clone()),
            ),
            ("command".to_owned(), request.command.kind().to_string()),
            ("event_type".to_owned(), event_type.to_owned()),
            ("recorded_at".to_owned(), recorded_at),
        ]);
        if let Some(model) = product_model {
            metadata.insert("product_model".to_owned(), model);
        }
        metadata
    }
}

fn duplicate_of(
    earlier: RecordedRequest,
    request: &CommandRequest,
) -> Result<Applied, CommandError> {
    // A ReceiveTicket retried without a client-chosen id gets a fresh id
    // each time; the request id alone identifies it.
    let same_ticket = earlier.ticket_id == request.ticket_id
        || (matches!(request.command, TicketCommand::ReceiveTicket(_))
            && earlier.event_type == "TicketReceived");
    if !same_ticket {
        return Err(CommandError::RequestIdReused {
            ticket_id: earlier.ticket_id,
        });
    }
    Ok(Applied {
        ticket_id: earlier.ticket_id,
        version: u64::try_from(earlier.version).unwrap_or_default(),
        event_type: earlier.event_type,
        duplicate: true,
    })
}
