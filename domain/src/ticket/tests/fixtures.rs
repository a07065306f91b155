//! Builders for commands and events used across the ticket tests.
//!
//! The main-path builders are here; `lifecycle` has one builder per other
//! command or event, `catalogue` one command of each kind and who may issue it.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use crate::clock::FixedClock;
use crate::money::{Currency, Money};
use crate::policy::{
    AppliedTerms, ApprovalTier, ComplaintCategory, Department, Remedy, TierRule, WarrantyBasis,
    WarrantyDecision, WarrantyStatus,
};
use crate::roles::{Actor, Role};
use crate::ticket::command::*;
use crate::ticket::types::*;
use crate::ticket::{Policies, Ticket, TicketEvent, TicketServices, TicketStatus};
use crate::values::{ActorId, Hours, Label, PartNumber, PhoneNumber, Quantity, SerialNumber, Text};

mod catalogue;
mod flows;
mod lifecycle;
mod rules;

pub use catalogue::*;
pub use flows::*;
pub use lifecycle::*;
pub use rules::*;

pub type Framework = TestFramework<Ticket>;

/// "Now" in every test: 2026-03-20 10:00 Beijing time.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 20, 2, 0, 0)
        .single()
        .expect("valid instant")
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

pub fn framework() -> Framework {
    TestFramework::with(services())
}

pub fn services() -> TicketServices {
    TicketServices::new(Arc::new(FixedClock::at(now())), Policies::default())
}

pub fn text(s: &str) -> Text {
    Text::parse(s).expect("valid text")
}

pub fn label(s: &str) -> Label {
    Label::parse(s).expect("valid label")
}

pub fn actor(role: Role) -> Actor {
    let id = match role {
        Role::Technician => "tech-1",
        Role::QcInspector => "qc-1",
        Role::CustomerService => "cs-1",
        Role::ServiceManager => "sm-1",
        Role::SalesVp => "vp-1",
        Role::GeneralManager => "gm-1",
        Role::Finance => "fin-1",
        _ => "other-1",
    };
    Actor {
        id: ActorId::parse(id).expect("valid id"),
        role,
    }
}

pub fn id(s: &str) -> ActorId {
    ActorId::parse(s).expect("valid id")
}

/// `command` issued by someone in `role`.
pub fn by(role: Role, command: TicketCommand) -> Authored<TicketCommand> {
    Authored::now(actor(role), command)
}

pub fn product(purchased_on: Option<NaiveDate>, proof: bool) -> Product {
    Product {
        line: label("washer"),
        model: label("WM-800"),
        serial: SerialNumber::parse("SN-0001").expect("valid serial"),
        batch: Some(label("B2025-11")),
        purchased_on,
        proof_of_purchase: proof,
        installed_on: None,
    }
}

pub fn receive_with(kind: TicketKind, product: Product) -> ReceiveTicket {
    ReceiveTicket {
        channel: Channel::Phone,
        kind,
        customer: Customer {
            id: None,
            name: label("Li Lei").into(),
            phone: PhoneNumber::parse("+86 138 0013 8000")
                .expect("valid phone")
                .into(),
            address: label("1 Renmin Rd, Hangzhou").into(),
            region: Region::Urban,
        },
        product,
        description: text("drum does not turn"),
        priority: Priority::Normal,
        service_mode: ServiceMode::MailIn,
        refers_to: None,
    }
}

/// A repair ticket for a washer bought on 2026-01-10 with a receipt: in
/// warranty, 三包 repair window.
pub fn receive() -> ReceiveTicket {
    receive_with(TicketKind::Repair, product(Some(date(2026, 1, 10)), true))
}

pub fn received_event(c: ReceiveTicket) -> TicketEvent {
    TicketEvent::TicketReceived {
        channel: c.channel,
        kind: c.kind,
        customer: c.customer,
        product: c.product,
        description: c.description,
        priority: c.priority,
        service_mode: c.service_mode,
        received_at: now(),
        refers_to: c.refers_to,
    }
}

/// The built-in policy's terms for products no line matches, as recorded.
pub fn default_terms() -> AppliedTerms {
    AppliedTerms {
        product_line: "default".into(),
        terms: Policies::builtin().warranty.default_terms,
        failed_repairs_for_exchange: Some(2),
    }
}

/// The built-in policy's rule for `tier`, as a quote records it.
pub fn rule(tier: ApprovalTier) -> TierRule {
    Policies::builtin()
        .approval
        .tiers
        .into_iter()
        .find(|t| t.tier == tier)
        .expect("built-in tier")
}

pub fn received() -> TicketEvent {
    received_event(receive())
}

pub fn warranty(status: WarrantyStatus, basis: WarrantyBasis, remedy: Remedy) -> TicketEvent {
    TicketEvent::WarrantyDetermined {
        decision: WarrantyDecision {
            status,
            basis,
            remedy,
            covered_until: None,
            applied: Some(default_terms()),
        },
        at: now(),
    }
}

pub fn in_warranty() -> TicketEvent {
    TicketEvent::WarrantyDetermined {
        decision: WarrantyDecision {
            status: WarrantyStatus::InWarranty,
            basis: WarrantyBasis::PurchaseDate,
            remedy: Remedy::Repair,
            // Bought 2026-01-10: the corresponding day, 2027-01-10, is a Sunday.
            covered_until: Some(date(2027, 1, 11)),
            applied: Some(default_terms()),
        },
        at: now(),
    }
}

pub fn out_of_warranty() -> TicketEvent {
    warranty(
        WarrantyStatus::OutOfWarranty,
        WarrantyBasis::NoProofOfPurchase,
        Remedy::None,
    )
}

pub fn diagnose(root_cause: RootCause, customer_caused: bool, path: RepairPath) -> DiagnoseFault {
    DiagnoseFault {
        symptom: text("drum does not turn"),
        failure_mode: label("MOTOR-OPEN"),
        failed_parts: vec![PartNumber::parse("MTR-100").expect("valid part")],
        root_cause,
        customer_caused,
        responsible_department: Department::Production,
        path,
        major: false,
    }
}

pub fn diagnosed_event(c: DiagnoseFault) -> TicketEvent {
    TicketEvent::FaultDiagnosed {
        technician: id("tech-1"),
        symptom: c.symptom,
        failure_mode: c.failure_mode,
        failed_parts: c.failed_parts,
        root_cause: c.root_cause,
        customer_caused: c.customer_caused,
        responsible_department: c.responsible_department,
        path: c.path,
        major: c.major,
        at: now(),
    }
}

pub fn diagnosed() -> TicketEvent {
    diagnosed_event(diagnose(
        RootCause::Manufacturing,
        false,
        RepairPath::WorkshopRepair,
    ))
}

pub fn diagnosed_misuse() -> TicketEvent {
    diagnosed_event(diagnose(
        RootCause::Misuse,
        true,
        RepairPath::WorkshopRepair,
    ))
}

/// A quote of `fen` made of a single travel line.
pub fn quote_of(fen: u32) -> QuoteRepair {
    QuoteRepair {
        lines: vec![QuoteLine::Travel {
            amount: Money::cny(fen),
        }],
        valid_until: date(2026, 4, 20),
    }
}

pub fn quoted_event(fen: u32, tier: ApprovalTier) -> TicketEvent {
    TicketEvent::RepairQuoted {
        lines: vec![QuoteLine::Travel {
            amount: Money::cny(fen),
        }],
        total: Money::cny(fen),
        tier,
        valid_until: date(2026, 4, 20),
        rule: Some(rule(tier)),
        at: now(),
    }
}

pub fn quote_approved(fen: u32, tier: ApprovalTier, role: Role) -> TicketEvent {
    TicketEvent::QuoteApproved {
        approver: actor(role).id,
        role,
        tier,
        total: Money::cny(fen),
        at: now(),
    }
}

pub fn accepted() -> TicketEvent {
    TicketEvent::QuoteAccepted { at: now() }
}

pub fn repair() -> RecordRepair {
    RecordRepair {
        labour: Hours::from_minutes(90).expect("valid hours"),
        parts: vec![PartUsed {
            part_number: PartNumber::parse("MTR-100").expect("valid part"),
            quantity: Quantity::new(1).expect("valid qty"),
            unit_cost: Money::cny(35_000),
            old_part: OldPartDisposition::Scrapped,
        }],
        notes: None,
    }
}

pub fn repaired() -> TicketEvent {
    let c = repair();
    TicketEvent::RepairRecorded {
        technician: id("tech-1"),
        labour: c.labour,
        parts: c.parts,
        notes: c.notes,
        labour_rate: Some(Money::cny(8_000)),
        at: now(),
    }
}

pub fn qc_passed() -> TicketEvent {
    TicketEvent::QcPassed {
        inspector: id("qc-1"),
        at: now(),
    }
}

pub fn ship() -> ShipItem {
    ShipItem {
        carrier: label("SF Express"),
        tracking_number: label("SF123456789"),
        address: label("1 Renmin Rd, Hangzhou"),
    }
}

pub fn shipped(unrepaired: bool) -> TicketEvent {
    let c = ship();
    TicketEvent::ItemShipped {
        carrier: c.carrier,
        tracking_number: c.tracking_number,
        address: c.address.into(),
        unrepaired,
        shipping_cost: Some(Money::cny(3_000)),
        at: now(),
    }
}

pub fn delivered() -> TicketEvent {
    TicketEvent::ItemDelivered {
        signed_by: label("Li Lei").into(),
        at: now(),
    }
}

pub fn all(level: SatisfactionLevel) -> Satisfaction {
    Satisfaction {
        attitude: level,
        skill: level,
        arrival_time: level,
        promises_kept: level,
    }
}

pub fn revisited(resolved: bool) -> TicketEvent {
    TicketEvent::CustomerRevisited {
        by: id("cs-1"),
        satisfaction: all(SatisfactionLevel::VerySatisfied),
        average_score: 100,
        satisfied: true,
        comment: None,
        resolved,
        at: now(),
    }
}

/// Events of an in-warranty workshop repair up to QC passed.
pub fn warranty_repair_until_qc_passed() -> Vec<TicketEvent> {
    vec![
        received(),
        in_warranty(),
        diagnosed(),
        repaired(),
        qc_passed(),
    ]
}

/// Events of an in-warranty repair that has been closed.
pub fn closed_warranty_repair() -> Vec<TicketEvent> {
    let mut events = warranty_repair_until_qc_passed();
    events.extend([
        shipped(false),
        delivered(),
        revisited(true),
        TicketEvent::TicketClosed { at: now() },
    ]);
    events
}

/// Events of an out-of-warranty repair with a quote of `fen`, approved by
/// the sales VP, not yet answered by the customer.
pub fn chargeable_quote_approved(fen: u32, tier: ApprovalTier) -> Vec<TicketEvent> {
    vec![
        received(),
        out_of_warranty(),
        diagnosed(),
        quoted_event(fen, tier),
        quote_approved(fen, tier, Role::SalesVp),
    ]
}

/// A framework whose clock says `instant` instead of [`now`].
pub fn framework_at(instant: DateTime<Utc>) -> Framework {
    TestFramework::with(TicketServices::new(
        Arc::new(FixedClock::at(instant)),
        Policies::default(),
    ))
}

/// `minor` units of US dollars: a currency the default policy does not use.
pub fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::parse("USD").expect("valid code")).expect("valid amount")
}

pub fn part(s: &str) -> PartNumber {
    PartNumber::parse(s).expect("valid part")
}

/// The state after `events`, folded with `Aggregate::apply`.
pub fn state_after(events: Vec<TicketEvent>) -> Ticket {
    let mut ticket = Ticket::default();
    for event in events {
        ticket.apply(event);
    }
    ticket
}
