//! Executes commands against the event store: load, decide, append,
//! exactly once per request id. The same loop serves every aggregate kept
//! in the store (tickets and corrective actions; see [`Commanded`]).
//!
//! We use cqrs-es's `Aggregate` and, on a cache miss, its
//! `PersistedEventStore` to load (postgres-es / sqlite-es reads), but not
//! `CqrsFramework` nor its commit, so that (1) a hot stream's state comes
//! from the [`cache`], (2) the happy path is one `INSERT` (the unique
//! indexes check the version and the request id), (3) a client's expected
//! version is honoured, (4) a lost race is retried on fresh state, and (5)
//! there is no in-process query dispatch: read models follow the log
//! durably (see `projections`).

mod cache;
mod commanded;
mod commit;
mod personal;

pub use personal::reveal;

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::Arc;
use tracing::Instrument;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventStore};
use cqrs_es::{Aggregate, AggregateError, DomainEvent, EventStore};
use domain::capa::{ActionCommand, ActionError, CorrectiveAction};
use domain::{Actor, Authored, Ticket, TicketCommand, TicketError, TicketServices, When};
use postgres_es::PostgresEventRepository;
use projections::log::append::{hash_at_postgres, hash_at_sqlite, to_micros, NewEvent};
use sqlite_es::SqliteEventRepository;
use tokio::sync::Notify;

use crate::policy::PolicyHandle;
use crate::privacy::{Keyring, MasterKey};
use crate::sealed::SealedRepository;
use crate::store::{is_unavailable, Passing, Pool, RecordedRequest};
use cache::{Cached, StreamCache};
use commit::{AppendError, GroupCommit};
use domain::personal::CustomerId;

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
    /// When the event happened (business time).
    fn occurred_at(event: &Self::Event) -> DateTime<Utc>;
    /// The event's personal fields (sealed under the data subject's key).
    fn personal_fields(event: &Self::Event) -> &'static [&'static str];
    /// Whom the stream's personal data is about.
    fn data_subject(&self) -> Option<&CustomerId>;
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
    /// When the client says it happened, and whether live or imported.
    pub when: When,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    /// Who brought a history line in (the `importer` calling the import),
    /// sealed beside the actor and role the line states; `None` live.
    pub imported_by: Option<Actor>,
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
    /// The store's disk is full; nothing was written.
    #[error("event store's disk is full: {0}")]
    DiskFull(String),
    /// A bug or corrupt data; logged in full, shown to the caller briefly.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for CommandError {
    fn from(error: sqlx::Error) -> Self {
        CommandError::of_store(&error)
    }
}

impl CommandError {
    /// What a store error means to the caller: a passing condition
    /// (UNAVAILABLE, saying which) or a fault of ours.
    pub fn of_store(error: &sqlx::Error) -> Self {
        match crate::store::passing(error) {
            Some(Passing::DiskFull) => CommandError::DiskFull(error.to_string()),
            Some(Passing::Unreachable) => CommandError::Unavailable(error.to_string()),
            None => CommandError::Internal(error.to_string()),
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
            Some(sql) if crate::store::passing(sql) == Some(Passing::DiskFull) => {
                CommandError::DiskFull(e.to_string())
            }
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
    fn new(db: &Pool) -> Self {
        match db {
            Pool::Postgres(pool) => {
                Events::Postgres(PersistedEventStore::new_event_store(SealedRepository::new(
                    PostgresEventRepository::new(pool.clone()),
                    Pool::Postgres(pool.clone()),
                )))
            }
            Pool::Sqlite(pool) => {
                Events::Sqlite(PersistedEventStore::new_event_store(SealedRepository::new(
                    SqliteEventRepository::new(pool.clone()),
                    Pool::Sqlite(pool.clone()),
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
}

/// Streams kept in memory per aggregate type (see [`cache`]).
pub const CACHED_STREAMS: usize = 10_000;

/// Runs commands. Cheap to share behind an `Arc`.
pub struct CommandBus {
    db: Pool,
    events: Events<Ticket>,
    actions: Events<CorrectiveAction>,
    tickets: StreamCache<Ticket>,
    action_streams: StreamCache<CorrectiveAction>,
    services: TicketServices,
    writer: GroupCommit,
    committed: Arc<Notify>,
    /// The policy in force, when it may be reloaded (else `services`').
    policy: Option<PolicyHandle>,
    /// Customers' keys: personal fields are sealed before they are stored.
    keyring: Arc<Keyring>,
}

impl std::fmt::Debug for CommandBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandBus")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl CommandBus {
    /// `committed` is notified after every commit, to wake projections;
    /// personal data is sealed under `master`. Starts the group-commit
    /// writer on the current tokio runtime.
    pub fn new(
        db: Pool,
        services: TicketServices,
        committed: Arc<Notify>,
        master: MasterKey,
    ) -> Self {
        let capacity = NonZeroUsize::new(CACHED_STREAMS).unwrap_or(NonZeroUsize::MIN);
        Self {
            events: Events::new(&db),
            actions: Events::new(&db),
            tickets: StreamCache::new(capacity),
            action_streams: StreamCache::new(capacity),
            writer: GroupCommit::start(&db),
            keyring: Arc::new(Keyring::new(db.clone(), master)),
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

    pub(crate) fn db(&self) -> &Pool {
        &self.db
    }

    /// The services for one command: the policy in force now.
    pub(crate) fn services(&self) -> TicketServices {
        self.services_now()
    }

    /// Aggregate-cache lookups so far, over every aggregate type: (found,
    /// not found).
    pub fn cache_counts(&self) -> (u64, u64) {
        let (th, tm) = self.tickets.counts();
        let (ah, am) = self.action_streams.counts();
        (th + ah, tm + am)
    }

    /// Wakes the log watcher after a write made outside [`Self::execute`].
    pub(crate) fn committed(&self) {
        self.committed.notify_one();
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
    pub async fn execute(&self, mut request: CommandRequest) -> Result<Applied, CommandError> {
        self.give_customer_id(&mut request.command).await?;
        let span =
            tracing::info_span!("bus.execute", aggregate = "Ticket", id = %request.ticket_id);
        self.run(&self.events, &self.tickets, request)
            .instrument(span)
            .await
    }

    /// Executes a corrective-action command.
    pub async fn execute_action(
        &self,
        request: CommandRequest<ActionCommand>,
    ) -> Result<Applied, CommandError> {
        let span = tracing::info_span!(
            "bus.execute",
            aggregate = "CorrectiveAction",
            id = %request.ticket_id
        );
        self.run(&self.actions, &self.action_streams, request)
            .instrument(span)
            .await
    }

    /// The stream's state, version and last hash from the store.
    async fn read<A: Commanded>(
        &self,
        events: &Events<A>,
        id: &str,
    ) -> Result<Cached<A>, CommandError> {
        let context = events.load(id).await.map_err(from_aggregate_error::<A>)?;
        let version = context.current_sequence as u64;
        let hash = match &self.db {
            Pool::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                hash_at_postgres(&mut conn, A::TYPE, id, version as i64).await?
            }
            Pool::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                hash_at_sqlite(&mut conn, A::TYPE, id, version as i64).await?
            }
        };
        Ok(Cached {
            aggregate: context.aggregate,
            version,
            hash,
        })
    }

    /// Load (from the cache when it has the stream), decide, append. A
    /// refusal or a version mismatch seen on cached state is checked again
    /// on the store's state before it is answered; a lost race is retried
    /// on fresh state.
    async fn run<A: Commanded + Clone>(
        &self,
        events: &Events<A>,
        cache: &StreamCache<A>,
        request: CommandRequest<A::Cmd>,
    ) -> Result<Applied, CommandError> {
        let id = request.ticket_id.clone();
        let mut fresh = false;
        for _ in 0..MAX_ATTEMPTS {
            let state = match cache.get(&id).filter(|_| !fresh) {
                Some(hit) => hit,
                None => {
                    fresh = true;
                    self.read(events, &id).await?
                }
            };
            let current = state.version;
            if let Some(expected) = request.expected_version.filter(|e| *e != current) {
                if !fresh {
                    fresh = true;
                    continue;
                }
                if let Some(earlier) = self.db.find_request(&request.request_id).await? {
                    return duplicate_of::<A>(earlier, &request);
                }
                return Err(CommandError::VersionMismatch {
                    expected,
                    actual: current,
                });
            }
            let services = self.services_now();
            let mut aggregate = state.aggregate;
            let sink = EventSink::default();
            let command = Authored {
                actor: request.actor.clone(),
                command: request.command.clone(),
                when: request.when,
            };
            if let Err(refusal) = aggregate.handle(command, &services, &sink).await {
                // A retry of a request that was applied may be refused
                // now: it gets the first reply instead.
                if let Some(earlier) = self.db.find_request(&request.request_id).await? {
                    return duplicate_of::<A>(earlier, &request);
                }
                if !fresh {
                    fresh = true;
                    continue;
                }
                return Err(A::rejected(refusal));
            }
            let event = match <[A::Event; 1]>::try_from(sink.collect().await) {
                Ok([one]) => one,
                Err(other) => {
                    return Err(CommandError::Internal(format!(
                        "a command must record exactly one event, got {}",
                        other.len()
                    )))
                }
            };
            let event_type = event.event_type();
            let new = self
                .record::<A>(&request, &aggregate, event, current + 1, &services)
                .await?;
            // One round trip, shared with the commands committing beside
            // it (see `commit`): the primary key (stream, sequence) refuses
            // a taken version, the unique index on the request id a second
            // application.
            match self.writer.append(new, state.hash).await {
                Ok(hash) => {
                    cache.put(
                        &id,
                        Cached {
                            aggregate,
                            version: current + 1,
                            hash,
                        },
                    );
                    self.committed.notify_one();
                    return Ok(Applied {
                        ticket_id: request.ticket_id,
                        version: current + 1,
                        event_type,
                        duplicate: false,
                    });
                }
                Err(AppendError::Failed(error)) => {
                    cache.forget(&id);
                    return Err(error);
                }
                Err(AppendError::Taken) => {
                    cache.forget(&id);
                    // The same request may have won the race elsewhere.
                    if let Some(earlier) = self.db.find_request(&request.request_id).await? {
                        return duplicate_of::<A>(earlier, &request);
                    }
                    if request.expected_version.is_some() {
                        let actual = self.read(events, &id).await?.version;
                        return Err(CommandError::VersionMismatch {
                            expected: current,
                            actual,
                        });
                    }
                    tracing::debug!(ticket = %id, "lost a race; retrying on fresh state");
                    fresh = true;
                }
            }
        }
        Err(CommandError::Contention)
    }
}

/// The row to append for `event`, recorded by `request` now under
/// `services`' clock and policy (whose version is recorded); `after` is the
/// state with the event applied.
pub(crate) fn new_event<A: Commanded>(
    request: &CommandRequest<A::Cmd>,
    after: &A,
    event: A::Event,
    sequence: u64,
    services: &TicketServices,
) -> Result<NewEvent, CommandError> {
    let event_type = event.event_type();
    let mut extra = after.extra_metadata();
    extra.extend(PolicyHandle::metadata(&services.policies));
    // The one clock: ticketd's, on both stores. The id and both times go
    // into the sealed metadata and, from the same values, the columns.
    let recorded_at = to_micros(services.clock.now());
    let occurred_at = to_micros(A::occurred_at(&event));
    let event_id = uuid::Uuid::new_v4().to_string();
    let mut fields: serde_json::Map<String, serde_json::Value> =
        metadata::<A>(request, &event_type, extra)
            .into_iter()
            .map(|(k, v)| (k, v.into()))
            .collect();
    NewEvent::stamp_metadata(&mut fields, &event_id, recorded_at, occurred_at);
    let payload =
        serde_json::to_value(&event).map_err(|e| CommandError::Internal(e.to_string()))?;
    Ok(NewEvent {
        aggregate_type: A::TYPE.to_owned(),
        aggregate_id: request.ticket_id.clone(),
        sequence: i64::try_from(sequence).map_err(|e| CommandError::Internal(e.to_string()))?,
        event_type,
        event_version: event.event_version(),
        payload,
        metadata: fields.into(),
        event_id,
        recorded_at,
        occurred_at,
    })
}

/// The metadata sealed with an event: who, how, which request (its id and
/// two times are stamped by [`new_event`]).
fn metadata<A: Commanded>(
    request: &CommandRequest<A::Cmd>,
    event_type: &str,
    extra: Vec<(String, String)>,
) -> HashMap<String, String> {
    let mut metadata = HashMap::from([
        ("request_id".to_owned(), request.request_id.clone()),
        ("actor_id".to_owned(), request.actor.id.to_string()),
        ("actor_role".to_owned(), request.actor.role.to_string()),
        (
            "channel".to_owned(),
            request.when.recording.channel().to_owned(),
        ),
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
    ]);
    if let Some(by) = &request.imported_by {
        metadata.insert("imported_by".to_owned(), by.id.to_string());
        metadata.insert("imported_by_role".to_owned(), by.role.to_string());
    }
    metadata.extend(extra);
    metadata
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
