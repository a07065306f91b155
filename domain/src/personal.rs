//! Personal data (DOMAIN.md §12, PIPL): a customer's name, phone, address,
//! signatures and free-text comments, held so that they can be erased
//! without touching a sealed event.
//!
//! A personal field is a [`Personal<T>`]: known (in clear, as a command
//! gave it or a reader with the key opened it), sealed (encrypted under the
//! customer's key, as stored; a reader that has not opened it holds it so),
//! or erased (the key is gone). The domain decides on none of them: only
//! the customer's region and id drive a rule. Storage seals the fields an
//! event names in [`crate::TicketEvent::personal_fields`].

use std::fmt;

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::roles::Role;
use crate::values::{ActorId, Text};

/// The aggregate type of a customer's stream in the log: it holds only
/// what was done with their personal data.
pub const CUSTOMER: &str = "Customer";

/// What happened to a customer's personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CustomerEvent {
    /// The customer's key was deleted: every personal field sealed under it
    /// reads as erased from now on, everywhere. Recorded once.
    PersonalDataErased {
        by: ActorId,
        role: Role,
        /// Why: the request (PIPL art. 47) or the retention rule.
        reason: Text,
        at: DateTime<Utc>,
    },
}

event_names!(CustomerEvent; PersonalDataErased);

impl DomainEvent for CustomerEvent {
    fn event_type(&self) -> String {
        self.name().to_owned()
    }

    /// Per type: see [`crate::schema`].
    fn event_version(&self) -> String {
        crate::schema::version_label(crate::schema::current_version(self.name()))
    }
}

/// Who personal data is about: a random id ticketd gives a customer on
/// first contact; it says nothing about the person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerId(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a customer id is 1 to 64 characters of A-Z a-z 0-9 - _")]
pub struct BadCustomerId;

impl CustomerId {
    pub fn parse(raw: &str) -> Result<Self, BadCustomerId> {
        let ok = (1..=64).contains(&raw.len())
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        ok.then(|| CustomerId(raw.to_owned())).ok_or(BadCustomerId)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CustomerId {
    type Error = BadCustomerId;
    fn try_from(raw: String) -> Result<Self, BadCustomerId> {
        CustomerId::parse(&raw)
    }
}

impl From<CustomerId> for String {
    fn from(id: CustomerId) -> String {
        id.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value encrypted under a customer's key, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedValue {
    /// Whose key.
    pub customer: CustomerId,
    /// base64(nonce ‖ ciphertext ‖ tag) of the value's JSON.
    pub data: String,
}

/// A personal field (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Personal<T> {
    Known(T),
    Sealed(Box<SealedValue>),
    Erased,
}

impl<T> Personal<T> {
    /// The value, if this reader holds it in clear.
    pub fn known(&self) -> Option<&T> {
        match self {
            Personal::Known(v) => Some(v),
            Personal::Sealed(_) | Personal::Erased => None,
        }
    }

    pub fn is_erased(&self) -> bool {
        matches!(self, Personal::Erased)
    }
}

impl<T> From<T> for Personal<T> {
    fn from(value: T) -> Self {
        Personal::Known(value)
    }
}

/// The JSON forms: the value itself; `{"sealed": {...}}`; `{"erased": true}`.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Form<T> {
    Sealed { sealed: SealedValue },
    Erased { erased: bool },
    Known(T),
}

impl<T: Serialize> Serialize for Personal<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Personal::Known(v) => v.serialize(s),
            Personal::Sealed(sealed) => Form::<&T>::Sealed {
                sealed: (**sealed).clone(),
            }
            .serialize(s),
            Personal::Erased => Form::<&T>::Erased { erased: true }.serialize(s),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Personal<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Form::<T>::deserialize(d)? {
            Form::Sealed { sealed } => Personal::Sealed(Box::new(sealed)),
            Form::Erased { .. } => Personal::Erased,
            Form::Known(v) => Personal::Known(v),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::Label;
    use proptest::prelude::*;
    use serde_json::json;

    fn label(s: &str) -> Label {
        Label::parse(s).expect("label")
    }

    #[test]
    fn a_known_value_is_stored_as_itself() {
        let p: Personal<Label> = label("Li Lei").into();
        assert_eq!(serde_json::to_value(&p).expect("ok"), json!("Li Lei"));
    }

    #[test]
    fn an_erased_value_reads_back_erased() {
        let p: Personal<Label> = serde_json::from_value(json!({"erased": true})).expect("ok");
        assert!(p.is_erased());
        assert_eq!(
            serde_json::to_value(&p).expect("ok"),
            json!({"erased": true})
        );
    }

    #[test]
    fn a_sealed_value_round_trips_unopened() {
        let raw = json!({"sealed": {"customer": "c-1", "data": "AAAA"}});
        let p: Personal<Label> = serde_json::from_value(raw.clone()).expect("ok");
        assert!(matches!(&p, Personal::Sealed(s) if s.customer.as_str() == "c-1"));
        assert_eq!(p.known(), None);
        assert_eq!(serde_json::to_value(&p).expect("ok"), raw);
    }

    #[test]
    fn a_value_that_is_no_form_is_refused() {
        assert!(serde_json::from_value::<Personal<Label>>(json!(12)).is_err());
        assert!(serde_json::from_value::<Personal<Label>>(json!({"x": 1})).is_err());
    }

    #[test]
    fn customer_ids_refuse_what_is_not_an_id() {
        for raw in ["", "a b", "x/y", &"z".repeat(65)] {
            assert_eq!(CustomerId::parse(raw), Err(BadCustomerId), "{raw:?}");
        }
        assert!(CustomerId::parse("c-0f3a_9").is_ok());
    }

    proptest! {
        #[test]
        fn any_known_label_round_trips(s in "[A-Za-z][A-Za-z0-9 ]{0,30}") {
            let p: Personal<Label> = label(s.trim()).into();
            let back: Personal<Label> =
                serde_json::from_value(serde_json::to_value(&p).expect("ok")).expect("ok");
            prop_assert_eq!(back, p);
        }
    }
}
