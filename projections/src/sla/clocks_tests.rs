//! Clocks of hand-built event sequences on the shipped China 2026 calendar
//! and policy; every figure worked out by hand in the comments.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::policy::Department;
use domain::ticket::types::*;
use domain::values::{ActorId, Label, PhoneNumber, SerialNumber, Text};
use domain::TicketEvent;

use super::*;

const H: i64 = 3_600;

pub(crate) fn sh(date: &str, time: &str) -> DateTime<Utc> {
    let local = chrono::NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M")
        .expect("valid");
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&local)
        .single()
        .expect("unambiguous")
        .with_timezone(&Utc)
}

pub(crate) fn label(s: &str) -> Label {
    Label::parse(s).expect("label")
}

pub(crate) fn text(s: &str) -> Text {
    Text::parse(s).expect("text")
}

pub(crate) fn tech() -> ActorId {
    ActorId::parse("tech-7").expect("id")
}

pub(crate) fn received(
    kind: TicketKind,
    priority: Priority,
    mode: ServiceMode,
    region: Region,
) -> TicketEvent {
    TicketEvent::TicketReceived {
        channel: Channel::Phone,
        kind,
        customer: Customer {
            id: None,
            name: label("Li Lei").into(),
            phone: PhoneNumber::parse("13800138000").expect("phone").into(),
            address: label("Hangzhou").into(),
            region,
        },
        product: Product {
            line: label("washer"),
            model: label("WM-800"),
            serial: SerialNumber::parse("SN-1").expect("serial"),
            batch: None,
            purchased_on: None,
            proof_of_purchase: false,
            installed_on: None,
        },
        description: text("no spin"),
        priority,
        service_mode: mode,
        received_at: Utc.timestamp_opt(0, 0).single().expect("t"),
        refers_to: None,
    }
}

pub(crate) fn repair() -> TicketEvent {
    received(
        TicketKind::Repair,
        Priority::Normal,
        ServiceMode::OnSite,
        Region::Urban,
    )
}

pub(crate) fn arrived(at: DateTime<Utc>) -> TicketEvent {
    TicketEvent::TechnicianArrived {
        technician: tech(),
        travel_cost: None,
        at,
    }
}

pub(crate) fn diagnosed(at: DateTime<Utc>) -> TicketEvent {
    TicketEvent::FaultDiagnosed {
        technician: tech(),
        symptom: text("no spin"),
        failure_mode: label("motor"),
        failed_parts: Vec::new(),
        root_cause: RootCause::Wear,
        customer_caused: false,
        responsible_department: Department::AfterSales,
        path: RepairPath::WorkshopRepair,
        major: false,
        at,
    }
}

pub(crate) fn quoted(at: DateTime<Utc>) -> TicketEvent {
    TicketEvent::RepairQuoted {
        lines: Vec::new(),
        total: domain::Money::cny(10_000),
        tier: domain::policy::ApprovalTier::Tier1,
        valid_until: NaiveDate::from_ymd_opt(2026, 2, 1).expect("d"),
        rule: None,
        at,
    }
}

pub(crate) fn clocks(events: &[(TicketEvent, DateTime<Utc>)]) -> TicketSla {
    derive(events, &SlaPolicy::default(), &Calendars::default())
}

pub(crate) fn clock<'a>(sla: &'a TicketSla, name: &str, cycle: u32) -> &'a ClockState {
    sla.clocks
        .iter()
        .find(|c| c.clock == name && c.cycle == cycle)
        .unwrap_or_else(|| panic!("no clock {name} in cycle {cycle}: {:?}", sla.clocks))
}

fn view(c: &ClockState, now: DateTime<Utc>) -> View {
    c.view(&Calendars::default().default, now, 75)
}

#[test]
fn urban_dispatch_arrival_is_due_six_working_hours_later_across_a_weekend() {
    // Fri 9 Jan 15:00: 3 h on Friday, 3 h on Monday morning.
    let start = sh("2026-01-09", "15:00");
    let sla = clocks(&[(repair(), start)]);
    let c = clock(&sla, "dispatch_arrival", 1);
    assert_eq!(c.target, 6 * H);
    assert_eq!(c.deadline, Some(sh("2026-01-12", "12:00")));
    // 75 % = 4 h 30: Friday 3 h + Monday 9:00-10:30.
    assert_eq!(c.at_risk_at, Some(sh("2026-01-12", "10:30")));
}

#[test]
fn a_running_clock_turns_at_risk_at_75_percent_and_breached_past_its_target() {
    let sla = clocks(&[(repair(), sh("2026-01-09", "15:00"))]);
    let c = clock(&sla, "dispatch_arrival", 1);
    let friday = view(c, sh("2026-01-09", "17:00"));
    assert_eq!(
        (friday.status, friday.elapsed, friday.percent_used),
        (Status::Running, 2 * H, 33)
    );
    let sunday = view(c, sh("2026-01-11", "12:00"));
    assert_eq!((sunday.status, sunday.elapsed), (Status::Running, 3 * H));
    assert_eq!(view(c, sh("2026-01-12", "10:30")).status, Status::AtRisk);
    let late = view(c, sh("2026-01-12", "13:01"));
    assert_eq!((late.status, late.remaining), (Status::Breached, -60));
}

#[test]
fn arrival_within_target_is_met_and_stays_met() {
    let sla = clocks(&[
        (repair(), sh("2026-01-09", "15:00")),
        (
            arrived(sh("2026-01-12", "11:00")),
            sh("2026-01-12", "11:00"),
        ),
    ]);
    let c = clock(&sla, "dispatch_arrival", 1);
    assert_eq!(
        (c.state, c.elapsed, c.met),
        (State::Stopped, 5 * H, Some(true))
    );
    assert_eq!(
        c.deadline,
        Some(sh("2026-01-12", "12:00")),
        "kept to judge against"
    );
    assert_eq!(view(c, sh("2026-03-01", "10:00")).status, Status::Met);
}

#[test]
fn suburban_customers_get_seven_working_hours() {
    let ev = received(
        TicketKind::Repair,
        Priority::Normal,
        ServiceMode::OnSite,
        Region::Suburban,
    );
    let sla = clocks(&[(ev, sh("2026-01-09", "15:00"))]);
    assert_eq!(
        clock(&sla, "dispatch_arrival", 1).deadline,
        Some(sh("2026-01-12", "14:00"))
    );
}

#[test]
fn the_repair_cycle_pauses_while_the_quote_awaits_the_customer() {
    // Diagnosed Tue 6 Jan 09:00; quoted 13:00 after 3 h; accepted Thu 8 Jan
    // 09:00: paused Tue 13-18 (5 h) + Wed (8 h) = 13 h of working time.
    let d = sh("2026-01-06", "09:00");
    let q = sh("2026-01-06", "13:00");
    let a = sh("2026-01-08", "09:00");
    let mut events = vec![(repair(), d), (diagnosed(d), d), (quoted(q), q)];
    let paused = clocks(&events);
    let c = clock(&paused, "repair_cycle", 1);
    assert_eq!(
        (c.state, c.elapsed, c.deadline),
        (State::Paused, 3 * H, None)
    );
    let v = view(c, sh("2026-01-07", "17:00"));
    assert_eq!((v.status, v.elapsed), (Status::Paused, 3 * H));

    events.push((TicketEvent::QuoteAccepted { at: a }, a));
    let resumed = clocks(&events);
    let c = clock(&resumed, "repair_cycle", 1);
    assert_eq!((c.state, c.paused), (State::Running, 13 * H));
    // 56 h + 13 h paused = 69 h from Tue 09:00: 8 days to Thu 15 Jan (64 h),
    // then Fri 16 Jan 09-12 and 13-15.
    assert_eq!(c.deadline, Some(sh("2026-01-16", "15:00")));

    let p = sh("2026-01-16", "14:00");
    events.push((
        TicketEvent::QcPassed {
            inspector: tech(),
            at: p,
        },
        p,
    ));
    let done = clocks(&events);
    let c = clock(&done, "repair_cycle", 1);
    // 68 h since diagnosis, less 13 h paused.
    assert_eq!((c.elapsed, c.met), (55 * H, Some(true)));
}

#[test]
fn a_declined_quote_cancels_the_repair_cycle_without_a_result() {
    let d = sh("2026-01-06", "09:00");
    let sla = clocks(&[
        (repair(), d),
        (diagnosed(d), d),
        (quoted(d), d),
        (
            TicketEvent::QuoteDeclined {
                reason: text("too dear"),
                at: d,
            },
            d,
        ),
    ]);
    let c = clock(&sla, "repair_cycle", 1);
    assert_eq!((c.state, c.met), (State::Cancelled, None));
}

#[test]
fn a_complaint_reply_counts_calendar_hours_and_a_late_reply_is_breached() {
    // Fri 17:00 to Sun 18:00 is 49 h, one past the 48 h target.
    let ev = received(
        TicketKind::Complaint,
        Priority::Normal,
        ServiceMode::Phone,
        Region::Urban,
    );
    let r = sh("2026-01-11", "18:00");
    let sla = clocks(&[
        (ev, sh("2026-01-09", "17:00")),
        (
            TicketEvent::ComplaintReplied {
                reply: text("sorry"),
                at: r,
            },
            r,
        ),
    ]);
    let c = clock(&sla, "complaint_reply", 1);
    assert_eq!((c.elapsed, c.met), (49 * H, Some(false)));
    assert_eq!(view(c, r).status, Status::Breached);
    assert!(
        sla.clocks.iter().all(|c| c.clock != "dispatch_arrival"),
        "phone tickets get no visit"
    );
}

#[test]
fn urgent_clocks_run_only_for_urgent_tickets() {
    let t = sh("2026-01-09", "17:00");
    let normal = clocks(&[(repair(), t)]);
    assert!(normal.clocks.iter().all(|c| !c.clock.starts_with("urgent")));
    let urgent = received(
        TicketKind::Repair,
        Priority::Urgent,
        ServiceMode::OnSite,
        Region::Urban,
    );
    let sla = clocks(&[(urgent, t)]);
    assert_eq!(
        clock(&sla, "urgent_on_site", 1).deadline,
        Some(sh("2026-01-11", "17:00"))
    );
    assert_eq!(
        clock(&sla, "urgent_response", 1).deadline,
        Some(sh("2026-01-10", "17:00"))
    );
}

#[test]
fn a_reopen_starts_a_new_cycle_and_keeps_the_old_cycles_results() {
    let t0 = sh("2026-01-06", "09:00");
    let t1 = sh("2026-01-06", "10:00");
    let t2 = sh("2026-01-20", "09:00");
    let sla = clocks(&[
        (repair(), t0),
        (arrived(t1), t1),
        (
            TicketEvent::CustomerRevisited {
                by: tech(),
                satisfaction: Satisfaction {
                    attitude: SatisfactionLevel::Fair,
                    skill: SatisfactionLevel::Fair,
                    arrival_time: SatisfactionLevel::Fair,
                    promises_kept: SatisfactionLevel::Fair,
                },
                average_score: 60,
                satisfied: false,
                comment: None,
                resolved: false,
                at: t2,
            },
            t2,
        ),
        (
            TicketEvent::TicketReopened {
                reason: text("still broken"),
                same_fault: true,
                cycle: 2,
                at: t2,
            },
            t2,
        ),
    ]);
    let old = clock(&sla, "dispatch_arrival", 1);
    assert_eq!(
        (old.state, old.elapsed, old.met),
        (State::Stopped, H, Some(true))
    );
    let new = clock(&sla, "dispatch_arrival", 2);
    assert_eq!((new.state, new.started_at), (State::Running, t2));
    assert_eq!(new.deadline, Some(sh("2026-01-20", "16:00")));
    assert_eq!(sla.cycle, 2);
    assert_eq!(sla.revisits.len(), 1);
    assert!(!sla.revisits[0].resolved);
    assert_eq!(sla.technician.as_deref(), Some("tech-7"));
}

#[test]
fn cancelling_the_ticket_ends_its_running_clocks_without_a_result() {
    let t = sh("2026-01-06", "09:00");
    let sla = clocks(&[
        (repair(), t),
        (
            TicketEvent::TicketCancelled {
                reason: text("withdrawn"),
                at: t,
            },
            t,
        ),
    ]);
    assert!(sla.clocks.iter().all(|c| c.state == State::Cancelled));
    assert_eq!(
        view(clock(&sla, "dispatch_arrival", 1), t).status,
        Status::Cancelled
    );
}

#[test]
fn editing_the_calendar_and_recomputing_moves_the_deadline() {
    // Same events; a calendar that makes Monday 12 Jan a holiday pushes the
    // 6 working hours from Friday 15:00 to Tuesday noon.
    let events = [(repair(), sh("2026-01-09", "15:00"))];
    let edited = super::super::calendar::CN_2026.replace(
        "\"2026-01-01..2026-01-03\",",
        "\"2026-01-01..2026-01-03\", \"2026-01-12\",",
    );
    let calendars = Calendars::single(Calendar::from_toml(&edited).expect("parses"));
    let sla = derive(&events, &SlaPolicy::default(), &calendars);
    assert_eq!(
        clock(&sla, "dispatch_arrival", 1).deadline,
        Some(sh("2026-01-13", "12:00"))
    );
}

#[test]
fn a_region_with_its_own_calendar_counts_its_own_hours() {
    // Suburban site works Saturday mornings: Fri 15-18 (3 h), Sat 9-12 (3 h),
    // Mon 9-10 (1 h) for the 7 suburban hours.
    let mut calendars = Calendars::default();
    let site = Calendar::from_toml("name = \"site\"\n[hours]\nsaturday = [\"09:00-12:00\"]")
        .expect("parses");
    calendars.by_region.insert("suburban".into(), site);
    let ev = received(
        TicketKind::Repair,
        Priority::Normal,
        ServiceMode::OnSite,
        Region::Suburban,
    );
    let sla = derive(
        &[(ev, sh("2026-01-09", "15:00"))],
        &SlaPolicy::default(),
        &calendars,
    );
    assert_eq!(
        clock(&sla, "dispatch_arrival", 1).deadline,
        Some(sh("2026-01-12", "10:00"))
    );
}

fn mail_in() -> TicketEvent {
    received(
        TicketKind::Repair,
        Priority::Normal,
        ServiceMode::MailIn,
        Region::Urban,
    )
}

fn taken_in(at: DateTime<Utc>) -> TicketEvent {
    TicketEvent::ItemTakenIn {
        receipt_number: label("R-1"),
        condition: text("scratched lid"),
        site: label("Hangzhou"),
        bin: None,
        by: tech(),
        at,
    }
}

#[test]
fn a_mail_in_repair_cycle_waits_until_the_item_is_taken_in() {
    // Diagnosed from photos Tue 6 Jan 09:00; the parcel is taken in Wed 7
    // Jan 09:00: the 8 working hours between are not the cycle's.
    let d = sh("2026-01-06", "09:00");
    let t = sh("2026-01-07", "09:00");
    let mut events = vec![(mail_in(), d), (diagnosed(d), d)];
    let waiting = clocks(&events);
    let c = clock(&waiting, "repair_cycle", 1);
    assert_eq!((c.state, c.awaiting_custody), (State::Paused, true));
    // A quote accepted meanwhile does not start it either.
    events.push((quoted(d), d));
    events.push((TicketEvent::QuoteAccepted { at: d }, d));
    assert_eq!(
        clock(&clocks(&events), "repair_cycle", 1).state,
        State::Paused
    );

    events.push((taken_in(t), t));
    let running = clocks(&events);
    let c = clock(&running, "repair_cycle", 1);
    assert_eq!((c.state, c.paused), (State::Running, 8 * H));
}

#[test]
fn a_mail_in_item_taken_in_before_the_diagnosis_starts_the_cycle_at_once() {
    let t = sh("2026-01-06", "09:00");
    let d = sh("2026-01-06", "11:00");
    let sla = clocks(&[(mail_in(), t), (taken_in(t), t), (diagnosed(d), d)]);
    let c = clock(&sla, "repair_cycle", 1);
    assert_eq!((c.state, c.started_at, c.paused), (State::Running, d, 0));
}

#[test]
fn the_trip_report_is_due_two_calendar_days_after_the_technician_is_back() {
    let back = sh("2026-01-09", "17:00");
    let filed = sh("2026-01-10", "10:00");
    let mut events = vec![
        (repair(), back),
        (
            TicketEvent::TechnicianBack {
                technician: tech(),
                at: back,
            },
            back,
        ),
    ];
    let due = clocks(&events);
    let c = clock(&due, "trip_report", 1);
    assert_eq!(c.deadline, Some(sh("2026-01-11", "17:00")));
    events.push((
        TicketEvent::TripReportFiled {
            technician: tech(),
            report: text("motor replaced"),
            at: filed,
        },
        filed,
    ));
    let done = clocks(&events);
    let c = clock(&done, "trip_report", 1);
    assert_eq!((c.state, c.met), (State::Stopped, Some(true)));
}

fn sent(at: DateTime<Utc>) -> TicketEvent {
    TicketEvent::SentToFactory {
        factory: label("Ningbo"),
        request: domain::ticket::types::FactoryRequest::Repair,
        factory_repair_fee: None,
        at,
    }
}

fn back_from_factory(at: DateTime<Utc>) -> TicketEvent {
    TicketEvent::ReturnedFromFactory {
        outcome: domain::ticket::types::FactoryOutcome::Repaired,
        note: None,
        at,
    }
}

#[test]
fn the_repair_cycle_pauses_while_the_item_is_at_the_factory() {
    // Diagnosed Tue 6 Jan 09:00; sent 11:00 (2 h); back Mon 12 Jan 09:00.
    let d = sh("2026-01-06", "09:00");
    let s = sh("2026-01-06", "11:00");
    let b = sh("2026-01-12", "09:00");
    let events = vec![
        (repair(), d),
        (diagnosed(d), d),
        (sent(s), s),
        (back_from_factory(b), b),
    ];
    let sla = clocks(&events);
    let c = clock(&sla, "repair_cycle", 1);
    // Tue 11-18 (6 h) + Wed-Fri (24 h) = 30 working hours at the factory.
    assert_eq!((c.state, c.paused), (State::Running, 30 * H));
    let factory = clock(&sla, "return_to_factory", 1);
    assert_eq!(factory.state, State::Stopped);
}

#[test]
fn an_extension_moves_the_repair_cycle_deadline_to_the_new_due_date() {
    let d = sh("2026-01-06", "09:00");
    let e = sh("2026-01-07", "10:00");
    let new_due = NaiveDate::from_ymd_opt(2026, 1, 30).expect("date");
    let mut events = vec![
        (repair(), d),
        (diagnosed(d), d),
        (
            TicketEvent::RepairCycleExtended {
                previous_due_on: None,
                new_due_on: new_due,
                reason: text("motor on back-order"),
                at: e,
            },
            e,
        ),
    ];
    let sla = clocks(&events);
    let c = clock(&sla, "repair_cycle", 1);
    // The end of Fri 30 Jan is the end of its last working period.
    assert_eq!(c.deadline, Some(sh("2026-01-30", "18:00")));
    // Passed on Thu 29 Jan: late against 7 days, on time against the new date.
    let p = sh("2026-01-29", "12:00");
    events.push((
        TicketEvent::QcPassed {
            inspector: tech(),
            at: p,
        },
        p,
    ));
    let done = clocks(&events);
    assert_eq!(clock(&done, "repair_cycle", 1).met, Some(true));
}

fn closed(at: DateTime<Utc>) -> TicketEvent {
    TicketEvent::TicketClosed { at }
}

fn reopened(cycle: u32, at: DateTime<Utc>) -> TicketEvent {
    TicketEvent::TicketReopened {
        reason: text("still broken"),
        same_fault: true,
        cycle,
        at,
    }
}

fn cancelled(at: DateTime<Utc>) -> TicketEvent {
    TicketEvent::TicketCancelled {
        reason: text("withdrawn"),
        at,
    }
}

#[test]
fn closing_the_ticket_judges_every_open_clock_by_its_own_time() {
    let t0 = sh("2026-01-06", "09:00");
    let t1 = sh("2026-01-06", "10:00");
    let sla = clocks(&[(repair(), t0), (closed(t1), t1)]);
    assert!(
        sla.clocks
            .iter()
            .all(|c| !matches!(c.state, State::Running | State::Paused)),
        "{:?}",
        sla.clocks
    );
    let arrival = clock(&sla, "dispatch_arrival", 1);
    assert_eq!(
        (arrival.state, arrival.elapsed, arrival.met),
        (State::Stopped, H, Some(true))
    );
    assert_eq!(view(arrival, sh("2026-02-06", "09:00")).status, Status::Met);
}

#[test]
fn a_breach_before_the_close_stays_a_breach_after_a_reopen() {
    let t0 = sh("2026-01-06", "09:00");
    let close = sh("2026-01-09", "09:00");
    let reopen = sh("2026-01-20", "09:00");
    let sla = clocks(&[
        (repair(), t0),
        (closed(close), close),
        (reopened(2, reopen), reopen),
    ]);
    let old = clock(&sla, "dispatch_arrival", 1);
    assert_eq!((old.state, old.met), (State::Stopped, Some(false)));
    assert!(old.elapsed > old.target, "{old:?}");
    assert_eq!(view(old, reopen).status, Status::Breached);
    let new = clock(&sla, "dispatch_arrival", 2);
    assert_eq!((new.state, new.started_at), (State::Running, reopen));
}

#[test]
fn a_cancel_after_a_breach_keeps_the_breach_and_one_before_ends_without_a_result() {
    let t0 = sh("2026-01-06", "09:00");
    let late = sh("2026-01-09", "09:00");
    let sla = clocks(&[(repair(), t0), (cancelled(late), late)]);
    let arrival = clock(&sla, "dispatch_arrival", 1);
    assert_eq!((arrival.state, arrival.met), (State::Stopped, Some(false)));
    let early = sh("2026-01-06", "10:00");
    let sla = clocks(&[(repair(), t0), (cancelled(early), early)]);
    assert_eq!(clock(&sla, "dispatch_arrival", 1).state, State::Cancelled);
}

proptest::proptest! {
    /// Random lifecycles: a closed ticket has no clock running, and no
    /// clock's result changes once the cycle it belongs to has ended.
    #[test]
    fn a_closed_cycle_keeps_no_running_clock_and_its_results_never_change(
        steps in proptest::collection::vec((0_u8..6, 1_i64..40), 1..25)
    ) {
        let mut at = sh("2026-01-06", "09:00");
        let (policy, calendars) = (SlaPolicy::default(), Calendars::default());
        let mut sla = TicketSla::start();
        sla.step(&repair(), at, &policy, &calendars);
        let mut cycle = 1;
        let mut ended: Vec<ClockState> = Vec::new();
        for (kind, hours) in steps {
            at += chrono::Duration::hours(hours);
            let event = match kind {
                0 => arrived(at),
                1 => diagnosed(at),
                2 => quoted(at),
                3 => closed(at),
                4 => {
                    cycle += 1;
                    reopened(cycle, at)
                }
                _ => cancelled(at),
            };
            let closes = matches!(event, TicketEvent::TicketClosed { .. });
            sla.step(&event, at, &policy, &calendars);
            for before in &ended {
                let now = sla
                    .clocks
                    .iter()
                    .find(|c| c.clock == before.clock && c.cycle == before.cycle)
                    .expect("a clock is never dropped");
                proptest::prop_assert_eq!(now, before);
            }
            if closes {
                let open: Vec<_> = sla
                    .clocks
                    .iter()
                    .filter(|c| matches!(c.state, State::Running | State::Paused))
                    .collect();
                proptest::prop_assert!(open.is_empty(), "{:?}", open);
                ended = sla.clocks.clone();
            }
        }
    }
}
