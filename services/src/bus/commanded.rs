//! The aggregates the bus runs: what it needs of each beyond cqrs-es's
//! `Aggregate` ([`Commanded`]).

use chrono::{DateTime, Utc};
use domain::capa::{ActionCommand, ActionError, ActionEvent, CorrectiveAction};
use domain::personal::CustomerId;
use domain::{Ticket, TicketCommand, TicketError, TicketEvent};

use super::{CommandError, Commanded};

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

    fn occurred_at(event: &TicketEvent) -> DateTime<Utc> {
        event.occurred_at()
    }

    fn personal_fields(event: &TicketEvent) -> &'static [&'static str] {
        event.personal_fields()
    }

    fn data_subject(&self) -> Option<&CustomerId> {
        self.customer.as_ref().and_then(|c| c.id.as_ref())
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

    fn occurred_at(event: &ActionEvent) -> DateTime<Utc> {
        event.step().2
    }

    /// A corrective action is about products, never about a person.
    fn personal_fields(_: &ActionEvent) -> &'static [&'static str] {
        &[]
    }

    fn data_subject(&self) -> Option<&CustomerId> {
        None
    }
}
