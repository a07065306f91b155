use domain::values::Text;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};

use super::samples::*;
use super::*;
use crate::rpc::events::event_type;
use domain::personal::Personal;
use pb::event_payload::Event;

fn payload_descriptor() -> MessageDescriptor {
    DescriptorPool::decode(crate::rpc::DESCRIPTOR_SET)
        .expect("descriptor set")
        .get_message_by_name("repair.v1.EventPayload")
        .expect("EventPayload")
}

/// The oneof case an encoded payload carries: (field number, field name,
/// message type name).
fn case_of(event: Event) -> (u32, String, String) {
    let bytes = pb::EventPayload { event: Some(event) }.encode_to_vec();
    let message = DynamicMessage::decode(payload_descriptor(), bytes.as_slice()).expect("decode");
    let set: Vec<_> = message.fields().map(|(f, _)| f).collect();
    assert_eq!(set.len(), 1, "exactly one case is set");
    let field = &set[0];
    let type_name = field
        .kind()
        .as_message()
        .map(|m| m.name().to_owned())
        .unwrap_or_default();
    (field.number(), field.name().to_owned(), type_name)
}

/// `QcFailed` → `qc_failed`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn assert_case(name: &str, event: Event) {
    let (number, field, type_name) = case_of(event);
    assert_eq!(
        number,
        event_type(name) as u32,
        "{name}: case number is its EventType"
    );
    assert_eq!(field, snake(name), "{name}: case name");
    assert_eq!(type_name, name, "{name}: message name");
}

#[test]
fn every_ticket_event_variant_maps_to_the_oneof_case_of_its_name() {
    let events = ticket_events();
    let names: Vec<&str> = events.iter().map(TicketEvent::name).collect();
    assert_eq!(names, TicketEvent::NAMES, "the sample has every variant");
    for event in &events {
        assert_case(event.name(), typed(event));
    }
}

#[test]
fn every_action_event_variant_maps_to_the_oneof_case_of_its_name() {
    let events = action_events();
    let names: Vec<&str> = events.iter().map(ActionEvent::name).collect();
    assert_eq!(names, ActionEvent::NAMES, "the sample has every variant");
    for event in &events {
        assert_case(event.name(), typed_action(event));
    }
}

#[test]
fn both_sla_alerts_map_to_the_oneof_case_of_their_name() {
    for a in alerts() {
        assert_case(a.name(), alert(&a));
    }
}

fn ticket_event(name: &str) -> Event {
    let event = ticket_events()
        .into_iter()
        .find(|e| e.name() == name)
        .expect("sampled");
    typed(&event)
}

#[test]
fn a_received_ticket_carries_its_customer_product_and_enums_typed() {
    let Event::TicketReceived(m) = ticket_event("TicketReceived") else {
        panic!("not TicketReceived");
    };
    let customer = m.customer.expect("customer");
    assert_eq!(customer.name, "Li Lei");
    assert_eq!(customer.region, pb::Region::Urban as i32);
    let product = m.product.expect("product");
    assert_eq!(
        (product.model.as_str(), product.purchase_date.as_str()),
        ("WM-800", "2026-03-01")
    );
    assert_eq!(product.batch, "", "an absent batch is empty");
    assert_eq!(m.priority, pb::Priority::Urgent as i32);
    assert_eq!(m.service_mode, pb::ServiceMode::MailIn as i32);
    assert_eq!(m.received_at, Some(to_timestamp(at())));
    assert!(!m.personal_data_erased);
}

#[test]
fn a_failed_qc_lists_its_failed_checks_and_rework_count() {
    let Event::QcFailed(m) = ticket_event("QcFailed") else {
        panic!("not QcFailed");
    };
    assert_eq!(m.failed_checks, ["noise at spin", "door seal"]);
    assert_eq!((m.inspector.as_str(), m.rework), ("qc-1", 2));
}

#[test]
fn a_quote_carries_typed_lines_money_dates_and_its_tier_rule() {
    let Event::RepairQuoted(m) = ticket_event("RepairQuoted") else {
        panic!("not RepairQuoted");
    };
    assert_eq!(m.valid_until, "2026-03-15");
    assert_eq!(m.total.as_ref().map(|t| t.minor_units), Some(93_000));
    assert_eq!(m.tier, pb::ApprovalTier::Tier1 as i32);
    let Some(pb::quote_line::Line::Parts(parts)) = &m.lines[0].line else {
        panic!("first line is parts");
    };
    assert_eq!((parts.part_number.as_str(), parts.quantity), ("MTR-100", 2));
    let rule = m.rule.expect("rule");
    assert_eq!(
        rule.waive,
        [
            pb::Role::ServiceManager as i32,
            pb::Role::GeneralManager as i32
        ]
    );
    assert_eq!(rule.below.map(|b| b.minor_units), Some(100_000));
}

#[test]
fn an_item_taken_in_has_its_location_as_site_and_no_bin() {
    let Event::ItemTakenIn(m) = ticket_event("ItemTakenIn") else {
        panic!("not ItemTakenIn");
    };
    assert_eq!((m.site.as_str(), m.bin.as_str()), ("Hangzhou depot", "B3"));
}

#[test]
fn a_warranty_decision_carries_status_basis_remedy_and_terms() {
    let Event::WarrantyDetermined(m) = ticket_event("WarrantyDetermined") else {
        panic!("not WarrantyDetermined");
    };
    let d = m.decision.expect("decision");
    assert_eq!(d.basis, pb::WarrantyBasis::PurchaseDate as i32);
    assert_eq!(d.remedy, pb::Remedy::Repair as i32);
    assert_eq!(d.covered_until, "2026-03-31");
    let terms = d.applied.and_then(|a| a.terms).expect("terms");
    assert_eq!(
        (terms.warranty_months, terms.count_from),
        (12, pb::WarrantyCountFrom::Purchase as i32)
    );
}

#[test]
fn a_declined_dispatch_names_the_status_it_went_back_to() {
    let Event::DispatchDeclined(m) = ticket_event("DispatchDeclined") else {
        panic!("not DispatchDeclined");
    };
    assert_eq!(m.back_to, pb::TicketStatus::Reopened as i32);
}

#[test]
fn an_8d_step_carries_its_discipline_as_the_enum() {
    let events = action_events();
    let Event::StepPlanned(m) = typed_action(&events[5]) else {
        panic!("not StepPlanned");
    };
    assert_eq!(m.discipline, pb::EightDDiscipline::D3Containment as i32);
    assert_eq!(m.due_on, "2026-03-09");
    assert_eq!(m.role, pb::Role::ReliabilityEngineer as i32);
}

#[test]
fn a_stored_payload_is_typed_by_its_aggregate_and_garbage_is_left_unset() {
    let event = ticket_events().remove(16);
    let json = serde_json::to_string(&event).expect("json");
    let typed = payload(TICKET, &json).and_then(|p| p.event);
    assert!(matches!(typed, Some(Event::QcFailed(_))));
    assert_eq!(payload(TICKET, "{\"NoSuchEvent\":{}}"), None);
    assert_eq!(
        payload(ACTION, &json),
        None,
        "a ticket event is no action's"
    );
    assert_eq!(payload("Elsewhere", &json), None);
    let alert_json = serde_json::to_string(&alerts()[1]).expect("json");
    let value: serde_json::Value = serde_json::from_str(&alert_json).expect("value");
    assert!(matches!(
        payload_value(ALERT, &value).and_then(|p| p.event),
        Some(Event::SlaBreached(_))
    ));
}

#[test]
fn personal_fields_pass_through_the_one_helper() {
    assert_eq!(personal(&customer().phone), "+86 138 0013 8000");
    assert_eq!(personal_opt(None::<&Personal<Text>>), "");
    // Sealed (not opened by this reader) or erased: shown empty.
    assert_eq!(personal(&Personal::<Text>::Erased), "");
    let sealed = domain::personal::SealedValue {
        customer: domain::personal::CustomerId::parse("c-1").expect("id"),
        data: "AAAA".into(),
    };
    assert_eq!(personal(&Personal::<Text>::Sealed(Box::new(sealed))), "");
    let Event::InstallationAccepted(m) = ticket_event("InstallationAccepted") else {
        panic!("not InstallationAccepted");
    };
    assert_eq!((m.signed_by.as_str(), m.comment.as_str()), ("Li Lei", ""));
}
