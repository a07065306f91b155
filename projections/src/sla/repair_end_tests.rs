//! How a repair cycle's clock ends when the item is not repaired: an
//! exchange, an approved refund or a cancellation ends the repair, so each
//! stops the clock met or missed by its time (DOMAIN.md §7); before, only
//! `QcPassed` stopped it and an exchanged item's clock ran for ever.
//! Working days here are 8 h (09:00–18:00 less lunch) on the 2026 calendar.

use chrono::{DateTime, Utc};
use domain::policy::ApprovalTier;
use domain::roles::Role;
use domain::values::SerialNumber;
use domain::{Money, TicketEvent};

use super::tests::{clock, clocks, diagnosed, label, repair, sh, tech, text};
use super::State;

const H: i64 = 3_600;

fn exchange_shipped(at: DateTime<Utc>) -> TicketEvent {
    TicketEvent::ExchangeShipped {
        replacement_serial: SerialNumber::parse("SN-2").expect("serial"),
        carrier: label("SF"),
        tracking_number: label("SF100"),
        replacement_unit: None,
        shipping_cost: None,
        at,
    }
}

fn refund_approved(at: DateTime<Utc>) -> TicketEvent {
    TicketEvent::RefundApproved {
        approver: tech(),
        role: Role::ServiceManager,
        tier: ApprovalTier::Tier1,
        amount: Money::cny(100_000),
        reason: text("三包 refund"),
        at,
    }
}

fn cancelled(at: DateTime<Utc>) -> TicketEvent {
    TicketEvent::TicketCancelled {
        reason: text("withdrawn"),
        at,
    }
}

/// Diagnosed Tuesday 6 January 09:00; the repair ends with `end` at `at`.
fn repair_ending_with(end: TicketEvent, at: DateTime<Utc>) -> super::ClockState {
    let d = sh("2026-01-06", "09:00");
    let sla = clocks(&[(repair(), d), (diagnosed(d), d), (end, at)]);
    clock(&sla, "repair_cycle", 1).clone()
}

#[test]
fn an_exchange_shipped_within_seven_working_days_meets_the_repair_cycle() {
    // Tue 09:00 to Thu 09:00: two working days.
    let at = sh("2026-01-08", "09:00");
    let c = repair_ending_with(exchange_shipped(at), at);
    assert_eq!(
        (c.state, c.elapsed, c.met, c.stopped_at),
        (State::Stopped, 16 * H, Some(true), Some(at))
    );
}

#[test]
fn a_refund_approved_after_ten_working_days_misses_the_repair_cycle() {
    // 6 Jan to 20 Jan: ten working days, three past the target of seven.
    let at = sh("2026-01-20", "09:00");
    let c = repair_ending_with(refund_approved(at), at);
    assert_eq!(
        (c.state, c.elapsed, c.met),
        (State::Stopped, 80 * H, Some(false))
    );
}

#[test]
fn a_cancellation_stops_the_repair_cycle_and_keeps_its_result() {
    let at = sh("2026-01-07", "09:00");
    let c = repair_ending_with(cancelled(at), at);
    assert_eq!(
        (c.state, c.elapsed, c.met),
        (State::Stopped, 8 * H, Some(true))
    );
}

#[test]
fn the_clock_an_exchange_stopped_is_not_stopped_again_by_a_later_cancel() {
    let d = sh("2026-01-06", "09:00");
    let shipped = sh("2026-01-07", "09:00");
    let late = sh("2026-02-02", "09:00");
    let sla = clocks(&[
        (repair(), d),
        (diagnosed(d), d),
        (exchange_shipped(shipped), shipped),
        (cancelled(late), late),
    ]);
    let c = clock(&sla, "repair_cycle", 1);
    assert_eq!(
        (c.elapsed, c.met, c.stopped_at),
        (8 * H, Some(true), Some(shipped))
    );
}
