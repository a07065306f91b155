//! Executes commands against the event store: load, decide, commit,
//! exactly once per request id. The same loop serves every aggregate kept
//! in the store (tickets and corrective actions; see [`Commanded`]).
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
use cqrs_es::{Aggregate, AggregateError, DomainEvent, EventStore};
use domain::capa::{ActionCommand, ActionError, CorrectiveAction};
use domain::{Actor, Authored, Ticket, TicketCommand, TicketError, TicketServices};
use postgres_es::PostgresEventRepository;
use sqlite_es::SqliteEventRepository;
use tokio::sync::Notify;

use crate::policy::PolicyHandle;
use crate::sealed::{SealedRepository, Writer};
use crate::store::{is_unavailable, Db, RecordedRequest};

/// How often a command is retried on the fresh state after losing a race.
const MAX_ATTEMPTS: usize = 5;

/// What the bus needs to know of an aggregate beyond cqrs-es's trait.
pub trait Commanded:
    Aggregate<Command = Authored<<Self as Commanded>::Cmd>, Services = TicketServices>
{
    type Cmd: Clone + Send + Sync + std::fmt::Debug;
    /// The command's name, recorded in each event's metadata.
    fn command_name(command: &Self::Cmd) -> String;
    /// The event a command that creates the stream records: a retry of such
    /// a command under a fresh stream id is recognised by its request id.
    fn creation_event(command: &Self::Cmd) -> Option<&'static str>;
    /// Extra metadata from the state after the command.
    fn extra_metadata(&self) -> Vec<(String, String)>;
    /// The domain's refusal as a command error.
    fn rejected(error: Self::Error) -> CommandError;
}

impl Commanded for Ticket {
    type Cmd = TicketCommand;

    fn command_name(command: &TicketCommand) -> String {
        command.kind().to_string()
    }

    fn creation_event(command: &TicketCommand) -> Option<&'static str> {
        matches!(command, TicketCommand::ReceiveTicket(_)).then_some("TicketReceived")
    }

    fn extra_metadata(&self) -> Vec<(String, String)> {
        // After `handle` the state includes the new event, so even a
        // just-received ticket knows its product.
        self.product
            .as_ref()
            .map(|p| ("product_model".to_owned(), p.model.to_string()))
            .into_iter()
            .collect()
    }

    fn rejected(error: TicketError) -> CommandError {
        CommandError::Rejected(error)
    }
}

impl Commanded for CorrectiveAction {
    type Cmd = ActionCommand;

    fn command_name(command: &ActionCommand) -> String {
        command.kind().to_string()
    }

    fn creation_event(command: &ActionCommand) -> Option<&'static str> {
        matches!(command, ActionCommand::Open(_)).then_some("CorrectiveActionOpened")
    }

    fn extra_metadata(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    fn rejected(error: ActionError) -> CommandError {
        CommandError::ActionRejected(error)
    }
}

/// One command as the service received it. `ticket_id` is the id of the
/// aggregate's stream (a ticket's, or a corrective action's).
#[derive(Debug, Clone)]
pub struct CommandRequest<C = TicketCommand> {
    pub ticket_id: String,
    pub request_id: String,
    pub expected_version: Option<u64>,
    pub actor: Actor,
    pub command: C,
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
    /// The corrective action refused it; see [`ActionError`].
    #[error(transparent)]
    ActionRejected(#[from] ActionError),
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

fn from_aggregate_error<A: Commanded>(error: AggregateError<A::Error>) -> CommandError {
    match error {
        AggregateError::UserError(e) => A::rejected(e),
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
enum Events<A: Aggregate> {
    Postgres(PersistedEventStore<SealedRepository<PostgresEventRepository>, A>),
    Sqlite(PersistedEventStore<SealedRepository<SqliteEventRepository>, A>),
}

impl<A: Aggregate> Events<A> {
    fn new(db: &Db) -> Self {
        match db {
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
        }
    }

    async fn load(
        &self,
        ticket_id: &str,
    ) -> Result<EventStoreAggregateContext<A>, AggregateError<A::Error>> {
        match self {
            Events::Postgres(store) => store.load_aggregate(ticket_id).await,
            Events::Sqlite(store) => store.load_aggregate(ticket_id).await,
        }
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: EventStoreAggregateContext<A>,
        metadata: HashMap<String, String>,
    ) -> Result<(), AggregateError<A::Error>> {
        match self {
            Events::Postgres(store) => store.commit(events, context, metadata).await.map(drop),
            Events::Sqlite(store) => store.commit(events, context, metadata).await.map(drop),
        }
    }
}

/// Runs commands. Cheap to share behind an `Arc`.
pub struct CommandBus {
    db: Db,
    events: Events<Ticket>,
    actions: Events<CorrectiveAction>,
    services: TicketServices,
    committed: Arc<Notify>,
    /// The policy in force, when it may be reloaded (else `services`').
    policy: Option<PolicyHandle>,
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
        Self {
            events: Events::new(&db),
            actions: Events::new(&db),
            db,
            services,
            committed,
            policy: None,
        }
    }

    /// Decides under the policy `handle` holds at each command.
    pub fn with_policy(mut self, handle: PolicyHandle) -> Self {
        self.policy = Some(handle);
        self
    }

    /// The services for one command: the policy in force now.
    fn services_now(&self) -> TicketServices {
        match &self.policy {
            Some(handle) => TicketServices {
                policies: (*handle.current()).clone(),
                ..self.services.clone()
            },
            None => self.services.clone(),
        }
    }

    /// The ticket's current state and version (0: no such ticket).
    pub async fn load(&self, ticket_id: &str) -> Result<(Ticket, u64), CommandError> {
        let context = self
            .events
            .load(ticket_id)
            .await
            .map_err(from_aggregate_error::<Ticket>)?;
        Ok((context.aggregate, context.current_sequence as u64))
    }

    /// The corrective action's current state and version (0: no such action).
    pub async fn load_action(
        &self,
        action_id: &str,
    ) -> Result<(CorrectiveAction, u64), CommandError> {
        let context = self
            .actions
            .load(action_id)
            .await
            .map_err(from_aggregate_error::<CorrectiveAction>)?;
        Ok((context.aggregate, context.current_sequence as u64))
    }

    /// Executes a ticket command.
    pub async fn execute(&self, request: CommandRequest) -> Result<Applied, CommandError> {
        self.run(&self.events, request).await
    }

    /// Executes a corrective-action command.
    pub async fn execute_action(
        &self,
        request: CommandRequest<ActionCommand>,
    ) -> Result<Applied, CommandError> {
        self.run(&self.actions, request).await
    }

    async fn run<A: Commanded>(
        &self,
        events: &Events<A>,
        request: CommandRequest<A::Cmd>,
    ) -> Result<Applied, CommandError> {
        for _ in 0..MAX_ATTEMPTS {
            // Load first, then look for the request id: a duplicate that
            // commits between the two is caught by the commit's conflict.
            let mut context = events
                .load(&request.ticket_id)
                .await
                .map_err(from_aggregate_error::<A>)?;
            if let Some(earlier) = self.db.find_request(&request.request_id).await? {
                return duplicate_of::<A>(earlier, &request);
            }
            let current = context.current_sequence as u64;
            if let Some(expected) = request.expected_version.filter(|e| *e != current) {
                return Err(CommandError::VersionMismatch {
                    expected,
                    actual: current,
                });
            }
            let services = self.services_now();
            let sink = EventSink::default();
            let command = Authored {
                actor: request.actor.clone(),
                command: request.command.clone(),
            };
            context
                .aggregate
                .handle(command, &services, &sink)
                .await
                .map_err(A::rejected)?;
            let new_events = sink.collect().await;
            let event_type = match new_events.as_slice() {
                [one] => one.event_type(),
                other => {
                    return Err(CommandError::Internal(format!(
                        "a command must record exactly one event, got {}",
                        other.len()
                    )))
                }
            };
            let mut extra = context.aggregate.extra_metadata();
            extra.extend(PolicyHandle::metadata(&services.policies));
            let metadata = self.metadata::<A>(&request, &event_type, extra);
            match events.commit(new_events, context, metadata).await {
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
                        return duplicate_of::<A>(earlier, &request);
                    }
                    match error {
                        AggregateError::AggregateConflict if request.expected_version.is_none() => {
                            tracing::debug!(ticket = %request.ticket_id, "lost a race; retrying on fresh state");
                        }
                        AggregateError::AggregateConflict => {
                            let actual = events
                                .load(&request.ticket_id)
                                .await
                                .map_err(from_aggregate_error::<A>)?
                                .current_sequence as u64;
                            return Err(CommandError::VersionMismatch {
                                expected: current,
                                actual,
                            });
                        }
                        other => return Err(from_aggregate_error::<A>(other)),
                    }
                }
            }
        }
        Err(CommandError::Contention)
    }

    fn metadata<A: Commanded>(
        &self,
        request: &CommandRequest<A::Cmd>,
        event_type: &str,
        extra: Vec<(String, String)>,
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
            ("command".to_owned(), A::command_name(&request.command)),
            ("event_type".to_owned(), event_type.to_owned()),
            ("recorded_at".to_owned(), recorded_at),
        ]);
        metadata.extend(extra);
        metadata
    }
}

fn duplicate_of<A: Commanded>(
    earlier: RecordedRequest,
    request: &CommandRequest<A::Cmd>,
) -> Result<Applied, CommandError> {
    // A ReceiveTicket (or an OpenCorrectiveAction) retried without a
    // client-chosen id gets a fresh id each time; the request id alone
    // identifies it.
    let same_ticket = earlier.ticket_id == request.ticket_id
        || A::creation_event(&request.command) == Some(earlier.event_type.as_str());
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
