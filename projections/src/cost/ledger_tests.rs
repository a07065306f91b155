//! Ledgers of five fixtures, every figure worked out by hand. Built-in
//! policy: labour 80.00/h, urban travel 50.00, shipping 30.00 a shipment.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::money::Money;
use domain::policy::{ApprovalTier, Department};
use domain::ticket::command::*;
use domain::ticket::types::*;
use domain::ticket::Policies;
use domain::values::{
    ActorId, Hours, Label, PartNumber, PhoneNumber, Quantity, SerialNumber, Text,
};
use domain::{Actor, Role, Ticket, TicketCommand, TicketEvent};

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 20, 2, 0, 0)
        .single()
        .expect("instant")
}

fn label(s: &str) -> Label {
    Label::parse(s).expect("label")
}

fn text(s: &str) -> Text {
    Text::parse(s).expect("text")
}

/// Drives a ticket through real domain decisions and keeps its events.
struct Drive {
    ticket: Ticket,
    events: Vec<(TicketEvent, DateTime<Utc>)>,
    policies: Policies,
}

impl Drive {
    fn receive(purchased_on: Option<NaiveDate>) -> Self {
        let mut d = Drive {
            ticket: Ticket::default(),
            events: Vec::new(),
            policies: Policies::builtin(),
        };
        d.run(
            Role::CustomerService,
            TicketCommand::ReceiveTicket(ReceiveTicket {
                channel: Channel::Phone,
                kind: TicketKind::Repair,
                customer: Customer {
                    id: None,
                    name: label("Li Lei").into(),
                    phone: PhoneNumber::parse("13800138000").expect("phone").into(),
                    address: label("Hangzhou").into(),
                    region: Region::Urban,
                },
                product: Product {
                    line: label("washer"),
                    model: label("WM-800"),
                    serial: SerialNumber::parse("SN-1").expect("serial"),
                    batch: None,
                    purchased_on,
                    proof_of_purchase: purchased_on.is_some(),
                    installed_on: None,
                },
                description: text("no spin"),
                priority: Priority::Normal,
                service_mode: ServiceMode::OnSite,
                refers_to: None,
            }),
        );
        d.run(
            Role::CustomerService,
            TicketCommand::DetermineWarranty(DetermineWarranty {
                service_contract: false,
            }),
        );
        d
    }

    fn run(&mut self, role: Role, command: TicketCommand) {
        let actor = Actor {
            id: ActorId::parse(&format!("{role}-1")).expect("id"),
            role,
        };
        let event = self
            .ticket
            .decide(
                Authored::now(actor, command),
                now(),
                &self.policies,
                &domain::TimingPolicy::STANDARD,
            )
            .expect("the fixture follows the rules");
        cqrs_es::Aggregate::apply(&mut self.ticket, event.clone());
        self.events.push((event, now()));
    }

    /// Dispatched by the service manager; the technician accepts and arrives.
    fn visit(&mut self) {
        self.run(
            Role::ServiceManager,
            TicketCommand::DispatchTechnician(DispatchTechnician {
                technician: ActorId::parse("technician-1").expect("id"),
                planned_arrival: now(),
            }),
        );
        self.run(Role::Technician, TicketCommand::AcceptDispatch);
        self.run(Role::Technician, TicketCommand::RecordArrival);
    }

    fn diagnose(&mut self, root_cause: RootCause) {
        self.run(
            Role::Technician,
            TicketCommand::DiagnoseFault(DiagnoseFault {
                symptom: text("no spin"),
                failure_mode: label("MOTOR"),
                failed_parts: vec![],
                root_cause,
                customer_caused: root_cause == RootCause::Misuse,
                responsible_department: Department::Production,
                path: RepairPath::WorkshopRepair,
                major: false,
            }),
        );
    }

    fn repair(&mut self, part_fen: u32, quantity: i64, minutes: i64) {
        self.run(
            Role::Technician,
            TicketCommand::RecordRepair(RecordRepair {
                labour: Hours::from_minutes(minutes).expect("hours"),
                parts: vec![PartUsed {
                    part_number: PartNumber::parse("MTR-100").expect("part"),
                    quantity: Quantity::new(quantity).expect("qty"),
                    unit_cost: Money::cny(part_fen),
                    old_part: OldPartDisposition::Scrapped,
                }],
                notes: None,
            }),
        );
    }

    fn quote(&mut self, part_fen: u32, minutes: i64) {
        self.run(
            Role::Technician,
            TicketCommand::QuoteRepair(QuoteRepair {
                lines: vec![
                    QuoteLine::Parts {
                        part_number: PartNumber::parse("MTR-100").expect("part"),
                        quantity: Quantity::new(1).expect("qty"),
                        unit_price: Money::cny(part_fen),
                    },
                    QuoteLine::Labour {
                        hours: Hours::from_minutes(minutes).expect("hours"),
                        hourly_rate: Money::cny(8_000),
                    },
                ],
                valid_until: NaiveDate::from_ymd_opt(2026, 4, 30).expect("date"),
            }),
        );
    }

    fn ship(&mut self) {
        self.run(
            Role::Technician,
            TicketCommand::ShipItem(ShipItem {
                carrier: label("SF"),
                tracking_number: label("SF1"),
                address: label("Hangzhou"),
            }),
        );
    }

    fn ledger(&self) -> TicketLedger {
        ledger(&self.events).expect("one currency")
    }
}

fn bought_days_ago(days: i64) -> Option<NaiveDate> {
    Some(NaiveDate::from_ymd_opt(2026, 3, 20).expect("date") - chrono::Duration::days(days))
}

fn total(l: &TicketLedger, bearer: Bearer) -> i64 {
    l.by_bearer().get(&bearer).copied().unwrap_or(0)
}

fn line(l: &TicketLedger, kind: Kind, bearer: Bearer) -> i64 {
    l.lines
        .iter()
        .filter(|x| x.kind == kind && x.bearer == bearer)
        .map(|x| x.amount.minor())
        .sum()
}

#[test]
fn in_warranty_on_site_repair_is_borne_by_the_company() {
    let mut d = Drive::receive(bought_days_ago(60));
    d.visit();
    d.diagnose(RootCause::Manufacturing);
    d.repair(35_000, 1, 90);
    d.run(Role::QcInspector, TicketCommand::PassQc);
    d.ship();
    let l = d.ledger();
    // travel 50.00 + part 350.00 + 1.5 h × 80.00 = 120.00 + shipping 30.00
    assert_eq!(line(&l, Kind::Travel, Bearer::Company), 5_000);
    assert_eq!(line(&l, Kind::Parts, Bearer::Company), 35_000);
    assert_eq!(line(&l, Kind::Labour, Bearer::Company), 12_000);
    assert_eq!(line(&l, Kind::Shipping, Bearer::Company), 3_000);
    assert_eq!(total(&l, Bearer::Company), 55_000);
    assert_eq!(total(&l, Bearer::Customer), 0);
    assert!(l.quoted.is_empty());
    assert_eq!(l.sale_month.as_deref(), Some("2026-01"));
    assert_eq!(l.product_model, "WM-800");
    // The region the reports filter on, by its stored name.
    assert_eq!(l.region, "urban");
}

#[test]
fn misuse_in_warranty_is_borne_by_the_customer_and_invoiced() {
    let mut d = Drive::receive(bought_days_ago(60));
    d.diagnose(RootCause::Misuse);
    d.quote(35_000, 90); // 350.00 + 120.00 = 470.00, tier 1
    d.run(Role::ServiceManager, TicketCommand::ApproveQuote);
    d.run(Role::CustomerService, TicketCommand::AcceptQuote);
    d.repair(35_000, 1, 90);
    d.run(Role::QcInspector, TicketCommand::PassQc);
    d.ship();
    d.run(
        Role::Finance,
        TicketCommand::IssueInvoice(IssueInvoice {
            invoice_number: label("INV-1"),
            // The accepted quote: 470.00.
            amount: Money::cny(47_000),
        }),
    );
    d.run(
        Role::Finance,
        TicketCommand::RecordPayment(RecordPayment {
            amount: Money::cny(20_000),
            reference: label("P-1"),
        }),
    );
    let l = d.ledger();
    assert_eq!(total(&l, Bearer::Customer), 50_000); // 350 + 120 + 30
    assert_eq!(total(&l, Bearer::Company), 0);
    assert_eq!(l.quoted.get(&Kind::Parts), Some(&35_000));
    assert_eq!(l.quoted.get(&Kind::Labour), Some(&12_000));
    let actual = l.actual();
    assert_eq!(actual.get(&Kind::Parts), Some(&35_000));
    assert_eq!(actual.get(&Kind::Shipping), Some(&3_000)); // not quoted: +30.00 variance
    assert_eq!(
        (l.invoiced, l.paid, l.outstanding()),
        (47_000, 20_000, 27_000)
    );
}

#[test]
fn out_of_warranty_waiver_moves_the_waived_amount_to_goodwill_with_its_approver() {
    let mut d = Drive::receive(None);
    d.diagnose(RootCause::Wear);
    d.quote(138_000, 90); // 1,380.00 + 120.00 = 1,500.00: tier 2
    d.run(Role::SalesVp, TicketCommand::ApproveQuote);
    d.run(
        Role::SalesVp,
        TicketCommand::ApproveFeeWaiver(ApproveFeeWaiver {
            amount: Money::cny(20_000),
            reason: text("loyal customer"),
        }),
    );
    d.run(Role::CustomerService, TicketCommand::AcceptQuote);
    d.repair(138_000, 1, 90);
    d.run(Role::QcInspector, TicketCommand::PassQc);
    d.ship();
    let l = d.ledger();
    // Customer lines 1,380 + 120 + 30 = 1,530.00; 200.00 of the first (parts) is goodwill.
    assert_eq!(line(&l, Kind::Parts, Bearer::Customer), 118_000);
    assert_eq!(line(&l, Kind::Parts, Bearer::Goodwill), 20_000);
    assert_eq!(total(&l, Bearer::Customer), 133_000);
    assert_eq!(total(&l, Bearer::Goodwill), 20_000);
    let goodwill = l
        .lines
        .iter()
        .find(|x| x.bearer == Bearer::Goodwill)
        .expect("goodwill line");
    assert_eq!(goodwill.approver.as_deref(), Some("sales_vp-1"));
    assert_eq!(goodwill.tier, Some(ApprovalTier::Tier2));
}

#[test]
fn a_supplier_part_defect_in_warranty_is_recoverable_from_the_supplier() {
    let mut d = Drive::receive(bought_days_ago(100));
    d.diagnose(RootCause::SupplierPart);
    d.repair(10_000, 2, 60);
    d.run(Role::QcInspector, TicketCommand::PassQc);
    d.ship();
    let l = d.ledger();
    assert_eq!(line(&l, Kind::Parts, Bearer::Supplier), 20_000); // 2 × 100.00
    assert_eq!(line(&l, Kind::Labour, Bearer::Company), 8_000); // 1 h × 80.00
    assert_eq!(line(&l, Kind::Shipping, Bearer::Company), 3_000);
    assert_eq!(total(&l, Bearer::Supplier), 20_000);
    assert_eq!(total(&l, Bearer::Company), 11_000);
}

#[test]
fn a_declined_quote_costs_only_the_return_shipping_which_the_customer_bears() {
    let mut d = Drive::receive(None);
    d.diagnose(RootCause::Wear);
    d.quote(38_000, 90); // 500.00
    d.run(Role::ServiceManager, TicketCommand::ApproveQuote);
    d.run(
        Role::CustomerService,
        TicketCommand::DeclineQuote {
            reason: text("too dear"),
        },
    );
    d.ship();
    let l = d.ledger();
    assert_eq!(l.lines.len(), 1);
    assert_eq!(line(&l, Kind::Shipping, Bearer::Customer), 3_000);
    assert_eq!(l.quoted.values().sum::<i64>(), 50_000);
    assert!(!l.actual().contains_key(&Kind::Parts));
}

#[test]
fn a_late_diagnosis_of_misuse_makes_the_earlier_visit_chargeable() {
    let mut d = Drive::receive(bought_days_ago(30));
    d.visit();
    assert_eq!(line(&d.ledger(), Kind::Travel, Bearer::Company), 5_000);
    d.diagnose(RootCause::Misuse);
    assert_eq!(line(&d.ledger(), Kind::Travel, Bearer::Customer), 5_000);
}

/// An on-site in-warranty repair (travel, 1.5 h labour, a 350.00 part,
/// shipping) decided under `policies`.
fn on_site_repair_under(policies: Policies) -> Drive {
    let mut d = Drive::receive(bought_days_ago(60));
    d.policies = policies;
    d.visit();
    d.diagnose(RootCause::Manufacturing);
    d.repair(35_000, 1, 90);
    d.run(Role::QcInspector, TicketCommand::PassQc);
    d.ship();
    d
}

#[test]
fn a_ledger_keeps_the_rates_its_events_recorded_whatever_the_policy_is_now() {
    let mut dearer = Policies::builtin();
    dearer.costs.labour_per_hour = Money::cny(20_000);
    dearer.costs.travel_urban = Money::cny(7_000);
    dearer.costs.shipping_per_shipment = Money::cny(4_500);

    let l = on_site_repair_under(dearer).ledger();

    // 1.5 h × 200.00 = 300.00; travel 70.00; shipping 45.00; the part as recorded.
    assert_eq!(line(&l, Kind::Labour, Bearer::Company), 30_000);
    assert_eq!(line(&l, Kind::Travel, Bearer::Company), 7_000);
    assert_eq!(line(&l, Kind::Shipping, Bearer::Company), 4_500);
    assert_eq!(line(&l, Kind::Parts, Bearer::Company), 35_000);
}

#[test]
fn events_recorded_before_rates_were_recorded_are_costed_at_the_rates_of_that_time() {
    let mut d = on_site_repair_under(Policies::builtin());
    for (event, _) in &mut d.events {
        if let TicketEvent::TechnicianArrived { travel_cost, .. } = event {
            *travel_cost = None;
        }
        if let TicketEvent::RepairRecorded { labour_rate, .. } = event {
            *labour_rate = None;
        }
        if let TicketEvent::ItemShipped { shipping_cost, .. } = event {
            *shipping_cost = None;
        }
    }

    let l = d.ledger();

    assert_eq!(line(&l, Kind::Travel, Bearer::Company), 5_000);
    assert_eq!(line(&l, Kind::Labour, Bearer::Company), 12_000);
    assert_eq!(line(&l, Kind::Shipping, Bearer::Company), 3_000);
}

#[test]
fn two_waivers_of_one_cycle_both_move_to_goodwill() {
    let mut d = Drive::receive(None);
    d.diagnose(RootCause::Wear);
    d.quote(138_000, 90); // 1,500.00: tier 2
    d.run(Role::SalesVp, TicketCommand::ApproveQuote);
    for fen in [20_000, 10_000] {
        d.run(
            Role::SalesVp,
            TicketCommand::ApproveFeeWaiver(ApproveFeeWaiver {
                amount: Money::cny(fen),
                reason: text("loyal customer"),
            }),
        );
    }
    d.run(Role::CustomerService, TicketCommand::AcceptQuote);
    d.repair(138_000, 1, 90);
    d.run(Role::QcInspector, TicketCommand::PassQc);
    d.ship();
    let l = d.ledger();
    // Customer lines 1,530.00, of which 200.00 + 100.00 are goodwill.
    assert_eq!(total(&l, Bearer::Goodwill), 30_000);
    assert_eq!(total(&l, Bearer::Customer), 123_000);
}

#[test]
fn a_paid_refund_is_the_companys_refund_line() {
    let mut d = Drive::receive(bought_days_ago(3));
    d.run(
        Role::Technician,
        TicketCommand::DiagnoseFault(DiagnoseFault {
            symptom: text("no spin"),
            failure_mode: label("MOTOR"),
            failed_parts: vec![],
            root_cause: RootCause::Manufacturing,
            customer_caused: false,
            responsible_department: Department::Production,
            path: RepairPath::Refund,
            major: false,
        }),
    );
    d.run(
        Role::SalesVp,
        TicketCommand::ApproveRefund(ApproveRefund {
            amount: Money::cny(299_900),
            reason: text("三包 return"),
        }),
    );
    d.run(Role::CustomerService, TicketCommand::RecordItemReturned);
    assert!(
        d.ledger().lines.is_empty(),
        "nothing is paid before the refund"
    );
    d.run(
        Role::Finance,
        TicketCommand::PayRefund {
            reference: label("RF-1"),
        },
    );
    let l = d.ledger();
    assert_eq!(line(&l, Kind::Refund, Bearer::Company), 299_900);
    assert_eq!(total(&l, Bearer::Company), 299_900);
}

/// An out-of-warranty repair (no receipt) quoted 470.00, repaired,
/// delivered and revisited unresolved, then reopened (`same_fault`).
fn chargeable_repair_reopened(same_fault: bool) -> Drive {
    let mut d = Drive::receive(None);
    d.diagnose(RootCause::Wear);
    d.quote(35_000, 90);
    d.run(Role::ServiceManager, TicketCommand::ApproveQuote);
    d.run(Role::CustomerService, TicketCommand::AcceptQuote);
    d.repair(35_000, 1, 90);
    d.run(Role::QcInspector, TicketCommand::PassQc);
    d.ship();
    d.run(
        Role::Technician,
        TicketCommand::ConfirmDelivery {
            signed_by: label("Li Lei"),
        },
    );
    d.run(
        Role::CustomerService,
        TicketCommand::RecordRevisit(RecordRevisit {
            satisfaction: Satisfaction {
                attitude: SatisfactionLevel::Fair,
                skill: SatisfactionLevel::Fair,
                arrival_time: SatisfactionLevel::Fair,
                promises_kept: SatisfactionLevel::Fair,
            },
            comment: None,
            resolved: false,
        }),
    );
    d.run(
        Role::CustomerService,
        TicketCommand::ReopenTicket(ReopenTicket {
            reason: text("still no spin"),
            same_fault,
        }),
    );
    d
}

#[test]
fn a_warranty_determined_again_after_a_reopen_applies_to_the_new_cycle_only() {
    let mut d = chargeable_repair_reopened(false);
    d.run(
        Role::CustomerService,
        TicketCommand::DetermineWarranty(DetermineWarranty {
            service_contract: true,
        }),
    );
    d.diagnose(RootCause::Wear);
    d.repair(20_000, 1, 60);
    let l = d.ledger();
    let borne = |cycle: u32, bearer: Bearer| -> i64 {
        l.lines
            .iter()
            .filter(|x| x.cycle == cycle && x.bearer == bearer)
            .map(|x| x.amount.minor())
            .sum()
    };
    // Cycle 1 stays the customer's: 350 + 120 + 30; cycle 2, under the
    // service contract, is the company's: 200 + 80.
    assert_eq!(borne(1, Bearer::Customer), 50_000);
    assert_eq!(borne(1, Bearer::Company), 0);
    assert_eq!(borne(2, Bearer::Company), 28_000);
    assert_eq!(borne(2, Bearer::Customer), 0);
}

#[test]
fn a_same_fault_rework_within_the_guarantee_is_the_companys() {
    let mut d = chargeable_repair_reopened(true);
    d.diagnose(RootCause::Wear);
    d.repair(20_000, 1, 60);
    let l = d.ledger();
    let cycle_2: Vec<_> = l.lines.iter().filter(|x| x.cycle == 2).collect();
    assert_eq!(cycle_2.len(), 2);
    assert!(cycle_2.iter().all(|x| x.bearer == Bearer::Company));
    assert_eq!(total(&l, Bearer::Customer), 50_000);
}

/// A random repair as the ledger reads it: in or out of warranty, with or
/// without a visit, any of four root causes, a quote where the customer
/// pays, any part price, quantity and labour time.
fn random_repair(
    in_warranty: bool,
    visit: bool,
    cause: usize,
    part_fen: u32,
    quantity: i64,
    minutes: i64,
) -> Drive {
    let cause = [
        RootCause::Wear,
        RootCause::Misuse,
        RootCause::SupplierPart,
        RootCause::Manufacturing,
    ][cause];
    let mut d = Drive::receive(if in_warranty {
        bought_days_ago(60)
    } else {
        None
    });
    if visit {
        d.visit();
    }
    d.diagnose(cause);
    if !in_warranty || cause == RootCause::Misuse {
        d.quote(part_fen, 90);
        d.run(Role::ServiceManager, TicketCommand::ApproveQuote);
        d.run(Role::CustomerService, TicketCommand::AcceptQuote);
    }
    d.repair(part_fen, quantity, minutes);
    d.run(Role::QcInspector, TicketCommand::PassQc);
    d.ship();
    d
}

proptest::proptest! {
    #[test]
    fn ledger_rows_after_any_batch_split_equal_a_rebuilds(
        in_warranty in proptest::bool::ANY,
        visit in proptest::bool::ANY,
        cause in 0..4_usize,
        part_fen in 100..30_000_u32,
        quantity in 1..3_i64,
        minutes in 15..120_i64,
        cuts in proptest::collection::vec(0..20_usize, 0..5),
    ) {
        use crate::kept_tests::{logged, rows_after};
        let d = random_repair(in_warranty, visit, cause, part_fen, quantity, minutes);
        let stream: Vec<_> = d
            .events
            .iter()
            .enumerate()
            .map(|(n, (e, _))| logged("Ticket", "t-1", n, serde_json::to_value(e).expect("json")))
            .collect();
        let whole = rows_after::<crate::cost::CostLedger>(&stream, &[]);
        proptest::prop_assert_eq!(rows_after::<crate::cost::CostLedger>(&stream, &cuts), whole);
    }
}
