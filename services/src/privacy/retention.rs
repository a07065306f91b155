//! The retention rule (the policy's `[privacy]`): a customer whose every
//! ticket was closed or cancelled more than the policy's years ago is
//! erased, as a data protection officer would erase them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Months, Utc};
use domain::personal::CustomerId;
use domain::values::{ActorId, Text};
use domain::{Actor, PrivacyPolicy, Role};
use projections::db::Val;
use tokio::sync::watch;

use super::{erase, Keyring, PrivacyError};
use crate::bus::CommandBus;
use crate::store::Pool;

/// How often a server applies the rule.
pub const INTERVAL: Duration = Duration::from_secs(3600);

/// Customers with a key whose tickets are all closed or cancelled, the
/// last of them before `$1`.
const DUE: &str = "SELECT s.customer_id FROM ticket_summary s
  JOIN customer_keys k ON k.customer_id = s.customer_id
 GROUP BY s.customer_id
HAVING SUM(CASE WHEN s.status IN ('closed', 'cancelled') AND s.updated_at < $1
                THEN 0 ELSE 1 END) = 0
 ORDER BY s.customer_id";

/// The actor the rule erases as.
fn retention_actor() -> Result<Actor, PrivacyError> {
    Ok(Actor {
        id: ActorId::parse("ticketd-retention").map_err(|e| PrivacyError::Shape(e.to_string()))?,
        role: Role::DataProtectionOfficer,
    })
}

/// Applies the rule once at `now`: erases every customer it makes due and
/// returns them. Off (`None`): nobody.
pub async fn sweep(
    db: &Pool,
    keyring: &Keyring,
    policy: &PrivacyPolicy,
    policy_label: &str,
    now: DateTime<Utc>,
) -> Result<Vec<CustomerId>, PrivacyError> {
    let Some(years) = policy.erase_customers_years_after_closing else {
        return Ok(Vec::new());
    };
    let Some(cutoff) = now.checked_sub_months(Months::new(years * 12)) else {
        return Ok(Vec::new());
    };
    let due = db.texts(DUE, vec![Val::At(cutoff)]).await?;
    let actor = retention_actor()?;
    let reason = Text::parse(&format!(
        "retention: every ticket closed more than {years} years ago (policy {policy_label})"
    ))
    .map_err(|e| PrivacyError::Shape(e.to_string()))?;
    let mut erased = Vec::new();
    for id in due
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
    {
        let Ok(customer) = CustomerId::parse(&id) else {
            continue;
        };
        let done = erase(db, keyring, &customer, &actor, reason.clone(), now).await?;
        if done.is_some_and(|e| !e.already) {
            erased.push(customer);
        }
    }
    Ok(erased)
}

/// Applies the rule every [`INTERVAL`] under the policy in force, until
/// `stop`.
pub async fn run(bus: Arc<CommandBus>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(INTERVAL) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        let services = bus.services();
        let policies = &services.policies;
        let result = sweep(
            bus.db(),
            bus.keyring(),
            &policies.privacy,
            &policies.version.label,
            services.clock.now(),
        )
        .await;
        match result {
            Ok(erased) if erased.is_empty() => {}
            Ok(erased) => {
                tracing::info!(customers = erased.len(), "retention: customers erased");
                bus.committed();
            }
            Err(error) => tracing::warn!(%error, "retention rule cannot run; will retry"),
        }
    }
}
