//! Tamper evidence: hash chains over events.
//!
//! Each event's `hash` chains it to the previous event of its ticket:
//! `hash(n) = sha256(hash(n-1) "\n" canonical(event n))`, with an empty
//! `hash(0)`. The log chains every event in log order:
//! `digest(p) = sha256(digest(p-1) "\n" hash(event at p))`. Changing,
//! deleting, reordering or inserting a stored event breaks a chain at that
//! event. The canonical form does not depend on how a store orders JSON keys.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Seal format of events stored before event ids and times were sealed.
pub const SEAL_V1: i16 = 1;
/// Seal format of every event ticketd writes now.
pub const SEAL_V2: i16 = 2;

/// The fields of an event that are sealed.
#[derive(Debug, Clone, Copy)]
pub struct Sealed<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: &'a Value,
    pub metadata: &'a Value,
    /// `None`: a format-1 event.
    pub stamp: Option<Stamp<'a>>,
}

/// What format 2 seals besides format 1's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp<'a> {
    pub event_id: &'a str,
    pub recorded_at: DateTime<Utc>,
    pub occurred_at: DateTime<Utc>,
}

impl Sealed<'_> {
    pub fn format(&self) -> i16 {
        if self.stamp.is_some() {
            SEAL_V2
        } else {
            SEAL_V1
        }
    }
}

/// How a sealed time is written: RFC 3339, microseconds, `Z`. Stored times
/// have microsecond precision on both stores.
pub fn sealed_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// JSON with object keys sorted, no insignificant white space.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

pub fn sha256_hex(data: &str) -> String {
    let digest = Sha256::digest(data.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The hash of `event` chained to its ticket's previous event hash.
pub fn event_hash(previous: &str, event: &Sealed<'_>) -> String {
    let stamp = match &event.stamp {
        None => String::new(),
        Some(s) => format!(
            "v2\n{}\n{}\n{}\n",
            s.event_id,
            sealed_time(s.recorded_at),
            sealed_time(s.occurred_at)
        ),
    };
    sha256_hex(&format!(
        "{previous}\n{stamp}{}\n{}\n{}\n{}\n{}\n{}\n{}",
        event.aggregate_type,
        event.aggregate_id,
        event.sequence,
        event.event_type,
        event.event_version,
        canonical_json(event.payload),
        canonical_json(event.metadata),
    ))
}

/// The log digest after appending an event with hash `event_hash`.
pub fn log_digest(previous: &str, event_hash: &str) -> String {
    sha256_hex(&format!("{previous}\n{event_hash}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = json!({"b": 1, "a": {"d": [2, {"z": 1, "y": 2}], "c": "x"}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":"x","d":[2,{"y":2,"z":1}]},"b":1}"#
        );
    }

    #[test]
    fn changing_any_field_changes_the_hash() {
        let payload = json!({"QcPassed": {"inspector": "qc-1"}});
        let metadata = json!({"actor_id": "qc-1"});
        let event = Sealed {
            aggregate_type: "Ticket",
            aggregate_id: "T-1",
            sequence: 3,
            event_type: "QcPassed",
            event_version: "1.0",
            payload: &payload,
            metadata: &metadata,
            stamp: None,
        };
        let original = event_hash("abc", &event);
        assert_eq!(original.len(), 64);
        assert_ne!(original, event_hash("abd", &event));
        assert_ne!(
            original,
            event_hash(
                "abc",
                &Sealed {
                    sequence: 4,
                    ..event
                }
            )
        );
        let other = json!({"QcPassed": {"inspector": "qc-2"}});
        assert_ne!(
            original,
            event_hash(
                "abc",
                &Sealed {
                    payload: &other,
                    ..event
                }
            )
        );
    }

    #[test]
    fn format_2_seals_the_event_id_and_both_times() {
        use chrono::TimeZone;
        let payload = json!({"QcPassed": {"inspector": "qc-1"}});
        let metadata = json!({"actor_id": "qc-1"});
        let t = Utc
            .with_ymd_and_hms(2026, 10, 9, 4, 0, 0)
            .single()
            .expect("instant");
        let stamp = Stamp {
            event_id: "0b6f0d1e-0000-4000-8000-000000000001",
            recorded_at: t,
            occurred_at: t,
        };
        let event = Sealed {
            aggregate_type: "Ticket",
            aggregate_id: "T-1",
            sequence: 3,
            event_type: "QcPassed",
            event_version: "1.0",
            payload: &payload,
            metadata: &metadata,
            stamp: Some(stamp),
        };
        let original = event_hash("", &event);
        let legacy = Sealed {
            stamp: None,
            ..event
        };
        assert_ne!(original, event_hash("", &legacy), "the format is sealed");
        let later = t + chrono::Duration::microseconds(1);
        for changed in [
            Stamp {
                event_id: "0b6f0d1e-0000-4000-8000-000000000002",
                ..stamp
            },
            Stamp {
                recorded_at: later,
                ..stamp
            },
            Stamp {
                occurred_at: later,
                ..stamp
            },
        ] {
            let edited = Sealed {
                stamp: Some(changed),
                ..event
            };
            assert_ne!(original, event_hash("", &edited), "{changed:?}");
        }
    }

    #[test]
    fn sha256_of_abc_is_the_known_vector() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
