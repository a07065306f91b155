//! The typed event catalogue (issue #18): every event the log holds as its
//! own proto message (`proto/repair/v1/event_types.proto`), carried in the
//! `EventPayload` oneof of `LoggedEvent.payload` and `HistoryEntry.payload`.
//!
//! The invariant: every event variant has a proto message, and the
//! conversions ([`ticket::typed`], [`action::typed`], [`action::alert`])
//! are exhaustive `match`es without a wildcard arm, so a new variant does
//! not compile until it is mapped. An event that cannot be decoded leaves
//! the payload unset; the stream and the history go on.

/// Generates the exhaustive `match` of an event enum from the list of its
/// variants: each arm binds every field of the variant and hands them to
/// the builder named after it, whose message becomes the `EventPayload`
/// case of the variant's name. The `match` has no wildcard arm, so a
/// variant missing from the list does not compile (as `rpc/build.rs`'s
/// `import_dispatch!`, one line per variant).
macro_rules! dispatch {
    ($event:ident: $enum:ident {
        $($variant:ident { $($field:ident),* } => $builder:ident,)+
    }) => {
        match $event {
            $($enum::$variant { $($field),* } => {
                pb::event_payload::Event::$variant($builder($($field),*))
            })+
        }
    };
}

mod action;
#[cfg(test)]
mod samples;
#[cfg(test)]
mod tests;
mod ticket;
mod ticket_flow;

use chrono::{DateTime, NaiveDate, Utc};
use domain::capa::Discipline;
use domain::money::Money;
use domain::personal::{CustomerEvent, Personal, CUSTOMER};
use domain::policy::warranty::{CountFrom, WarrantyBasis};
use domain::policy::{ApprovalTier, Remedy, WarrantyStatus};
use domain::{ActionEvent, Role, TicketEvent};
use projections::sla::alerts::Alert;
use serde::de::DeserializeOwned;

use super::parse::to_timestamp;
use super::pb;

pub use action::{alert, typed as typed_action};
pub use ticket::typed;

/// The aggregate types whose events the log holds.
const TICKET: &str = <domain::Ticket as cqrs_es::Aggregate>::TYPE;
const ACTION: &str = <domain::CorrectiveAction as cqrs_es::Aggregate>::TYPE;
const ALERT: &str = projections::sla::ALERT_AGGREGATE;

/// A stored event's payload (its JSON as the store keeps it) typed, by the
/// aggregate it belongs to; `None` when it does not decode.
pub fn payload(aggregate_type: &str, json: &str) -> Option<pb::EventPayload> {
    fn decoded<T: DeserializeOwned>(json: &str) -> Option<T> {
        serde_json::from_str(json).ok()
    }
    let event = match aggregate_type {
        TICKET => typed(&decoded::<TicketEvent>(json)?),
        ACTION => typed_action(&decoded::<ActionEvent>(json)?),
        ALERT => alert(&decoded::<Alert>(json)?),
        CUSTOMER => customer_event(&decoded::<CustomerEvent>(json)?),
        _ => return None,
    };
    Some(pb::EventPayload { event: Some(event) })
}

/// A customer's event typed; the match has no wildcard arm.
pub fn customer_event(event: &CustomerEvent) -> pb::event_payload::Event {
    match event {
        CustomerEvent::PersonalDataErased {
            by,
            role,
            reason,
            at,
        } => pb::event_payload::Event::PersonalDataErased(pb::PersonalDataErased {
            by: by.to_string(),
            role: role_pb(*role),
            reason: reason.to_string(),
            at: ts(at),
        }),
    }
}

/// As [`payload`], for a payload already parsed as JSON.
pub fn payload_value(aggregate_type: &str, json: &serde_json::Value) -> Option<pb::EventPayload> {
    payload(aggregate_type, &json.to_string())
}

/// A personal field (a customer's name, phone or address, a signature, a
/// customer's comment) as the proto shows it: the value, or empty once it
/// is erased. The one place personal data leaves the domain for the API.
/// Empty also while sealed: the caller opens what it may show first
/// (`privacy::open_events`).
fn personal<T: ToString>(value: &Personal<T>) -> String {
    super::views::personal(value)
}

/// An optional personal field: empty when absent, sealed or erased.
fn personal_opt<T: ToString>(value: Option<&Personal<T>>) -> String {
    value.map(personal).unwrap_or_default()
}

fn ts(t: &DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(to_timestamp(*t))
}

/// A date as "YYYY-MM-DD".
fn date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// An optional date: empty when absent.
fn date_opt(d: Option<&NaiveDate>) -> String {
    d.map(date).unwrap_or_default()
}

fn money(m: &Money) -> pb::Money {
    pb::Money {
        currency: m.currency().to_string(),
        minor_units: m.minor(),
    }
}

fn money_opt(m: Option<&Money>) -> Option<pb::Money> {
    m.map(money)
}

/// An optional text or label: empty when absent.
fn text_opt(t: Option<&impl ToString>) -> String {
    t.map(ToString::to_string).unwrap_or_default()
}

fn strings<T: ToString>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

fn role_pb(r: Role) -> i32 {
    use pb::Role as P;
    (match r {
        Role::CustomerService => P::CustomerService,
        Role::Technician => P::Technician,
        Role::QcInspector => P::QcInspector,
        Role::ServiceManager => P::ServiceManager,
        Role::SalesVp => P::SalesVp,
        Role::GeneralManager => P::GeneralManager,
        Role::Finance => P::Finance,
        Role::ReliabilityEngineer => P::ReliabilityEngineer,
        Role::Auditor => P::Auditor,
        Role::Integration => P::Integration,
        Role::FailureReviewBoard => P::FailureReviewBoard,
        Role::DataProtectionOfficer => P::DataProtectionOfficer,
        Role::Importer => P::Importer,
    }) as i32
}

fn tier_pb(t: ApprovalTier) -> i32 {
    (match t {
        ApprovalTier::Tier1 => pb::ApprovalTier::Tier1,
        ApprovalTier::Tier2 => pb::ApprovalTier::Tier2,
        ApprovalTier::Tier3 => pb::ApprovalTier::Tier3,
    }) as i32
}

fn warranty_status(s: WarrantyStatus) -> i32 {
    (match s {
        WarrantyStatus::InWarranty => pb::WarrantyStatus::InWarranty,
        WarrantyStatus::OutOfWarranty => pb::WarrantyStatus::OutOfWarranty,
        WarrantyStatus::ServiceContract => pb::WarrantyStatus::ServiceContract,
    }) as i32
}

fn warranty_basis(b: WarrantyBasis) -> i32 {
    (match b {
        WarrantyBasis::PurchaseDate => pb::WarrantyBasis::PurchaseDate,
        WarrantyBasis::InstallationDate => pb::WarrantyBasis::InstallationDate,
        WarrantyBasis::ServiceContract => pb::WarrantyBasis::ServiceContract,
        WarrantyBasis::NoProofOfPurchase => pb::WarrantyBasis::NoProofOfPurchase,
    }) as i32
}

fn remedy(r: Remedy) -> i32 {
    (match r {
        Remedy::None => pb::Remedy::None,
        Remedy::Repair => pb::Remedy::Repair,
        Remedy::Exchange => pb::Remedy::Exchange,
        Remedy::Return => pb::Remedy::Return,
    }) as i32
}

fn count_from(c: CountFrom) -> i32 {
    (match c {
        CountFrom::Purchase => pb::WarrantyCountFrom::Purchase,
        CountFrom::Installation => pb::WarrantyCountFrom::Installation,
    }) as i32
}

fn discipline_pb(d: Discipline) -> i32 {
    use pb::EightDDiscipline as P;
    (match d {
        Discipline::D1Team => P::D1Team,
        Discipline::D2Problem => P::D2Problem,
        Discipline::D3Containment => P::D3Containment,
        Discipline::D4RootCause => P::D4RootCause,
        Discipline::D5ChosenAction => P::D5ChosenAction,
        Discipline::D6Implementation => P::D6Implementation,
        Discipline::D7Prevention => P::D7Prevention,
        Discipline::D8Closure => P::D8Closure,
    }) as i32
}
