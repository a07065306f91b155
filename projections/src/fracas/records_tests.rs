//! A ticket's events → its unit and failure records.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::policy::Department;
use domain::ticket::types::*;
use domain::ticket::Policies;
use domain::values::{ActorId, Label, PartNumber, PhoneNumber, SerialNumber, Text};
use domain::TicketEvent;

use super::records::{failures, Signal};

/// 2026-03-20 10:00 Beijing time.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 20, 2, 0, 0)
        .single()
        .expect("instant")
}

pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

pub(crate) fn label(s: &str) -> Label {
    Label::parse(s).expect("label")
}

pub(crate) fn text(s: &str) -> Text {
    Text::parse(s).expect("text")
}

pub(crate) fn received(purchased: Option<NaiveDate>, installed: Option<NaiveDate>) -> TicketEvent {
    TicketEvent::TicketReceived {
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
            batch: Some(label("B1")),
            purchased_on: purchased,
            proof_of_purchase: purchased.is_some(),
            installed_on: installed,
        },
        description: text("no spin"),
        priority: Priority::Normal,
        service_mode: ServiceMode::MailIn,
        received_at: now(),
        refers_to: None,
    }
}

pub(crate) fn diagnosed(cause: RootCause, at: DateTime<Utc>) -> TicketEvent {
    TicketEvent::FaultDiagnosed {
        technician: ActorId::parse("tech-1").expect("id"),
        symptom: text("no spin"),
        failure_mode: label("MOTOR-OPEN"),
        failed_parts: vec![PartNumber::parse("MTR-100").expect("part")],
        root_cause: cause,
        customer_caused: cause == RootCause::Misuse,
        responsible_department: Department::Production,
        path: RepairPath::WorkshopRepair,
        major: false,
        at,
    }
}

fn stamped(events: Vec<TicketEvent>) -> Vec<(TicketEvent, DateTime<Utc>)> {
    events.into_iter().map(|e| (e, now())).collect()
}

#[test]
fn a_diagnosis_becomes_a_failure_report_with_operating_time_in_days() {
    // Bought 2026-01-19, failed 2026-03-20 (Beijing): 12 + 28 + 20 = 60 days.
    let events = stamped(vec![
        received(Some(date(2026, 1, 19)), None),
        diagnosed(RootCause::Manufacturing, now()),
    ]);
    let (unit, records) = failures("t-1", &events, Policies::default().local_time());
    let unit = unit.expect("unit");
    assert_eq!(
        (unit.serial.as_str(), unit.in_service_on),
        ("SN-1", Some(date(2026, 1, 19)))
    );
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.signal, Signal::Diagnosis);
    assert_eq!(r.failed_on, date(2026, 3, 20));
    assert_eq!(r.operating_days, Some(60));
    assert_eq!(r.failed_parts, vec!["MTR-100".to_owned()]);
    assert_eq!(r.root_cause.as_deref(), Some("manufacturing"));
    assert_eq!(r.responsible_department.as_deref(), Some("production"));
    assert_eq!(r.batch.as_deref(), Some("B1"));
    assert!(r.relevant());
}

#[test]
fn the_installed_date_wins_over_the_purchase_date() {
    let events = stamped(vec![
        received(Some(date(2026, 1, 1)), Some(date(2026, 3, 10))),
        diagnosed(RootCause::Design, now()),
    ]);
    let (_, records) = failures("t-1", &events, Policies::default().local_time());
    assert_eq!(records[0].operating_days, Some(10));
}

#[test]
fn no_fault_found_and_misuse_are_kept_and_marked_but_not_relevant() {
    let events = stamped(vec![
        received(None, None),
        diagnosed(RootCause::NoFaultFound, now()),
        diagnosed(RootCause::Misuse, now()),
    ]);
    let (_, records) = failures("t-1", &events, Policies::default().local_time());
    let marks: Vec<_> = records
        .iter()
        .map(|r| (r.no_fault_found, r.misuse, r.relevant(), r.operating_days))
        .collect();
    assert_eq!(
        marks,
        vec![(true, false, false, None), (false, true, false, None)]
    );
}

#[test]
fn qc_failures_and_reopens_are_signals_of_the_last_diagnosed_mode() {
    let later = now() + Duration::days(3);
    let events = stamped(vec![
        received(Some(date(2026, 1, 19)), None),
        diagnosed(RootCause::Assembly, now()),
        TicketEvent::QcFailed {
            inspector: ActorId::parse("qc-1").expect("id"),
            failed_checks: vec![label("noise"), label("leak")],
            rework: 1,
            at: now(),
        },
        TicketEvent::TicketReopened {
            reason: text("stopped again"),
            same_fault: true,
            cycle: 2,
            at: later,
        },
        diagnosed(RootCause::Assembly, later),
    ]);
    let (_, records) = failures("t-1", &events, Policies::default().local_time());
    let got: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.record_no,
                r.signal,
                r.failure_mode.as_str(),
                r.symptom.as_str(),
                r.cycle,
                r.relevant(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, Signal::Diagnosis, "MOTOR-OPEN", "no spin", 1, true),
            (2, Signal::QcFailed, "MOTOR-OPEN", "noise; leak", 1, false),
            (3, Signal::Reopened, "MOTOR-OPEN", "stopped again", 1, false),
            (4, Signal::Diagnosis, "MOTOR-OPEN", "no spin", 2, true),
        ]
    );
    assert_eq!(records[2].failed_parts, vec!["MTR-100".to_owned()]);
}

#[test]
fn short_flow_tickets_record_no_failure() {
    let with_kind = |kind: TicketKind| match received(Some(date(2026, 1, 19)), None) {
        TicketEvent::TicketReceived {
            channel,
            customer,
            product,
            description,
            priority,
            service_mode,
            received_at,
            refers_to,
            ..
        } => TicketEvent::TicketReceived {
            channel,
            kind,
            customer,
            product,
            description,
            priority,
            service_mode,
            received_at,
            refers_to,
        },
        other => other,
    };
    let tech = || ActorId::parse("tech-1").expect("id");
    let flows = [
        vec![
            with_kind(TicketKind::Inquiry),
            TicketEvent::InquiryAnswered {
                by: ActorId::parse("cs-1").expect("id"),
                answer: text("monthly"),
                at: now(),
            },
        ],
        vec![
            with_kind(TicketKind::Installation),
            TicketEvent::InstallationScheduled {
                technician: tech(),
                window_start: now(),
                window_end: now() + Duration::hours(4),
                at: now(),
            },
            TicketEvent::ItemInstalled {
                technician: tech(),
                installed_at: now(),
                installed_on: date(2026, 3, 20),
                serial: SerialNumber::parse("SN-1").expect("serial"),
                notes: text("levelled"),
                at: now(),
            },
            TicketEvent::InstallationAccepted {
                signed_by: label("Li Lei").into(),
                comment: None,
                at: now(),
            },
        ],
        vec![
            with_kind(TicketKind::Maintenance),
            TicketEvent::MaintenanceVisitDone {
                technician: tech(),
                visited_at: now(),
                findings: text("seal worn"),
                parts_checked: vec![PartNumber::parse("SEAL-20").expect("part")],
                next_due_on: None,
                at: now(),
            },
        ],
    ];
    for mut events in flows {
        events.push(TicketEvent::TicketClosed { at: now() });
        let (_, records) = failures("t-1", &stamped(events), Policies::default().local_time());
        assert_eq!(records, vec![]);
    }
}
