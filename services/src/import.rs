//! History import: commands with their original times, from a file
//! (`ticketd import`) or a stream (`TicketImport.ImportTickets`).
//! Transport-neutral; lines arrive already parsed (`rpc::import`).
//!
//! Invariants:
//! * every line passes the domain's rules as a live command would
//!   (`Ticket::decide`), with [`Recording::Import`]: exempt from the
//!   back-dating window only;
//! * a ticket's new lines are written in one transaction or not at all;
//! * a line whose request id is already stored (for the same ticket) writes
//!   nothing, so a second run of the same lines writes nothing new;
//! * events are sealed by `projections::log::append` and sequenced by the log
//!   watcher like any other, with `channel = import` and who imported them
//!   (`imported_by`, `imported_by_role`) beside the actor the line states;
//! * an import never appends to a ticket that has an event recorded live
//!   (DOMAIN.md §11): history comes before live work, never into it.

use std::collections::{HashMap, HashSet};

use cqrs_es::Aggregate;
use domain::{Actor, Recording, Ticket, TicketCommand};
use futures::StreamExt;
use projections::log::append::{
    chain_hashes, hash_at_postgres, hash_at_sqlite, insert_many_postgres, insert_rows_postgres,
    insert_sqlite, is_unique_violation, NewEvent,
};

use crate::bus::{CommandBus, CommandError, CommandRequest};
use crate::store::Pool;

/// One parsed line: where it came from, and the command it carries.
#[derive(Debug, Clone)]
pub struct ImportCommand {
    pub line: u64,
    pub request: CommandRequest<TicketCommand>,
}

/// A line that was refused, and so its ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub line: u64,
    pub ticket_id: String,
    pub request_id: String,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub lines: u64,
    pub events_written: u64,
    pub duplicates: u64,
    pub tickets_imported: u64,
    pub tickets_rejected: u64,
    /// The first rejected line of each rejected ticket, in line order.
    pub rejections: Vec<Rejection>,
}

/// Tickets planned at the same time (their reads overlap).
const CONCURRENT_TICKETS: usize = 8;

/// Tickets written in one transaction, each in a savepoint of its own: one
/// commit (and fsync) for all of them, each still all or nothing.
const TICKETS_PER_COMMIT: usize = 64;

/// What happened to one ticket's lines.
enum Outcome {
    Written { events: u64, duplicates: u64 },
    Rejected(Rejection),
}

/// Imports `lines` for `importer`: groups them per ticket (tickets in
/// order of first appearance, each ticket's lines in line order), then
/// applies each ticket all or nothing. `progress` is told the lines done
/// so far.
pub async fn run(
    bus: &CommandBus,
    importer: &Actor,
    lines: Vec<Result<ImportCommand, Rejection>>,
    mut progress: impl FnMut(u64),
) -> Result<Report, CommandError> {
    let mut report = Report {
        lines: lines.len() as u64,
        ..Report::default()
    };
    let mut order: Vec<String> = Vec::new();
    let mut tickets: HashMap<String, Vec<ImportCommand>> = HashMap::new();
    let mut refused: HashMap<String, Rejection> = HashMap::new();
    for line in lines {
        match line {
            Ok(mut command) => {
                command.request.imported_by = Some(importer.clone());
                let id = command.request.ticket_id.clone();
                if !tickets.contains_key(&id) && !refused.contains_key(&id) {
                    order.push(id.clone());
                }
                tickets.entry(id).or_default().push(command);
            }
            // A line that cannot be read rejects its ticket (if it names
            // one); a line without a ticket is reported on its own.
            Err(rejection) if rejection.ticket_id.is_empty() => {
                report.rejections.push(rejection);
            }
            Err(rejection) => {
                let id = rejection.ticket_id.clone();
                if !tickets.contains_key(&id) && !refused.contains_key(&id) {
                    order.push(id.clone());
                }
                refused.entry(id).or_insert(rejection);
            }
        }
    }
    // Tickets are independent streams: a chunk is planned several at a
    // time, then written in one transaction; the report keeps their order.
    let mut queue: Vec<Ticketed> = order
        .into_iter()
        .map(|id| Ticketed {
            commands: tickets.remove(&id).unwrap_or_default(),
            rejected: refused.remove(&id),
            id,
        })
        .collect();
    let mut done = 0_u64;
    while !queue.is_empty() {
        let chunk: Vec<Ticketed> = queue.drain(..TICKETS_PER_COMMIT.min(queue.len())).collect();
        for (lines, outcome) in import_chunk(bus, chunk).await? {
            match outcome {
                Outcome::Written { events, duplicates } => {
                    report.events_written += events;
                    report.duplicates += duplicates;
                    report.tickets_imported += 1;
                }
                Outcome::Rejected(rejection) => {
                    report.tickets_rejected += 1;
                    report.rejections.push(rejection);
                }
            }
            done += lines;
            progress(done);
        }
    }
    report.rejections.sort_by_key(|r| r.line);
    if report.events_written > 0 {
        bus.committed();
    }
    Ok(report)
}

/// One ticket's lines, or why it is already refused.
struct Ticketed {
    id: String,
    commands: Vec<ImportCommand>,
    rejected: Option<Rejection>,
}

/// What the first look at a ticket found.
enum First {
    Done(Outcome),
    Write { version: u64, planned: Planned },
}

/// Plans a chunk of tickets, writes them in one transaction, and imports
/// on its own (looking every request id up) any ticket whose write
/// collided. Returns each ticket's line count and outcome, in order.
async fn import_chunk(
    bus: &CommandBus,
    chunk: Vec<Ticketed>,
) -> Result<Vec<(u64, Outcome)>, CommandError> {
    let looks: Vec<_> = chunk.iter().map(|t| first_look(bus, t)).collect();
    let firsts: Vec<Result<First, CommandError>> = futures::stream::iter(looks)
        .buffered(CONCURRENT_TICKETS)
        .collect()
        .await;
    let firsts = firsts.into_iter().collect::<Result<Vec<_>, _>>()?;
    let writes: Vec<(&[NewEvent], u64)> = firsts
        .iter()
        .filter_map(|f| match f {
            First::Write { version, planned } => Some((planned.events.as_slice(), *version)),
            First::Done(_) => None,
        })
        .collect();
    let mut collided = write(bus.db(), &writes).await?.into_iter();
    let mut out = Vec::with_capacity(chunk.len());
    for (t, first) in chunk.into_iter().zip(firsts) {
        let lines = t.commands.len() as u64;
        let outcome = match first {
            First::Done(outcome) => outcome,
            First::Write { planned, .. } if !collided.next().unwrap_or(true) => Outcome::Written {
                events: planned.events.len() as u64,
                duplicates: planned.duplicates,
            },
            First::Write { .. } => import_ticket(bus, &t.id, t.commands).await?,
        };
        out.push((lines, outcome));
    }
    Ok(out)
}

/// Loads and plans a ticket; a new stream's lines are looked up only if
/// its write collides (a request id used elsewhere, or a racing writer).
async fn first_look(bus: &CommandBus, t: &Ticketed) -> Result<First, CommandError> {
    if let Some(rejection) = &t.rejected {
        return Ok(First::Done(Outcome::Rejected(rejection.clone())));
    }
    let (ticket, version) = bus.load(&t.id).await?;
    Ok(
        match plan(bus, ticket, version, &t.commands, version > 0).await? {
            Ok(planned) => First::Write { version, planned },
            Err(rejection) => First::Done(Outcome::Rejected(rejection)),
        },
    )
}

/// Applies one ticket's lines on its own, looking each request id up;
/// retries once if another writer got in between (the second attempt sees
/// what it wrote).
async fn import_ticket(
    bus: &CommandBus,
    ticket_id: &str,
    commands: Vec<ImportCommand>,
) -> Result<Outcome, CommandError> {
    for _ in 0..2 {
        let (ticket, version) = bus.load(ticket_id).await?;
        let planned = match plan(bus, ticket, version, &commands, true).await? {
            Ok(planned) => planned,
            Err(rejection) => return Ok(Outcome::Rejected(rejection)),
        };
        let collided = write(bus.db(), &[(planned.events.as_slice(), version)]).await?;
        if collided.first() == Some(&false) {
            return Ok(Outcome::Written {
                events: planned.events.len() as u64,
                duplicates: planned.duplicates,
            });
        }
    }
    Ok(Outcome::Rejected(Rejection {
        line: commands.first().map_or(0, |c| c.line),
        ticket_id: ticket_id.to_owned(),
        request_id: String::new(),
        reason: "another writer changed the ticket during the import; import it again".into(),
    }))
}

/// The events a ticket's lines record, decided one after the other on the
/// state the previous ones left.
struct Planned {
    events: Vec<NewEvent>,
    duplicates: u64,
}

async fn plan(
    bus: &CommandBus,
    mut ticket: Ticket,
    version: u64,
    commands: &[ImportCommand],
    lookup: bool,
) -> Result<Result<Planned, Rejection>, CommandError> {
    let services = bus.services();
    let mut events = Vec::new();
    let mut duplicates = 0;
    let mut seen: HashSet<&str> = HashSet::new();
    let mut sequence = version;
    // Whether the stored ticket has live events, asked once, and only when
    // a line would write (a second run of the same lines writes nothing).
    let mut live: Option<bool> = (version == 0).then_some(false);
    for c in commands {
        let r = &c.request;
        let reject = |reason: String| Rejection {
            line: c.line,
            ticket_id: r.ticket_id.clone(),
            request_id: r.request_id.clone(),
            reason,
        };
        if !seen.insert(r.request_id.as_str()) {
            return Ok(Err(reject(
                "request id appears twice in this ticket's lines".into(),
            )));
        }
        if lookup {
            if let Some(earlier) = bus.db().find_request(&r.request_id).await? {
                if earlier.ticket_id == r.ticket_id {
                    duplicates += 1;
                    continue;
                }
                return Ok(Err(reject(format!(
                    "request id was already used for ticket {}",
                    earlier.ticket_id
                ))));
            }
        }
        if live.is_none() {
            live = Some(bus.db().recorded_live(Ticket::TYPE, &r.ticket_id).await?);
        }
        if live == Some(true) {
            return Ok(Err(reject(format!(
                "ticket {} has events recorded live; an import never appends to a live ticket",
                r.ticket_id
            ))));
        }
        if !crate::access::may_be_imported_as(r.actor.role, &services.policies.access) {
            return Ok(Err(reject(format!(
                "role {} may not be stated by an import line (the policy's access.import_roles, docs/SECURITY.md)",
                r.actor.role
            ))));
        }
        debug_assert_eq!(r.when.recording, Recording::Import);
        let now = services.clock.now();
        let mut command = r.command.clone();
        bus.give_customer_id(&mut command).await?;
        let authored = domain::Authored {
            actor: r.actor.clone(),
            command,
            when: r.when,
        };
        let event = match ticket.decide(authored, now, &services.policies, &services.timing) {
            Ok(event) => event,
            Err(error) => return Ok(Err(reject(error.to_string()))),
        };
        ticket.apply(event.clone());
        sequence += 1;
        events.push(
            bus.record::<Ticket>(r, &ticket, event, sequence, &services)
                .await?,
        );
    }
    Ok(Ok(Planned { events, duplicates }))
}

/// Writes each ticket's new events (chained to its event at `version`) in
/// one transaction, each ticket in a savepoint: a ticket that collides
/// with a stored event (a taken version or request id) is rolled back
/// alone. Returns, per ticket, whether it collided.
async fn write(db: &Pool, tickets: &[(&[NewEvent], u64)]) -> Result<Vec<bool>, sqlx::Error> {
    let mut collided = Vec::with_capacity(tickets.len());
    match db {
        Pool::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            // The happy path: every ticket of the chunk in one statement.
            let mut rows = Vec::new();
            let mut hashes = Vec::new();
            for (events, version) in tickets {
                let Some(first) = events.first() else {
                    continue;
                };
                let previous = if *version == 0 {
                    String::new()
                } else {
                    let before = i64::try_from(*version).unwrap_or(i64::MAX);
                    hash_at_postgres(&mut tx, &first.aggregate_type, &first.aggregate_id, before)
                        .await?
                };
                hashes.extend(chain_hashes(events, &previous));
                rows.extend(events.iter().cloned());
            }
            sqlx::query("SAVEPOINT chunk").execute(&mut *tx).await?;
            match insert_rows_postgres(&mut tx, &rows, &hashes).await {
                Ok(()) => {
                    tx.commit().await?;
                    return Ok(vec![false; tickets.len()]);
                }
                Err(error) if is_unique_violation(&error) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT chunk")
                        .execute(&mut *tx)
                        .await?;
                }
                Err(error) => return Err(error),
            }
            // Some ticket collides: each in a savepoint of its own.
            for (events, version) in tickets {
                let Some(first) = events.first() else {
                    collided.push(false);
                    continue;
                };
                let before = i64::try_from(*version).unwrap_or(i64::MAX);
                sqlx::query("SAVEPOINT ticket").execute(&mut *tx).await?;
                let written = match hash_at_postgres(
                    &mut tx,
                    &first.aggregate_type,
                    &first.aggregate_id,
                    before,
                )
                .await
                {
                    Ok(previous) => insert_many_postgres(&mut tx, events, &previous).await,
                    Err(e) => Err(e),
                };
                let (clash, sql) = settle(written)?;
                sqlx::query(sql).execute(&mut *tx).await?;
                collided.push(clash);
            }
            tx.commit().await?;
        }
        Pool::Sqlite(pool) => {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            for (events, version) in tickets {
                let Some(first) = events.first() else {
                    collided.push(false);
                    continue;
                };
                let before = i64::try_from(*version).unwrap_or(i64::MAX);
                sqlx::query("SAVEPOINT ticket").execute(&mut *tx).await?;
                let mut written = if *version == 0 {
                    Ok(String::new())
                } else {
                    hash_at_sqlite(&mut tx, &first.aggregate_type, &first.aggregate_id, before)
                        .await
                };
                for event in events.iter() {
                    written = match written {
                        Ok(previous) => insert_sqlite(&mut tx, event, &previous).await,
                        Err(e) => Err(e),
                    };
                }
                let (clash, sql) = settle(written)?;
                sqlx::query(sql).execute(&mut *tx).await?;
                collided.push(clash);
            }
            tx.commit().await?;
        }
    }
    Ok(collided)
}

/// Whether the ticket collided, and the statement that ends its savepoint:
/// released, or rolled back on a collision; any other error ends the
/// transaction.
fn settle(written: Result<String, sqlx::Error>) -> Result<(bool, &'static str), sqlx::Error> {
    match written {
        Ok(_) => Ok((false, "RELEASE SAVEPOINT ticket")),
        Err(error) if is_unique_violation(&error) => Ok((true, "ROLLBACK TO SAVEPOINT ticket")),
        Err(error) => Err(error),
    }
}
