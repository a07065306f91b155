//! Customers' keys in the store (`customer_keys`), and sealing and opening
//! the personal fields of events with them.
//!
//! Invariant: a personal field enters the `events` table only sealed
//! ([`Keyring::seal`] is called on every event the command bus and the
//! import write), and leaves a reader in clear only through
//! [`Keyring::open`], which reads the keys from the store on every call:
//! once a customer is erased no reader, on any replica, opens their fields.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use domain::personal::{CustomerId, Personal};
use domain::ticket::types::Customer;
use domain::values::PhoneNumber;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::key::{CustomerKey, KeyError, MasterKey};
use crate::store::Pool;
use projections::db::Val;

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("key store: {0}")]
    Store(#[from] sqlx::Error),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{0}")]
    Shape(String),
}

/// The keys of the store's customers, under the process's master key.
pub struct Keyring {
    db: Pool,
    master: MasterKey,
    /// Keys this process sealed with lately: sealing only (opening always
    /// asks the store, see the module docs).
    sealing: Mutex<HashMap<String, CustomerKey>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").finish_non_exhaustive()
    }
}

/// The lookup text of a phone number: its digits.
fn phone_digits(phone: &PhoneNumber) -> String {
    let digits: String = phone
        .as_str()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    format!("phone:{digits}")
}

const BY_LOOKUP: &str = "SELECT customer_id FROM customer_keys WHERE lookup = $1";
const INSERT: &str = "INSERT INTO customer_keys (customer_id, lookup, wrapped) VALUES ($1, $2, $3)
  ON CONFLICT (lookup) DO NOTHING";

impl Keyring {
    pub fn new(db: Pool, master: MasterKey) -> Self {
        Self {
            db,
            master,
            sealing: Mutex::new(HashMap::new()),
        }
    }

    /// The customer with this phone number: the one the store knows, or a
    /// new one with a new key.
    pub async fn customer_for(&self, phone: &PhoneNumber) -> Result<CustomerId, PrivacyError> {
        if let Some(found) = self.find_by_phone(phone).await? {
            return Ok(found);
        }
        let lookup = self.master.lookup(&phone_digits(phone));
        let id = CustomerId::parse(&uuid::Uuid::new_v4().simple().to_string())
            .map_err(|e| PrivacyError::Shape(e.to_string()))?;
        let key = CustomerKey::generate();
        let wrapped = self.master.wrap(id.as_str(), &key);
        let mut tx = self.db.begin().await?;
        let vals = vec![
            Val::Text(id.to_string()),
            Val::Text(lookup.clone()),
            Val::Text(wrapped),
        ];
        tx.run(INSERT, vals).await?;
        tx.commit().await?;
        // A racing first contact with the same number may have won.
        let id = self
            .find(&lookup)
            .await?
            .ok_or_else(|| PrivacyError::Shape("a new customer key vanished".into()))?;
        Ok(id)
    }

    /// The customer with this phone number, if the store knows one. A row
    /// an earlier version keyed with the master key itself is found by
    /// its old lookup and re-keyed to the derived one on the way.
    pub async fn find_by_phone(
        &self,
        phone: &PhoneNumber,
    ) -> Result<Option<CustomerId>, PrivacyError> {
        let digits = phone_digits(phone);
        let lookup = self.master.lookup(&digits);
        if let Some(found) = self.find(&lookup).await? {
            return Ok(Some(found));
        }
        let legacy = self.master.legacy_lookup(&digits);
        let Some(found) = self.find(&legacy).await? else {
            return Ok(None);
        };
        let mut tx = self.db.begin().await?;
        tx.run(
            "UPDATE customer_keys SET lookup = $1 WHERE lookup = $2",
            vec![Val::Text(lookup), Val::Text(legacy)],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(found))
    }

    async fn find(&self, lookup: &str) -> Result<Option<CustomerId>, PrivacyError> {
        let rows = self
            .db
            .texts(BY_LOOKUP, vec![Val::Text(lookup.to_owned())])
            .await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
            .and_then(|id| CustomerId::parse(&id).ok()))
    }

    /// The keys of `customers` the store still holds (an erased one has
    /// none), in one query.
    async fn keys(
        &self,
        customers: &HashSet<String>,
    ) -> Result<HashMap<String, CustomerKey>, PrivacyError> {
        if customers.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<String> = customers.iter().cloned().collect();
        let params: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT customer_id, wrapped FROM customer_keys WHERE customer_id IN ({})",
            params.join(", ")
        );
        let rows = self
            .db
            .texts(&sql, ids.into_iter().map(Val::Text).collect())
            .await?;
        let mut keys = HashMap::new();
        for row in rows {
            if let [Some(id), Some(wrapped)] = row.as_slice() {
                keys.insert(id.clone(), self.master.unwrap(id, wrapped)?);
            }
        }
        Ok(keys)
    }

    /// Whether the customer's key is gone.
    pub async fn is_erased(&self, customer: &CustomerId) -> Result<bool, PrivacyError> {
        let ids = HashSet::from([customer.to_string()]);
        Ok(self.keys(&ids).await?.is_empty())
    }

    /// Forgets a key this process sealed with (after an erasure).
    pub fn forget(&self, customer: &CustomerId) {
        self.sealing
            .lock()
            .expect("keyring lock")
            .remove(customer.as_str());
    }

    /// Seals the personal fields at `paths` (inside `{"<event_type>": {...}}`)
    /// of a payload about `customer`. A field already sealed or erased, or
    /// absent, is left as it is. Personal data with no customer to seal it
    /// for is refused, never stored in clear.
    pub async fn seal(
        &self,
        payload: &mut Value,
        event_type: &str,
        paths: &[&str],
        customer: Option<&CustomerId>,
    ) -> Result<(), PrivacyError> {
        if paths.is_empty() {
            return Ok(());
        }
        let Some(fields) = payload.get_mut(event_type) else {
            return Err(PrivacyError::Shape(format!("not a {event_type} payload")));
        };
        let targets: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|p| fields.pointer(p).is_some_and(is_clear))
            .collect();
        if targets.is_empty() {
            return Ok(());
        }
        let customer = customer.ok_or_else(|| {
            PrivacyError::Shape(format!(
                "{event_type} holds personal data but the ticket has no customer id"
            ))
        })?;
        let key = self.sealing_key(customer).await?;
        for path in targets {
            if let Some(value) = fields.pointer_mut(path) {
                let plain =
                    serde_json::to_vec(value).map_err(|e| PrivacyError::Shape(e.to_string()))?;
                let sealed = Personal::<Value>::Sealed(Box::new(domain::personal::SealedValue {
                    customer: customer.clone(),
                    data: key.seal(customer.as_str(), &plain),
                }));
                *value = serde_json::to_value(&sealed)
                    .map_err(|e| PrivacyError::Shape(e.to_string()))?;
            }
        }
        Ok(())
    }

    async fn sealing_key(&self, customer: &CustomerId) -> Result<CustomerKey, PrivacyError> {
        if let Some(key) = self
            .sealing
            .lock()
            .expect("keyring lock")
            .get(customer.as_str())
        {
            return Ok(key.clone());
        }
        let ids = HashSet::from([customer.to_string()]);
        let key = self
            .keys(&ids)
            .await?
            .remove(customer.as_str())
            .ok_or_else(|| {
                PrivacyError::Shape(format!(
                    "customer {customer} is erased: nothing personal is recorded about them"
                ))
            })?;
        self.sealing
            .lock()
            .expect("keyring lock")
            .insert(customer.to_string(), key.clone());
        Ok(key)
    }

    /// Makes `customer` what a reader may see: sealed fields opened with the
    /// key, or every personal field erased once the key is gone (also
    /// those a cached state holds in clear). A customer recorded before
    /// personal data was sealed (no id) is left as recorded.
    pub async fn reveal(&self, customer: &mut Customer) -> Result<(), PrivacyError> {
        let Some(id) = customer.id.clone() else {
            return Ok(());
        };
        let keys = self.keys(&HashSet::from([id.to_string()])).await?;
        match keys.get(id.as_str()) {
            None => {
                customer.name = Personal::Erased;
                customer.phone = Personal::Erased;
                customer.address = Personal::Erased;
            }
            Some(key) => {
                open_field(key, &mut customer.name)?;
                open_field(key, &mut customer.phone)?;
                open_field(key, &mut customer.address)?;
            }
        }
        Ok(())
    }

    /// Personal fields as a read model keeps them (the JSON of a
    /// `Personal`, or text in clear from before sealing) as a reply shows
    /// them: in clear, or empty once the customer is erased.
    pub async fn open_stored(&self, stored: &[String]) -> Result<Vec<String>, PrivacyError> {
        let parsed = stored
            .iter()
            .map(|s| serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())))
            .collect();
        let mut all = Value::Array(parsed);
        self.open(&mut all).await?;
        let Value::Array(opened) = all else {
            return Err(PrivacyError::Shape("opening changed a list".into()));
        };
        Ok(opened
            .into_iter()
            .map(|v| match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_) => String::new(),
            })
            .collect())
    }

    /// Opens every sealed value in `payload`: in clear where the customer's
    /// key is in the store, `{"erased": true}` where it is gone.
    pub async fn open(&self, payload: &mut Value) -> Result<(), PrivacyError> {
        self.open_all(std::slice::from_mut(payload)).await
    }

    /// [`Keyring::open`] for several payloads, with one query for the keys
    /// of all their customers.
    pub async fn open_all(&self, payloads: &mut [Value]) -> Result<(), PrivacyError> {
        let mut customers = HashSet::new();
        for payload in payloads.iter() {
            collect(payload, &mut customers);
        }
        if customers.is_empty() {
            return Ok(());
        }
        let keys = self.keys(&customers).await?;
        for payload in payloads.iter_mut() {
            replace(payload, &keys)?;
        }
        Ok(())
    }
}

fn open_field<T: DeserializeOwned>(
    key: &CustomerKey,
    field: &mut Personal<T>,
) -> Result<(), PrivacyError> {
    if let Personal::Sealed(sealed) = field {
        let plain = key.open(sealed.customer.as_str(), &sealed.data)?;
        let value =
            serde_json::from_slice(&plain).map_err(|e| PrivacyError::Shape(e.to_string()))?;
        *field = Personal::Known(value);
    }
    Ok(())
}

/// A value in clear (not a sealed or erased form), and not null.
fn is_clear(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Object(o) => !(o.contains_key("sealed") || o.contains_key("erased")),
        _ => true,
    }
}

fn sealed_of(value: &Value) -> Option<domain::personal::SealedValue> {
    let inner = value.as_object()?.get("sealed")?;
    serde_json::from_value(inner.clone()).ok()
}

fn collect(value: &Value, into: &mut HashSet<String>) {
    if let Some(s) = sealed_of(value) {
        into.insert(s.customer.to_string());
        return;
    }
    match value {
        Value::Object(o) => o.values().for_each(|v| collect(v, into)),
        Value::Array(a) => a.iter().for_each(|v| collect(v, into)),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

fn replace(value: &mut Value, keys: &HashMap<String, CustomerKey>) -> Result<(), PrivacyError> {
    if let Some(s) = sealed_of(value) {
        *value = match keys.get(s.customer.as_str()) {
            Some(key) => {
                let plain = key.open(s.customer.as_str(), &s.data)?;
                serde_json::from_slice(&plain).map_err(|e| PrivacyError::Shape(e.to_string()))?
            }
            None => serde_json::json!({"erased": true}),
        };
        return Ok(());
    }
    match value {
        Value::Object(o) => o.values_mut().try_for_each(|v| replace(v, keys)),
        Value::Array(a) => a.iter_mut().try_for_each(|v| replace(v, keys)),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreConfig;

    /// A customer an earlier version stored (lookup and wrapped key under
    /// the master key itself) is found by phone, re-keyed to the derived
    /// lookup, keeps its id and its key still opens.
    #[tokio::test]
    async fn given_a_customer_stored_before_derived_keys_when_found_by_phone_then_it_is_re_keyed() {
        let dir = tempfile::tempdir().expect("dir");
        let config = StoreConfig::Sqlite {
            path: dir.path().join("t.db"),
        };
        let db = crate::store::open(&config).await.expect("open");
        crate::store::migrate(&db).await.expect("migrate");
        let master = MasterKey::generate();
        let phone = PhoneNumber::parse("+86 138 0013 8000").expect("phone");
        let legacy = master.legacy_lookup(&phone_digits(&phone));
        let key = CustomerKey::generate();
        let mut tx = db.begin().await.expect("tx");
        let vals = vec![
            Val::Text("c-old".into()),
            Val::Text(legacy.clone()),
            Val::Text(master.legacy_wrap("c-old", &key)),
        ];
        tx.run(INSERT, vals).await.expect("insert");
        tx.commit().await.expect("commit");
        let keyring = Keyring::new(db.clone(), master.clone());
        let found = keyring.customer_for(&phone).await.expect("found");
        assert_eq!(
            found.as_str(),
            "c-old",
            "no second customer for the same phone"
        );
        assert!(
            keyring.find(&legacy).await.expect("look").is_none(),
            "re-keyed"
        );
        let derived = master.lookup(&phone_digits(&phone));
        assert_eq!(
            keyring
                .find(&derived)
                .await
                .expect("look")
                .map(|c| c.to_string()),
            Some("c-old".to_owned())
        );
        let ids = HashSet::from(["c-old".to_owned()]);
        let keys = keyring.keys(&ids).await.expect("keys");
        assert!(
            keys.contains_key("c-old"),
            "the old wrapped key still opens"
        );
    }
}
