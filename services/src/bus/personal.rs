//! Personal data on the way into the store: a first contact gets its
//! customer id, and every event's personal fields are sealed under that
//! customer's key before the row is made (see `crate::privacy`).

use std::sync::Arc;

use domain::personal::Personal;
use domain::{Ticket, TicketCommand, TicketServices};
use projections::log::append::NewEvent;

use super::{new_event, CommandBus, CommandError, CommandRequest, Commanded};
use crate::privacy::{Keyring, PrivacyError};

impl From<PrivacyError> for CommandError {
    fn from(error: PrivacyError) -> Self {
        match error {
            PrivacyError::Store(e) => CommandError::from(e),
            other => CommandError::Internal(other.to_string()),
        }
    }
}

impl CommandBus {
    /// The customers' keys this bus seals with.
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    /// Gives a ticket's first contact its customer: the one the store knows
    /// by this phone number, else a new one (with a new key). Other
    /// commands are left as they are.
    pub(crate) async fn give_customer_id(
        &self,
        command: &mut TicketCommand,
    ) -> Result<(), CommandError> {
        let TicketCommand::ReceiveTicket(receive) = command else {
            return Ok(());
        };
        let customer = &mut receive.customer;
        if customer.id.is_some() {
            return Ok(());
        }
        if let Personal::Known(phone) = &customer.phone {
            customer.id = Some(self.keyring.customer_for(phone).await?);
        }
        Ok(())
    }

    /// [`new_event`] with the event's personal fields sealed under the
    /// data subject's key: the one way a command's event becomes a row.
    pub(crate) async fn record<A: Commanded>(
        &self,
        request: &CommandRequest<A::Cmd>,
        after: &A,
        event: A::Event,
        sequence: u64,
        services: &TicketServices,
    ) -> Result<NewEvent, CommandError> {
        let personal = A::personal_fields(&event);
        let mut new = new_event::<A>(request, after, event, sequence, services)?;
        self.keyring
            .seal(
                &mut new.payload,
                &new.event_type,
                personal,
                after.data_subject(),
            )
            .await?;
        Ok(new)
    }
}

/// A ticket's customer as a reader may see it: sealed fields opened with
/// the customer's key, every field erased once the key is gone (also those
/// a cached state holds in clear).
pub async fn reveal(keyring: &Keyring, ticket: &Ticket) -> Result<Ticket, PrivacyError> {
    let mut ticket = ticket.clone();
    if let Some(customer) = ticket.customer.as_mut() {
        keyring.reveal(customer).await?;
    }
    Ok(ticket)
}
