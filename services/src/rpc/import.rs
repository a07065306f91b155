//! `TicketImport.ImportTickets`, and the JSON Lines file `ticketd import`
//! reads: both turn `ImportLine`s into commands for [`crate::import`].

use domain::values::ActorId;
use domain::{Actor, Recording, Role, When};
use prost_reflect::{DescriptorPool, DynamicMessage};
use tonic::{Request, Response, Status, Streaming};

use super::build::from_import;
use super::commands::{optional_id, request_id};
use super::parse as p;
use super::pb;
use super::pb::ticket_import_server::TicketImport;
use super::status::{from_command_error, invalid_field};
use crate::bus::{CommandBus, CommandRequest};
use crate::import::{self, ImportCommand, Rejection, Report};

/// Most lines one import call takes; split larger histories.
pub const MAX_LINES: usize = 1_000_000;

/// Parses one line (`position`: its 1-based place, used when the line does
/// not number itself).
pub fn parse_line(line: &pb::ImportLine, position: u64) -> Result<ImportCommand, Rejection> {
    let number = if line.line > 0 { line.line } else { position };
    let Some(command) = &line.command else {
        return Err(rejection(number, "", "", "command is required".into()));
    };
    let (context, built) = from_import(command);
    let Some(context) = context else {
        return Err(rejection(number, "", "", "context is required".into()));
    };
    let raw_ticket = context.ticket_id.trim();
    let refuse = |reason: String| rejection(number, raw_ticket, context.request_id.trim(), reason);
    let field = |e: domain::ValueError| refuse(format!("{} {}", e.field, e.problem));
    let ticket_id = p::ticket_id("context.ticket_id", &context.ticket_id).map_err(field)?;
    let request = request_id("context.request_id", &context.request_id).map_err(field)?;
    let occurred_at = p::occurred_at(context.occurred_at.as_ref())
        .map_err(field)?
        .ok_or_else(|| {
            refuse(format!(
                "{} is required in an import",
                domain::timing::FIELD
            ))
        })?;
    let id = ActorId::parse(&line.actor_id).map_err(|e| field(e.at("actor_id")))?;
    let role = Role::parse(line.role.trim())
        .ok_or_else(|| refuse(format!("role {:?} is not a role", line.role.trim())))?;
    Ok(ImportCommand {
        line: number,
        request: CommandRequest {
            ticket_id,
            request_id: request,
            expected_version: None,
            actor: Actor { id, role },
            command: built.map_err(field)?,
            when: When {
                occurred_at: Some(occurred_at),
                recording: Recording::Import,
            },
            correlation_id: optional_id("context.correlation_id", &context.correlation_id)
                .map_err(field)?,
            causation_id: optional_id("context.causation_id", &context.causation_id)
                .map_err(field)?,
            imported_by: None,
        },
    })
}

fn rejection(line: u64, ticket_id: &str, request_id: &str, reason: String) -> Rejection {
    Rejection {
        line,
        ticket_id: ticket_id.to_owned(),
        request_id: request_id.to_owned(),
        reason,
    }
}

/// A line of a file: its number, and the line or why it is unreadable.
pub type NumberedLine = (u64, Result<pb::ImportLine, String>);

/// Decodes a JSON Lines file: each non-blank line an `ImportLine` in
/// proto3 JSON (docs/IMPORT.md), with its 1-based line number in the file.
pub fn decode_json_lines(text: &str) -> Result<Vec<NumberedLine>, String> {
    let pool = DescriptorPool::decode(super::DESCRIPTOR_SET).map_err(|e| e.to_string())?;
    let descriptor = pool
        .get_message_by_name("repair.v1.ImportLine")
        .ok_or("repair.v1.ImportLine is missing from the descriptors")?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, raw)| !raw.trim().is_empty())
        .map(|(i, raw)| {
            let mut json = serde_json::Deserializer::from_str(raw);
            let line = DynamicMessage::deserialize(descriptor.clone(), &mut json)
                .map_err(|e| e.to_string())
                .and_then(|m| {
                    m.transcode_to::<pb::ImportLine>()
                        .map_err(|e| e.to_string())
                })
                .map_err(|e| format!("not an import line: {e}"));
            (i as u64 + 1, line)
        })
        .collect())
}

/// Reads a JSON Lines file into commands (or the reason a line is refused).
pub fn read_json_lines(text: &str) -> Result<Vec<Result<ImportCommand, Rejection>>, String> {
    Ok(decode_json_lines(text)?
        .into_iter()
        .map(|(number, line)| match line {
            Ok(line) => parse_line(&line, number),
            Err(reason) => Err(rejection(number, "", "", reason)),
        })
        .collect())
}

pub fn to_pb(report: Report) -> pb::ImportReport {
    pb::ImportReport {
        lines: report.lines,
        events_written: report.events_written,
        duplicates: report.duplicates,
        tickets_imported: report.tickets_imported,
        tickets_rejected: report.tickets_rejected,
        rejections: report
            .rejections
            .into_iter()
            .map(|r| pb::ImportRejection {
                line: r.line,
                ticket_id: r.ticket_id,
                request_id: r.request_id,
                reason: r.reason,
            })
            .collect(),
    }
}

#[derive(Debug)]
pub struct ImportService {
    bus: std::sync::Arc<CommandBus>,
}

impl ImportService {
    pub fn new(bus: std::sync::Arc<CommandBus>) -> Self {
        Self { bus }
    }
}

#[tonic::async_trait]
impl TicketImport for ImportService {
    async fn import_tickets(
        &self,
        request: Request<Streaming<pb::ImportLine>>,
    ) -> Result<Response<pb::ImportReport>, Status> {
        let caller = p::caller(&request)?;
        if caller.role != Role::Importer {
            return Err(Status::permission_denied(format!(
                "role {} may not import history; the importer role imports",
                caller.role
            )));
        }
        let mut stream = request.into_inner();
        let mut lines = Vec::new();
        while let Some(line) = stream.message().await? {
            if lines.len() >= MAX_LINES {
                return Err(invalid_field(
                    "lines",
                    &format!("an import takes at most {MAX_LINES} lines; nothing was written"),
                ));
            }
            lines.push(parse_line(&line, lines.len() as u64 + 1));
        }
        let report = import::run(&self.bus, &caller, lines, |_| {})
            .await
            .map_err(from_command_error)?;
        Ok(Response::new(to_pb(report)))
    }
}
