//! One event of every variant, for the catalogue's tests.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::capa::Discipline;
use domain::money::Money;
use domain::policy::complaint::Department;
use domain::policy::warranty::{AppliedTerms, CountFrom, ProductLineTerms, WarrantyBasis};
use domain::policy::{
    ApprovalTier, ComplaintCategory, Remedy, TierRule, WarrantyDecision, WarrantyStatus,
};
use domain::ticket::types::*;
use domain::values::{
    ActorId, Hours, Label, PartNumber, PhoneNumber, Quantity, SerialNumber, Text,
};
use domain::{ActionEvent, Role, TicketEvent, TicketStatus};
use projections::sla::alerts::Alert;

pub(super) fn label(s: &str) -> Label {
    Label::parse(s).expect("label")
}

pub(super) fn text(s: &str) -> Text {
    Text::parse(s).expect("text")
}

pub(super) fn actor(s: &str) -> ActorId {
    ActorId::parse(s).expect("actor")
}

fn part(s: &str) -> PartNumber {
    PartNumber::parse(s).expect("part")
}

pub(super) fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0)
        .single()
        .expect("instant")
}

pub(super) fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).expect("date")
}

pub(super) fn customer() -> Customer {
    Customer {
        id: None,
        name: label("Li Lei").into(),
        phone: PhoneNumber::parse("+86 138 0013 8000")
            .expect("phone")
            .into(),
        address: label("1 Renmin Rd, Hangzhou").into(),
        region: Region::Urban,
    }
}

fn product() -> Product {
    Product {
        line: label("washer"),
        model: label("WM-800"),
        serial: SerialNumber::parse("SN-1").expect("serial"),
        batch: None,
        purchased_on: Some(day(1)),
        proof_of_purchase: true,
        installed_on: None,
    }
}

fn decision() -> WarrantyDecision {
    WarrantyDecision {
        status: WarrantyStatus::InWarranty,
        basis: WarrantyBasis::PurchaseDate,
        remedy: Remedy::Repair,
        covered_until: Some(day(31)),
        applied: Some(AppliedTerms {
            product_line: "washer".into(),
            terms: ProductLineTerms {
                warranty_months: 12,
                count_from: CountFrom::Purchase,
                three_guarantees: true,
                repair_guarantee_days: 90,
            },
            failed_repairs_for_exchange: Some(2),
        }),
    }
}

fn quote_lines() -> Vec<QuoteLine> {
    vec![
        QuoteLine::Parts {
            part_number: part("MTR-100"),
            quantity: Quantity::new(2).expect("quantity"),
            unit_price: Money::cny(38_000),
        },
        QuoteLine::Labour {
            hours: Hours::from_minutes(90).expect("minutes"),
            hourly_rate: Money::cny(8_000),
        },
        QuoteLine::Travel {
            amount: Money::cny(5_000),
        },
    ]
}

fn rule() -> TierRule {
    TierRule {
        tier: ApprovalTier::Tier1,
        from: Money::cny(0),
        below: Some(Money::cny(100_000)),
        approve_price: vec![Role::ServiceManager],
        waive: vec![Role::ServiceManager, Role::GeneralManager],
    }
}

/// One ticket event of every variant, in `TicketEvent::NAMES` order.
pub(super) fn ticket_events() -> Vec<TicketEvent> {
    let mut events = intake_events();
    events.extend(later_events());
    events
}

fn intake_events() -> Vec<TicketEvent> {
    use TicketEvent as E;
    let tech = || actor("technician-1");
    vec![
        E::TicketReceived {
            channel: Channel::Phone,
            kind: TicketKind::Repair,
            customer: customer(),
            product: product(),
            description: text("drum does not turn"),
            priority: Priority::Urgent,
            service_mode: ServiceMode::MailIn,
            received_at: at(),
            refers_to: None,
        },
        E::WarrantyDetermined {
            decision: decision(),
            at: at(),
        },
        E::TechnicianDispatched {
            technician: tech(),
            planned_arrival: at(),
            at: at(),
        },
        E::TechnicianArrived {
            technician: tech(),
            travel_cost: Some(Money::cny(5_000)),
            at: at(),
        },
        E::FaultDiagnosed {
            technician: tech(),
            symptom: text("no spin"),
            failure_mode: label("MOTOR-OPEN"),
            failed_parts: vec![part("MTR-100")],
            root_cause: RootCause::Manufacturing,
            customer_caused: false,
            responsible_department: Department::Production,
            path: RepairPath::WorkshopRepair,
            major: true,
            at: at(),
        },
        E::ResolvedRemotely {
            technician: tech(),
            resolution: text("reset"),
            at: at(),
        },
        E::RepairQuoted {
            lines: quote_lines(),
            total: Money::cny(93_000),
            tier: ApprovalTier::Tier1,
            valid_until: day(15),
            rule: Some(rule()),
            at: at(),
        },
        E::QuoteApproved {
            approver: actor("manager-1"),
            role: Role::ServiceManager,
            tier: ApprovalTier::Tier1,
            total: Money::cny(93_000),
            at: at(),
        },
        E::QuoteAccepted { at: at() },
        E::QuoteDeclined {
            reason: text("too dear"),
            at: at(),
        },
        E::FeeWaiverApproved {
            approver: actor("gm-1"),
            role: Role::GeneralManager,
            tier: ApprovalTier::Tier2,
            amount: Money::cny(10_000),
            reason: text("goodwill"),
            at: at(),
        },
        E::SentToFactory {
            factory: label("Ningbo plant"),
            request: FactoryRequest::Repair,
            factory_repair_fee: None,
            at: at(),
        },
        E::ReturnedFromFactory {
            outcome: FactoryOutcome::ExchangeAgreed,
            note: None,
            at: at(),
        },
        E::ExchangeShipped {
            replacement_serial: SerialNumber::parse("SN-2").expect("serial"),
            carrier: label("SF Express"),
            tracking_number: label("SF1"),
            replacement_unit: Some(Money::cny(200_000)),
            shipping_cost: None,
            at: at(),
        },
        E::RepairRecorded {
            technician: tech(),
            labour: Hours::from_minutes(90).expect("minutes"),
            parts: vec![PartUsed {
                part_number: part("MTR-100"),
                quantity: Quantity::new(1).expect("quantity"),
                unit_cost: Money::cny(21_000),
                old_part: OldPartDisposition::Scrapped,
            }],
            notes: Some(text("motor replaced")),
            labour_rate: Some(Money::cny(8_000)),
            at: at(),
        },
        E::QcPassed {
            inspector: actor("qc-1"),
            at: at(),
        },
        E::QcFailed {
            inspector: actor("qc-1"),
            failed_checks: vec![label("noise at spin"), label("door seal")],
            rework: 2,
            at: at(),
        },
        E::ItemShipped {
            carrier: label("SF Express"),
            tracking_number: label("SF2"),
            address: label("1 Renmin Rd, Hangzhou").into(),
            unrepaired: false,
            shipping_cost: Some(Money::cny(2_000)),
            at: at(),
        },
        E::ItemDelivered {
            signed_by: label("Li Lei").into(),
            at: at(),
        },
        E::InvoiceIssued {
            invoice_number: label("INV-1"),
            amount: Money::cny(93_000),
            at: at(),
        },
        E::PaymentRecorded {
            amount: Money::cny(93_000),
            reference: label("WX-1"),
            at: at(),
        },
        E::CustomerRevisited {
            by: actor("cs-1"),
            satisfaction: Satisfaction {
                attitude: SatisfactionLevel::VerySatisfied,
                skill: SatisfactionLevel::Satisfied,
                arrival_time: SatisfactionLevel::Fair,
                promises_kept: SatisfactionLevel::Dissatisfied,
            },
            average_score: 61,
            satisfied: false,
            comment: Some(text("slow").into()),
            resolved: true,
            at: at(),
        },
    ]
}

fn later_events() -> Vec<TicketEvent> {
    use TicketEvent as E;
    let tech = || actor("technician-1");
    vec![
        E::TicketClosed { at: at() },
        E::TicketReopened {
            reason: text("same noise"),
            same_fault: true,
            cycle: 2,
            at: at(),
        },
        E::TicketCancelled {
            reason: text("duplicate"),
            at: at(),
        },
        E::TicketEscalated {
            reason: text("major"),
            to: Role::GeneralManager,
            at: at(),
        },
        E::RepairCycleExtended {
            previous_due_on: None,
            new_due_on: day(20),
            reason: text("parts late"),
            at: at(),
        },
        E::ComplaintRouted {
            category: ComplaintCategory::DeliveryDelay,
            departments: vec![Department::Sales, Department::Logistics],
            at: at(),
        },
        E::ComplaintReplied {
            reply: text("sorry"),
            at: at(),
        },
        E::RefundApproved {
            approver: actor("vp-1"),
            role: Role::SalesVp,
            tier: ApprovalTier::Tier3,
            amount: Money::cny(599_900),
            reason: text("within 7 days"),
            at: at(),
        },
        E::ItemReturned {
            received_by: actor("cs-1"),
            at: at(),
        },
        E::RefundPaid {
            amount: Money::cny(599_900),
            reference: label("RF-1"),
            at: at(),
        },
        E::DispatchAccepted {
            technician: tech(),
            at: at(),
        },
        E::DispatchDeclined {
            technician: tech(),
            reason: text("too far"),
            back_to: TicketStatus::Reopened,
            at: at(),
        },
        E::ItemTakenIn {
            receipt_number: label("R-0001"),
            condition: text("scratched lid"),
            site: label("Hangzhou depot"),
            bin: Some(label("B3")),
            by: actor("cs-1"),
            at: at(),
        },
        E::ItemHandedBack {
            receipt_number: label("R-0001"),
            by: actor("cs-1"),
            at: at(),
        },
        E::CustomerContacted {
            by: actor("cs-1"),
            commitment: text("collect tomorrow"),
            promised_on: day(2),
            at: at(),
        },
        E::TechnicianBack {
            technician: tech(),
            at: at(),
        },
        E::TripReportFiled {
            technician: tech(),
            report: text("fixed"),
            at: at(),
        },
        E::InquiryAnswered {
            by: actor("cs-1"),
            answer: text("yes"),
            at: at(),
        },
        E::InstallationScheduled {
            technician: tech(),
            window_start: at(),
            window_end: at(),
            at: at(),
        },
        E::ItemInstalled {
            technician: tech(),
            installed_at: at(),
            installed_on: day(1),
            serial: SerialNumber::parse("SN-3").expect("serial"),
            notes: text("level"),
            at: at(),
        },
        E::InstallationAccepted {
            signed_by: label("Li Lei").into(),
            comment: None,
            at: at(),
        },
        E::MaintenanceVisitDone {
            technician: tech(),
            visited_at: at(),
            findings: text("filter clogged"),
            parts_checked: vec![part("FLT-1")],
            next_due_on: Some(day(30)),
            at: at(),
        },
    ]
}

/// One corrective-action event of every variant, in `ActionEvent::NAMES` order.
pub(super) fn action_events() -> Vec<ActionEvent> {
    use ActionEvent as A;
    let (by, role) = (|| actor("rel-1"), Role::ReliabilityEngineer);
    vec![
        A::CorrectiveActionOpened {
            title: text("motor failures"),
            failure_modes: vec![label("MOTOR-OPEN")],
            models: vec![label("WM-800")],
            verification_window_days: 90,
            by: by(),
            role,
            at: at(),
        },
        A::RootCauseAnalysed {
            category: RootCause::SupplierPart,
            analysis: text("bad winding"),
            by: by(),
            role,
            at: at(),
        },
        A::ActionImplemented {
            description: text("new supplier"),
            implemented_on: day(5),
            by: by(),
            role,
            at: at(),
        },
        A::EffectivenessVerified {
            evidence: text("no recurrence"),
            window_from: day(5),
            window_to: day(25),
            by: by(),
            role,
            at: at(),
        },
        A::CorrectiveActionClosed {
            failures_checked: 7,
            by: by(),
            role: Role::FailureReviewBoard,
            at: at(),
        },
        A::StepPlanned {
            discipline: Discipline::D3Containment,
            owner: actor("owner-1"),
            due_on: day(9),
            by: by(),
            role,
            at: at(),
        },
        A::StepRecorded {
            discipline: Discipline::D1Team,
            content: text("team formed"),
            team: vec![actor("a-1"), actor("a-2")],
            by: by(),
            role,
            at: at(),
        },
        A::FailuresLinked {
            ticket_ids: vec!["T-1".into(), "T-2".into()],
            by: by(),
            role,
            at: at(),
        },
    ]
}

/// Both SLA alerts.
pub(super) fn alerts() -> Vec<Alert> {
    vec![
        Alert::SlaAtRisk {
            clock: "repair_cycle".into(),
            cycle: 1,
            due_at: at(),
            at: at(),
        },
        Alert::SlaBreached {
            clock: "urgent_response".into(),
            cycle: 2,
            due_at: at(),
            at: at(),
        },
    ]
}
