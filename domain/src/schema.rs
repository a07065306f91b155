//! Event schemas and their history: each event type's current version, and
//! the upcasters that turn a stored older shape into the current one.
//!
//! Events are kept forever and sealed as stored, so a change of shape is
//! never a migration of the stored rows: the old bytes stay (and keep
//! verifying), and every reader passes them through [`upcast`] before it
//! decodes them. A type's version is `1 + ` the number of [`CHANGES`] that
//! name it, so recording a change here is what moves the version the
//! writers stamp on new events (see ARCHITECTURE.md, "Change an event's
//! shape").

use serde_json::{Map, Value};
use thiserror::Error;

/// One change of an event type's shape: events stored at version `from`
/// are turned into version `from + 1` by `upcast`.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    /// The stable name (`TicketEvent::NAMES`, `ActionEvent::NAMES`).
    pub event_type: &'static str,
    pub from: u32,
    /// What changed and why, for the catalogue and the docs.
    pub what: &'static str,
    /// Rewrites the variant's fields (the object inside the enum tag).
    pub upcast: fn(&mut Map<String, Value>) -> Result<(), String>,
}

/// Every change of shape ever made, oldest first. Append only: an entry
/// once released is never edited or removed (stored events depend on it).
pub const CHANGES: &[Change] = &[
    Change {
        event_type: "QcFailed",
        from: 1,
        what: "`defects` renamed `failed_checks`: what failed are the QC checklist's checks",
        upcast: qc_failed_v1,
    },
    Change {
        event_type: "ItemTakenIn",
        from: 1,
        what: "`location` (\"site/bin\" by convention) split into `site` and an optional `bin`",
        upcast: item_taken_in_v1,
    },
];

/// Why a stored event could not be brought to the current shape.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SchemaError {
    #[error("{event_type}: event version {version:?} is not a version this build knows (\"N.0\")")]
    BadVersion { event_type: String, version: String },
    #[error("{event_type}: stored at version {version}, newer than this build's {current}; upgrade ticketd to read it")]
    FromTheFuture {
        event_type: String,
        version: u32,
        current: u32,
    },
    #[error("{event_type} v{from}: {reason}")]
    Shape {
        event_type: String,
        from: u32,
        reason: String,
    },
}

/// The version new events of `event_type` are stored at.
pub fn current_version(event_type: &str) -> u32 {
    1 + CHANGES
        .iter()
        .filter(|c| c.event_type == event_type)
        .count() as u32
}

/// The stored form of a version: `"N.0"`.
pub fn version_label(version: u32) -> String {
    format!("{version}.0")
}

/// Parses a stored version (`"N.0"`, or `"N"`).
pub fn parse_version(event_type: &str, raw: &str) -> Result<u32, SchemaError> {
    let major = raw.strip_suffix(".0").unwrap_or(raw);
    major
        .parse::<u32>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| SchemaError::BadVersion {
            event_type: event_type.to_owned(),
            version: raw.to_owned(),
        })
}

/// Whether an event stored at `version` is already in the current shape
/// (readers then decode the stored bytes as they are).
pub fn is_current(event_type: &str, version: &str) -> bool {
    parse_version(event_type, version).is_ok_and(|v| v == current_version(event_type))
}

/// Brings `payload` (the serialized enum, `{"<event_type>": {...}}`),
/// stored at `version`, to the current shape. The current shape passes
/// through untouched; a version newer than this build knows is refused
/// rather than misread.
pub fn upcast(event_type: &str, version: &str, mut payload: Value) -> Result<Value, SchemaError> {
    let stored = parse_version(event_type, version)?;
    let current = current_version(event_type);
    if stored > current {
        return Err(SchemaError::FromTheFuture {
            event_type: event_type.to_owned(),
            version: stored,
            current,
        });
    }
    for change in CHANGES
        .iter()
        .filter(|c| c.event_type == event_type && c.from >= stored)
    {
        let shape = |reason: String| SchemaError::Shape {
            event_type: event_type.to_owned(),
            from: change.from,
            reason,
        };
        let fields = payload
            .get_mut(event_type)
            .and_then(Value::as_object_mut)
            .ok_or_else(|| shape(format!("the payload is not {{\"{event_type}\": {{...}}}}")))?;
        (change.upcast)(fields).map_err(shape)?;
    }
    Ok(payload)
}

fn qc_failed_v1(fields: &mut Map<String, Value>) -> Result<(), String> {
    let defects = fields.remove("defects").ok_or("no `defects` field")?;
    fields.insert("failed_checks".into(), defects);
    Ok(())
}

fn item_taken_in_v1(fields: &mut Map<String, Value>) -> Result<(), String> {
    let location = match fields.remove("location") {
        Some(Value::String(location)) => location,
        _ => return Err("no `location` text".into()),
    };
    let (site, bin) = match location.rsplit_once('/') {
        Some((site, bin)) if !site.trim().is_empty() && !bin.trim().is_empty() => {
            (site.trim().to_owned(), Value::String(bin.trim().to_owned()))
        }
        _ => (location, Value::Null),
    };
    fields.insert("site".into(), Value::String(site));
    fields.insert("bin".into(), bin);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::personal::CustomerEvent;
    use crate::{ActionEvent, TicketEvent};
    use serde_json::json;

    #[test]
    fn every_change_names_a_known_event_type() {
        let known: Vec<&str> = TicketEvent::NAMES
            .iter()
            .chain(ActionEvent::NAMES)
            .chain(CustomerEvent::NAMES)
            .copied()
            .collect();
        for change in CHANGES {
            assert!(known.contains(&change.event_type), "{}", change.event_type);
        }
    }

    #[test]
    fn changes_of_one_type_are_numbered_one_after_another() {
        let names = TicketEvent::NAMES.iter().chain(ActionEvent::NAMES);
        for name in names.chain(CustomerEvent::NAMES) {
            let froms: Vec<u32> = CHANGES
                .iter()
                .filter(|c| c.event_type == *name)
                .map(|c| c.from)
                .collect();
            let expected: Vec<u32> = (1..=froms.len() as u32).collect();
            assert_eq!(froms, expected, "{name}");
        }
    }

    #[test]
    fn given_an_unchanged_type_then_it_is_at_version_one() {
        assert_eq!(current_version("QcPassed"), 1);
        assert!(is_current("QcPassed", "1.0"));
    }

    #[test]
    fn given_a_v1_qc_failure_when_upcast_then_its_defects_are_failed_checks() {
        let v1 = json!({"QcFailed": {"inspector": "q-1", "defects": ["scratch"], "rework": 1,
                        "at": "2026-03-02T10:00:00Z"}});
        let v2 = upcast("QcFailed", "1.0", v1).expect("upcast");
        assert_eq!(v2["QcFailed"]["failed_checks"], json!(["scratch"]));
        assert!(v2["QcFailed"].get("defects").is_none());
        assert_eq!(current_version("QcFailed"), 2);
    }

    #[test]
    fn given_a_v1_intake_at_site_slash_bin_when_upcast_then_site_and_bin_are_apart() {
        let v1 = json!({"ItemTakenIn": {"location": "Hangzhou service point / B3"}});
        let v2 = upcast("ItemTakenIn", "1.0", v1).expect("upcast");
        assert_eq!(v2["ItemTakenIn"]["site"], json!("Hangzhou service point"));
        assert_eq!(v2["ItemTakenIn"]["bin"], json!("B3"));
    }

    #[test]
    fn given_a_v1_intake_without_a_bin_when_upcast_then_the_whole_location_is_the_site() {
        for location in ["Hangzhou", "Hangzhou/", "/B3"] {
            let v1 = json!({"ItemTakenIn": {"location": location}});
            let v2 = upcast("ItemTakenIn", "1.0", v1).expect("upcast");
            assert_eq!(v2["ItemTakenIn"]["site"], json!(location));
            assert_eq!(v2["ItemTakenIn"]["bin"], Value::Null);
        }
    }

    #[test]
    fn given_the_current_shape_when_upcast_then_it_is_unchanged() {
        let v2 = json!({"QcFailed": {"failed_checks": ["x"]}});
        assert_eq!(upcast("QcFailed", "2.0", v2.clone()), Ok(v2));
    }

    #[test]
    fn given_a_version_from_the_future_when_upcast_then_it_is_refused() {
        let e = upcast("QcPassed", "7.0", json!({"QcPassed": {}})).expect_err("refused");
        assert!(matches!(
            e,
            SchemaError::FromTheFuture {
                version: 7,
                current: 1,
                ..
            }
        ));
    }

    #[test]
    fn given_a_garbled_version_when_upcast_then_it_is_refused() {
        for raw in ["", "0.0", "one", "1.5"] {
            let e = upcast("QcPassed", raw, json!({})).expect_err("refused");
            assert!(matches!(e, SchemaError::BadVersion { .. }), "{raw}");
        }
    }

    #[test]
    fn given_a_v1_payload_missing_the_renamed_field_then_the_shape_error_names_it() {
        let e = upcast("QcFailed", "1.0", json!({"QcFailed": {}})).expect_err("refused");
        assert_eq!(
            e,
            SchemaError::Shape {
                event_type: "QcFailed".into(),
                from: 1,
                reason: "no `defects` field".into()
            }
        );
    }
}
