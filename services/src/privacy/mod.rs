//! Personal data that can be erased and still verifies (issue #18,
//! DOMAIN.md §12, docs/PRIVACY.md): the master key ([`key`]), customers'
//! keys and sealing and opening fields ([`keyring`]), and erasure (here).

pub mod key;
pub mod keyring;
pub mod retention;
pub mod settings;

use chrono::{DateTime, Utc};
use domain::personal::{CustomerEvent, CustomerId, CUSTOMER};
use domain::values::Text;
use domain::Actor;
use projections::db::Val;
use projections::log::append::{to_micros, NewEvent};
use projections::log::RawEvent;

pub use key::{KeyError, MasterKey};
pub use keyring::{Keyring, PrivacyError};

use crate::store::Pool;

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    pub customer: CustomerId,
    /// Erased by an earlier call: nothing was written now.
    pub already: bool,
    pub at: DateTime<Utc>,
}

const DELETE_KEY: &str = "DELETE FROM customer_keys WHERE customer_id = $1";
const LAST_ERASURE: &str =
    "SELECT CAST(sequence AS BIGINT), occurred_at, COALESCE(hash, '') FROM events
  WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence DESC LIMIT 1";

/// Erases `customer`: deletes their key and records `PersonalDataErased`
/// on their stream, in one transaction (either both or neither happen).
/// Erasing again changes nothing. `Ok(None)`: no such customer.
pub async fn erase(
    db: &Pool,
    keyring: &Keyring,
    customer: &CustomerId,
    by: &Actor,
    reason: Text,
    now: DateTime<Utc>,
) -> Result<Option<Erasure>, PrivacyError> {
    let mut tx = db.begin_write().await?;
    let id = Val::Text(customer.to_string());
    let deleted = tx.run(DELETE_KEY, vec![id.clone()]).await?;
    let stream = vec![Val::Text(CUSTOMER.into()), id];
    let last: Vec<(i64, DateTime<Utc>, String)> = tx.fetch(LAST_ERASURE, stream).await?;
    keyring.forget(customer);
    if deleted == 0 {
        // Nothing to delete: erased before, or never known.
        return Ok(last.into_iter().next().map(|(_, at, _)| Erasure {
            customer: customer.clone(),
            already: true,
            at,
        }));
    }
    let at = to_micros(now);
    let (sequence, previous) = last
        .into_iter()
        .next()
        .map_or((1, String::new()), |(s, _, hash)| (s + 1, hash));
    let event = CustomerEvent::PersonalDataErased {
        by: by.id.clone(),
        role: by.role,
        reason,
        at,
    };
    let new = erasure_event(customer, sequence, &event, by, at)?;
    tx.append(&new, &previous).await?;
    tx.commit().await?;
    Ok(Some(Erasure {
        customer: customer.clone(),
        already: false,
        at,
    }))
}

fn erasure_event(
    customer: &CustomerId,
    sequence: i64,
    event: &CustomerEvent,
    by: &Actor,
    at: DateTime<Utc>,
) -> Result<NewEvent, PrivacyError> {
    use cqrs_es::DomainEvent;
    let event_id = uuid::Uuid::new_v4().to_string();
    let mut metadata = serde_json::Map::new();
    metadata.insert("actor_id".into(), by.id.to_string().into());
    metadata.insert("actor_role".into(), by.role.as_str().into());
    metadata.insert("command".into(), "EraseCustomer".into());
    NewEvent::stamp_metadata(&mut metadata, &event_id, at, at);
    Ok(NewEvent {
        aggregate_type: CUSTOMER.into(),
        aggregate_id: customer.to_string(),
        sequence,
        event_type: event.event_type(),
        event_version: event.event_version(),
        payload: serde_json::to_value(event).map_err(|e| PrivacyError::Shape(e.to_string()))?,
        metadata: metadata.into(),
        event_id,
        recorded_at: at,
        occurred_at: at,
    })
}

/// `events` as a reader gets them: their personal fields opened where the
/// customer's key is in the store, erased where it is gone, with one look
/// at the key store for all of them (the keys as they are at that moment).
pub async fn open_events(
    keyring: &Keyring,
    mut events: Vec<RawEvent>,
) -> Result<Vec<RawEvent>, PrivacyError> {
    let sealed: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].payload.contains("\"sealed\""))
        .collect();
    if sealed.is_empty() {
        return Ok(events);
    }
    let mut payloads = sealed
        .iter()
        .map(|&i| serde_json::from_str::<serde_json::Value>(&events[i].payload))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| PrivacyError::Shape(err.to_string()))?;
    keyring.open_all(&mut payloads).await?;
    for (i, payload) in sealed.into_iter().zip(payloads) {
        events[i].payload = payload.to_string();
    }
    Ok(events)
}
