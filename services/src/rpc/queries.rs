//! The `TicketQueries` service.

use std::sync::Arc;

use chrono::DateTime;
use domain::values::Problem;
use projections::query::{list, ListFilter};
use tonic::{Request, Response, Status};

use super::parse::{self as p, to_timestamp};
use super::pb;
use super::pb::ticket_queries_server::TicketQueries;
use super::status::{from_command_error, from_sqlx, invalid, invalid_field};
use super::views;
use crate::access;
use crate::bus::CommandBus;
use crate::store::Pool;

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

#[derive(Debug)]
pub struct QueryService {
    bus: Arc<CommandBus>,
    db: Pool,
}

impl QueryService {
    pub fn new(bus: Arc<CommandBus>, db: Pool) -> Self {
        Self { bus, db }
    }

    /// The customer a `customer` filter names: a phone number (found by its
    /// keyed lookup) or a customer id. `None`: no such customer.
    async fn customer_id(&self, raw: &str) -> Result<Option<String>, Status> {
        if let Ok(phone) = domain::values::PhoneNumber::parse(raw) {
            let found = self
                .bus
                .keyring()
                .find_by_phone(&phone)
                .await
                .map_err(|e| Status::internal(e.to_string()))?;
            if let Some(id) = found {
                return Ok(Some(id.to_string()));
            }
        }
        Ok(domain::personal::CustomerId::parse(raw)
            .ok()
            .map(|id| id.to_string()))
    }
}

fn optional(raw: &str) -> Option<String> {
    Some(raw.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Page tokens are `<received_at micros>:<ticket_id>` of the last row served.
fn encode_token(row: &projections::query::SummaryRow) -> String {
    format!("{}:{}", row.received_at.timestamp_micros(), row.ticket_id)
}

fn decode_token(raw: &str) -> Result<Option<(chrono::DateTime<chrono::Utc>, String)>, Status> {
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = || invalid_field("page_token", "is not a token this server issued");
    let (micros, id) = raw.split_once(':').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let at = DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
    Ok(Some((at, id.to_owned())))
}

#[tonic::async_trait]
impl TicketQueries for QueryService {
    async fn get_ticket(
        &self,
        request: Request<pb::GetTicketRequest>,
    ) -> Result<Response<pb::Ticket>, Status> {
        let (actor, grants) = (p::caller(&request)?, p::grants(&request));
        let id =
            p::ticket_id("ticket_id", &request.into_inner().ticket_id).map_err(|e| invalid(&e))?;
        let (ticket, version) = self.bus.load(&id).await.map_err(from_command_error)?;
        if version == 0 {
            return Err(Status::not_found(format!("ticket {id} not found")));
        }
        let dispatched = ticket.technician.as_ref() == Some(&actor.id);
        let sight = access::sight(actor.role, grants, dispatched);
        let ticket = if sight == access::Sight::NOTHING {
            ticket
        } else {
            crate::bus::reveal(self.bus.keyring(), &ticket)
                .await
                .map_err(|e| Status::internal(e.to_string()))?
        };
        let mut view = views::ticket(&id, version, &ticket);
        if let Some(customer) = view.customer.as_mut() {
            views::shown(customer, sight);
        }
        Ok(Response::new(view))
    }

    async fn list_tickets(
        &self,
        request: Request<pb::ListTicketsRequest>,
    ) -> Result<Response<pb::ListTicketsResponse>, Status> {
        let (actor, grants) = (p::caller(&request)?, p::grants(&request));
        let m = request.into_inner();
        if !m.customer.trim().is_empty() && !access::finds_by_customer(actor.role, grants) {
            return Err(Status::permission_denied(format!(
                "customer: role {} may not find tickets by customer; that is for the roles that see customers in clear (docs/SECURITY.md)",
                actor.role
            )));
        }
        let statuses = m
            .statuses
            .iter()
            .enumerate()
            .map(|(i, raw)| {
                views::status_from_pb(*raw)
                    .map(|s| s.as_str().to_owned())
                    .ok_or_else(|| {
                        invalid_field(
                            &format!("statuses[{i}]"),
                            &format!("has unknown value {raw}"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if m.page_size > MAX_PAGE {
            return Err(invalid(
                &Problem::OutOfRange {
                    min: 0,
                    max: i64::from(MAX_PAGE),
                }
                .at("page_size"),
            ));
        }
        let page = if m.page_size == 0 {
            DEFAULT_PAGE
        } else {
            m.page_size
        };
        let customer_id = match optional(&m.customer) {
            None => None,
            Some(raw) => match self.customer_id(&raw).await? {
                Some(id) => Some(id),
                // Nobody by that number: nothing to list.
                None => {
                    return Ok(Response::new(pb::ListTicketsResponse::default()));
                }
            },
        };
        let filter = ListFilter {
            statuses,
            customer_id,
            serial_number: optional(&m.serial_number),
            product_model: optional(&m.product_model),
            technician: optional(&m.technician),
            received_from: p::optional_timestamp("received_from", m.received_from.as_ref())
                .map_err(|e| invalid(&e))?,
            received_to: p::optional_timestamp("received_to", m.received_to.as_ref())
                .map_err(|e| invalid(&e))?,
            after: decode_token(&m.page_token)?,
            // One more than asked tells whether another page follows.
            limit: i64::from(page) + 1,
        };
        let mut rows = list(&self.db, &filter).await.map_err(from_sqlx)?;
        let more = rows.len() > page as usize;
        rows.truncate(page as usize);
        let next_page_token = if more {
            rows.last().map(encode_token).unwrap_or_default()
        } else {
            String::new()
        };
        let sealed: Vec<String> = rows
            .iter()
            .flat_map(|r| [r.customer_name.clone(), r.customer_phone.clone()])
            .collect();
        let opened = self
            .bus
            .keyring()
            .open_stored(&sealed)
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
        let mut opened = opened.into_iter();
        let tickets = rows
            .into_iter()
            .map(|r| {
                let dispatched = r.technician.as_deref() == Some(actor.id.as_str());
                let mut customer = pb::Customer {
                    name: opened.next().unwrap_or_default(),
                    phone: opened.next().unwrap_or_default(),
                    ..Default::default()
                };
                let sight = access::Sight {
                    address: true,
                    ..access::sight(actor.role, grants, dispatched)
                };
                views::shown(&mut customer, sight);
                (r, customer)
            })
            .map(|(r, customer)| pb::TicketSummary {
                customer_name: customer.name,
                customer_phone: customer.phone,
                personal_data_redacted: customer.personal_data_redacted,
                customer_phone_last_digits: customer.phone_last_digits,
                status: views::status_from_name(&r.status) as i32,
                kind: domain::ticket::types::TicketKind::ALL
                    .iter()
                    .find(|k| k.as_str() == r.kind)
                    .map_or(0, |k| p::ticket_kind_pb(*k) as i32),
                priority: domain::ticket::types::Priority::ALL
                    .iter()
                    .find(|k| k.as_str() == r.priority)
                    .map_or(0, |k| p::priority_pb(*k) as i32),
                ticket_id: r.ticket_id,
                version: u64::try_from(r.version).unwrap_or_default(),
                serial_number: r.serial_number,
                product_model: r.product_model,
                technician: r.technician.unwrap_or_default(),
                received_at: Some(to_timestamp(r.received_at)),
                updated_at: Some(to_timestamp(r.updated_at)),
            })
            .collect();
        Ok(Response::new(pb::ListTicketsResponse {
            tickets,
            next_page_token,
        }))
    }

    async fn list_items_in_custody(
        &self,
        request: Request<pb::ListItemsInCustodyRequest>,
    ) -> Result<Response<pb::ListItemsInCustodyResponse>, Status> {
        let location = optional(&request.into_inner().location);
        let held = crate::lists::held(&self.db, location.as_deref())
            .await
            .map_err(from_sqlx)?;
        let items = held
            .into_iter()
            .map(|h| pb::ItemInCustody {
                ticket_id: h.ticket_id,
                receipt_number: h.custody.receipt_number.to_string(),
                since: Some(to_timestamp(h.custody.since)),
                location: h.custody.location.to_string(),
            })
            .collect();
        Ok(Response::new(pb::ListItemsInCustodyResponse { items }))
    }

    async fn list_escalations(
        &self,
        request: Request<pb::ListEscalationsRequest>,
    ) -> Result<Response<pb::ListEscalationsResponse>, Status> {
        let actor = p::caller(&request)?;
        use domain::Role as R;
        if !matches!(
            actor.role,
            R::GeneralManager | R::SalesVp | R::ServiceManager | R::Auditor
        ) {
            return Err(Status::permission_denied(format!(
                "role {} may not list escalations",
                actor.role
            )));
        }
        let open = crate::lists::escalated(&self.db).await.map_err(from_sqlx)?;
        let tickets = open
            .into_iter()
            .map(|e| pb::EscalatedTicket {
                ticket_id: e.ticket_id,
                since: Some(to_timestamp(e.escalation.since)),
                reason: e.escalation.reason,
                major_fault: e.escalation.major_fault,
            })
            .collect();
        Ok(Response::new(pb::ListEscalationsResponse { tickets }))
    }
}
