//! The ticket summary: one row per ticket with what lists filter on.
//! [`change_for`] says what an event does to the row; the store modules
//! turn that into SQL.

use chrono::{DateTime, Utc};
use domain::{TicketEvent, TicketStatus};

use async_trait::async_trait;

use crate::db::{Tx, Val};
use crate::engine::{Context, Projection, Target};
use crate::log::{LoggedEvent, RawEvent};
use crate::rows::{self, Conflict, Write};
use crate::ProjectionError;

/// The projection's table.
pub const TABLE: &str = "ticket_summary";

/// The ticket summary read model: one row per ticket.
#[derive(Debug, Clone, Copy, Default)]
pub struct TicketSummary;

#[async_trait]
impl Projection for TicketSummary {
    fn name(&self) -> &'static str {
        crate::TICKET_SUMMARY
    }

    fn tables(&self) -> &'static [&'static str] {
        &[TABLE]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        at: &Target,
        batch: &[RawEvent],
        _: &Context,
    ) -> Result<(), ProjectionError> {
        let mut changes = Vec::with_capacity(batch.len());
        for raw in batch.iter().filter(|e| e.aggregate_type == crate::TICKET) {
            changes.push(change_for(&raw.decode()?));
        }
        rows::apply(tx, writes(&at.table(TABLE), coalesce(changes))).await?;
        Ok(())
    }
}

/// The writes of a coalesced batch, set-based on both stores: every new
/// row in one multi-row `INSERT`, every update in one `UPDATE … FROM` a
/// list of values (split under the parameter limit).
fn writes(table: &str, changes: Vec<Change>) -> Vec<Write> {
    let (mut out, mut updates) = (Vec::new(), Vec::new());
    for change in changes {
        match change {
            Change::Insert(r) => out.push(
                Write::row(
                    table,
                    vec![
                        ("ticket_id", Val::Text(r.ticket_id)),
                        ("version", Val::Int(r.version)),
                        ("status", Val::Text(r.status.as_str().to_owned())),
                        ("kind", Val::Text(r.kind)),
                        ("priority", Val::Text(r.priority)),
                        ("customer_name", Val::Text(r.customer_name)),
                        ("customer_phone", Val::Text(r.customer_phone)),
                        ("customer_id", Val::OptText(r.customer_id)),
                        ("serial_number", Val::Text(r.serial_number)),
                        ("product_model", Val::Text(r.product_model)),
                        ("received_at", Val::At(r.received_at)),
                        ("updated_at", Val::At(r.received_at)),
                    ],
                )
                .on_conflict(Conflict::Ignore),
            ),
            Change::Update {
                ticket_id,
                version,
                updated_at,
                status,
                technician,
            } => updates.push(vec![
                Val::Text(ticket_id),
                Val::Int(version),
                Val::At(updated_at),
                Val::OptText(status.map(|s| s.as_str().to_owned())),
                Val::OptText(technician),
            ]),
        }
    }
    for chunk in updates.chunks(rows::MAX_PARAMS / 5) {
        let sql = format!(
            "WITH u (ticket_id, version, updated_at, status, technician) AS (VALUES {})
             UPDATE {table} SET version = u.version, updated_at = u.updated_at,
                    status = COALESCE(u.status, {table}.status),
                    technician = COALESCE(u.technician, {table}.technician)
               FROM u WHERE {table}.ticket_id = u.ticket_id",
            rows::tuples(chunk.len(), 5)
        );
        out.push(Write::Run(sql, chunk.concat()));
    }
    out
}

/// A new row, written when a ticket is received.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRow {
    pub ticket_id: String,
    pub version: i64,
    pub status: TicketStatus,
    pub kind: String,
    pub priority: String,
    /// The name and phone as the event stores them (JSON, sealed).
    pub customer_name: String,
    pub customer_phone: String,
    pub customer_id: Option<String>,
    pub serial_number: String,
    pub product_model: String,
    pub received_at: DateTime<Utc>,
}

/// What one event does to the summary.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Insert(NewRow),
    Update {
        ticket_id: String,
        version: i64,
        updated_at: DateTime<Utc>,
        /// `None`: unchanged.
        status: Option<TicketStatus>,
        /// `None`: unchanged.
        technician: Option<String>,
    },
}

/// A personal field as the event stores it: never a copy in clear.
fn stored<T: serde::Serialize>(field: &domain::personal::Personal<T>) -> String {
    serde_json::to_string(field).unwrap_or_default()
}

/// What `logged` does to its ticket's row. Every event type has an arm.
pub fn change_for(logged: &LoggedEvent) -> Change {
    match &logged.event {
        TicketEvent::TicketReceived {
            kind,
            customer,
            product,
            priority,
            received_at,
            ..
        } => Change::Insert(NewRow {
            ticket_id: logged.ticket_id.clone(),
            version: logged.sequence,
            status: TicketStatus::Received,
            kind: kind.as_str().to_owned(),
            priority: priority.as_str().to_owned(),
            customer_name: stored(&customer.name),
            customer_phone: stored(&customer.phone),
            customer_id: customer.id.as_ref().map(ToString::to_string),
            serial_number: product.serial.to_string(),
            product_model: product.model.to_string(),
            received_at: *received_at,
        }),
        // Every other event moves the version and time; its status and
        // technician (if it sets them) come from the domain.
        event @ TicketEvent::WarrantyDetermined { .. }
        | event @ TicketEvent::TechnicianDispatched { .. }
        | event @ TicketEvent::TechnicianArrived { .. }
        | event @ TicketEvent::FaultDiagnosed { .. }
        | event @ TicketEvent::ResolvedRemotely { .. }
        | event @ TicketEvent::RepairQuoted { .. }
        | event @ TicketEvent::QuoteApproved { .. }
        | event @ TicketEvent::QuoteAccepted { .. }
        | event @ TicketEvent::QuoteDeclined { .. }
        | event @ TicketEvent::FeeWaiverApproved { .. }
        | event @ TicketEvent::SentToFactory { .. }
        | event @ TicketEvent::ReturnedFromFactory { .. }
        | event @ TicketEvent::ExchangeShipped { .. }
        | event @ TicketEvent::RepairRecorded { .. }
        | event @ TicketEvent::QcPassed { .. }
        | event @ TicketEvent::QcFailed { .. }
        | event @ TicketEvent::ItemShipped { .. }
        | event @ TicketEvent::ItemDelivered { .. }
        | event @ TicketEvent::InvoiceIssued { .. }
        | event @ TicketEvent::PaymentRecorded { .. }
        | event @ TicketEvent::CustomerRevisited { .. }
        | event @ TicketEvent::TicketClosed { .. }
        | event @ TicketEvent::TicketReopened { .. }
        | event @ TicketEvent::TicketCancelled { .. }
        | event @ TicketEvent::TicketEscalated { .. }
        | event @ TicketEvent::RepairCycleExtended { .. }
        | event @ TicketEvent::ComplaintRouted { .. }
        | event @ TicketEvent::ComplaintReplied { .. }
        | event @ TicketEvent::RefundApproved { .. }
        | event @ TicketEvent::ItemReturned { .. }
        | event @ TicketEvent::RefundPaid { .. }
        | event @ TicketEvent::DispatchAccepted { .. }
        | event @ TicketEvent::DispatchDeclined { .. }
        | event @ TicketEvent::ItemTakenIn { .. }
        | event @ TicketEvent::ItemHandedBack { .. }
        | event @ TicketEvent::CustomerContacted { .. }
        | event @ TicketEvent::TechnicianBack { .. }
        | event @ TicketEvent::TripReportFiled { .. }
        | event @ TicketEvent::InquiryAnswered { .. }
        | event @ TicketEvent::InstallationScheduled { .. }
        | event @ TicketEvent::ItemInstalled { .. }
        | event @ TicketEvent::InstallationAccepted { .. }
        | event @ TicketEvent::MaintenanceVisitDone { .. } => Change::Update {
            ticket_id: logged.ticket_id.clone(),
            version: logged.sequence,
            updated_at: logged.occurred_at,
            status: event.resulting_status(),
            technician: event.technician().map(ToString::to_string),
        },
    }
}

/// The net effect of a batch of changes, for writing it with one statement
/// per kind: every insert first (a ticket's receipt is always its first
/// event), then at most one update per ticket that carries its last version
/// and time and the last status and technician any of its events set.
/// Writing the result gives the same rows as applying `changes` one by one.
pub fn coalesce(changes: impl IntoIterator<Item = Change>) -> Vec<Change> {
    let (mut inserts, mut updates) = (Vec::new(), Vec::new());
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for change in changes {
        match change {
            Change::Insert(_) => inserts.push(change),
            Change::Update { ref ticket_id, .. } if !at.contains_key(ticket_id) => {
                at.insert(ticket_id.clone(), updates.len());
                updates.push(change);
            }
            Change::Update {
                ticket_id,
                version,
                updated_at,
                status,
                technician,
            } => {
                if let Some(Change::Update {
                    version: v,
                    updated_at: u,
                    status: s,
                    technician: t,
                    ..
                }) = updates.get_mut(at[&ticket_id])
                {
                    (*v, *u) = (version, updated_at);
                    *s = status.or(s.take());
                    *t = technician.or(t.take());
                }
            }
        }
    }
    inserts.extend(updates);
    inserts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sortable_time;
    use chrono::TimeZone;

    fn logged(event: TicketEvent) -> LoggedEvent {
        LoggedEvent {
            position: 7,
            ticket_id: "T-1".into(),
            sequence: 3,
            recorded_at: Utc
                .with_ymd_and_hms(2026, 3, 20, 2, 0, 0)
                .single()
                .expect("instant"),
            occurred_at: Utc
                .with_ymd_and_hms(2026, 3, 20, 2, 0, 0)
                .single()
                .expect("instant"),
            event,
        }
    }

    fn update(id: &str, version: i64, status: Option<TicketStatus>, tech: Option<&str>) -> Change {
        Change::Update {
            ticket_id: id.into(),
            version,
            updated_at: Utc
                .with_ymd_and_hms(2026, 3, 20, 2, 0, 0)
                .single()
                .expect("instant")
                + chrono::Duration::minutes(version),
            status,
            technician: tech.map(Into::into),
        }
    }

    #[test]
    fn coalescing_keeps_one_update_per_ticket_with_the_last_of_each_field() {
        let changes = vec![
            update("T-1", 2, Some(TicketStatus::Diagnosed), Some("tech-1")),
            update("T-2", 5, None, None),
            update("T-1", 3, None, None),
            update("T-1", 4, Some(TicketStatus::Repaired), None),
        ];
        assert_eq!(
            coalesce(changes),
            vec![
                update("T-1", 4, Some(TicketStatus::Repaired), Some("tech-1")),
                update("T-2", 5, None, None),
            ]
        );
    }

    #[test]
    fn coalescing_puts_every_insert_before_the_updates() {
        let received = Change::Insert(NewRow {
            ticket_id: "T-9".into(),
            version: 1,
            status: TicketStatus::Received,
            kind: "repair".into(),
            priority: "normal".into(),
            customer_name: "Li Lei".into(),
            customer_phone: "+86 138 0013 8000".into(),
            customer_id: Some("c-9".into()),
            serial_number: "SN-9".into(),
            product_model: "WM-800".into(),
            received_at: Utc::now(),
        });
        let changes = vec![
            update("T-0", 7, None, None),
            received.clone(),
            update("T-9", 2, None, None),
        ];
        assert_eq!(
            coalesce(changes),
            vec![
                received,
                update("T-0", 7, None, None),
                update("T-9", 2, None, None)
            ]
        );
    }

    #[test]
    fn qc_passed_moves_the_row_to_qc_passed_and_keeps_the_technician() {
        let event = TicketEvent::QcPassed {
            inspector: domain::values::ActorId::parse("qc-1").expect("id"),
            at: Utc::now(),
        };
        match change_for(&logged(event)) {
            Change::Update {
                status,
                technician,
                version,
                ..
            } => {
                assert_eq!(status, Some(TicketStatus::QcPassed));
                assert_eq!(technician, None);
                assert_eq!(version, 3);
            }
            other => panic!("expected an update, got {other:?}"),
        }
    }

    #[test]
    fn escalation_changes_only_the_version() {
        let event = TicketEvent::TicketEscalated {
            reason: domain::values::Text::parse("major fault").expect("text"),
            to: domain::Role::GeneralManager,
            at: Utc::now(),
        };
        assert!(matches!(
            change_for(&logged(event)),
            Change::Update {
                status: None,
                technician: None,
                ..
            }
        ));
    }

    #[test]
    fn sortable_time_has_microseconds_and_z() {
        let t = Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .expect("instant");
        assert_eq!(sortable_time(t), "2026-01-02T03:04:05.000000Z");
    }
}
