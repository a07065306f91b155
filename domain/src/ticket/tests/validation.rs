//! Field errors: each refusal names the field and the exact problem.
//! Invoice and payment amounts are in `money`.

use chrono::{Duration, TimeZone, Utc};

use super::fixtures::*;
use crate::money::{Currency, Money};
use crate::policy::ApprovalTier;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::decide::MAX_LINES;
use crate::ticket::types::*;
use crate::ticket::{TicketError, TicketEvent};
use crate::values::{Hours, Label, Problem, Quantity};

fn malformed(field: &str, message: &str) -> TicketError {
    TicketError::Invalid(Problem::Malformed(message.into()).at(field))
}

fn too_many(field: &str) -> TicketError {
    TicketError::Invalid(Problem::TooMany { max: MAX_LINES }.at(field))
}

/// The message states the rule the code applies: a limit on the number,
/// not a range that would suggest an empty list is fine (issue #39).
#[test]
fn too_many_lines_are_refused_naming_the_limit_and_nothing_else() {
    assert_eq!(
        too_many("lines").to_string(),
        "invalid argument: lines must have at most 200 entries"
    );
}

fn empty(field: &str) -> TicketError {
    TicketError::Invalid(Problem::Empty.at(field))
}

// --- ReceiveTicket ----------------------------------------------------------------

fn receive_product(product: Product) -> Authored<TicketCommand> {
    by(
        Role::CustomerService,
        TicketCommand::ReceiveTicket(receive_with(TicketKind::Repair, product)),
    )
}

#[test]
fn a_purchase_date_in_the_future_is_refused() {
    framework()
        .given_no_previous_events()
        .when(receive_product(product(Some(date(2026, 3, 21)), true)))
        .then_expect_error(malformed(
            "product.purchase_date",
            "must not be in the future",
        ));
}

#[test]
fn a_purchase_made_today_is_accepted() {
    let c = receive_with(TicketKind::Repair, product(Some(date(2026, 3, 20)), true));
    framework()
        .given_no_previous_events()
        .when(by(
            Role::CustomerService,
            TicketCommand::ReceiveTicket(c.clone()),
        ))
        .then_expect_events(vec![received_event(c)]);
}

#[test]
fn today_is_the_beijing_date_not_the_utc_date() {
    // 2026-03-19 17:00 UTC is already 2026-03-20 01:00 in Beijing.
    let instant = Utc
        .with_ymd_and_hms(2026, 3, 19, 17, 0, 0)
        .single()
        .expect("valid instant");
    let c = receive_with(TicketKind::Repair, product(Some(date(2026, 3, 20)), true));
    let mut expected = received_event(c.clone());
    if let TicketEvent::TicketReceived { received_at, .. } = &mut expected {
        *received_at = instant;
    }
    framework_at(instant)
        .given_no_previous_events()
        .when(by(Role::CustomerService, TicketCommand::ReceiveTicket(c)))
        .then_expect_events(vec![expected]);
}

#[test]
fn an_installation_before_the_purchase_is_refused() {
    let mut p = product(Some(date(2026, 1, 10)), true);
    p.installed_on = Some(date(2026, 1, 9));
    framework()
        .given_no_previous_events()
        .when(receive_product(p))
        .then_expect_error(malformed(
            "product.installed_on",
            "must not be before the purchase date",
        ));
}

#[test]
fn an_installation_in_the_future_is_refused() {
    let mut p = product(Some(date(2026, 1, 10)), true);
    p.installed_on = Some(date(2026, 3, 21));
    framework()
        .given_no_previous_events()
        .when(receive_product(p))
        .then_expect_error(malformed(
            "product.installed_on",
            "must not be in the future",
        ));
}

#[test]
fn an_installation_in_the_future_is_refused_without_a_purchase_date() {
    let mut p = product(None, false);
    p.installed_on = Some(date(2026, 3, 21));
    framework()
        .given_no_previous_events()
        .when(receive_product(p))
        .then_expect_error(malformed(
            "product.installed_on",
            "must not be in the future",
        ));
}

// --- DispatchTechnician / DiagnoseFault ----------------------------------------------

#[test]
fn a_planned_arrival_before_reception_is_refused() {
    let c = DispatchTechnician {
        technician: id("tech-2"),
        planned_arrival: now() - Duration::minutes(1),
    };
    framework()
        .given(vec![received()])
        .when(by(
            Role::ServiceManager,
            TicketCommand::DispatchTechnician(c),
        ))
        .then_expect_error(malformed(
            "planned_arrival",
            "must not be before the ticket was received",
        ));
}

#[test]
fn misuse_must_be_marked_customer_caused() {
    framework()
        .given(vec![received(), in_warranty()])
        .when(by(
            Role::Technician,
            TicketCommand::DiagnoseFault(diagnose(
                RootCause::Misuse,
                false,
                RepairPath::WorkshopRepair,
            )),
        ))
        .then_expect_error(malformed(
            "customer_caused",
            "must be true when the root cause is misuse",
        ));
}

#[test]
fn a_diagnosis_lists_at_most_200_failed_parts() {
    let mut c = diagnose(RootCause::Manufacturing, false, RepairPath::WorkshopRepair);
    c.failed_parts = vec![part("MTR-100"); MAX_LINES + 1];
    framework()
        .given(vec![received(), in_warranty()])
        .when(by(Role::Technician, TicketCommand::DiagnoseFault(c)))
        .then_expect_error(too_many("failed_parts"));
}

#[test]
fn a_diagnosis_may_list_exactly_200_failed_parts() {
    let mut c = diagnose(RootCause::Manufacturing, false, RepairPath::WorkshopRepair);
    c.failed_parts = vec![part("MTR-100"); MAX_LINES];
    framework()
        .given(vec![received(), in_warranty()])
        .when(by(
            Role::Technician,
            TicketCommand::DiagnoseFault(c.clone()),
        ))
        .then_expect_events(vec![diagnosed_event(c)]);
}

// --- QuoteRepair -------------------------------------------------------------------

fn quote_lines(lines: Vec<QuoteLine>) -> Authored<TicketCommand> {
    by(
        Role::Technician,
        TicketCommand::QuoteRepair(QuoteRepair {
            lines,
            valid_until: date(2026, 4, 20),
        }),
    )
}

fn chargeable_diagnosed() -> Vec<TicketEvent> {
    vec![received(), out_of_warranty(), diagnosed()]
}

fn travel(amount: Money) -> QuoteLine {
    QuoteLine::Travel { amount }
}

/// The largest amount `Money::new` accepts.
fn largest() -> Money {
    Money::new(100_000_000_000_000, Currency::cny()).expect("largest amount")
}

#[test]
fn a_quote_without_lines_is_refused() {
    framework()
        .given(chargeable_diagnosed())
        .when(quote_lines(vec![]))
        .then_expect_error(empty("lines"));
}

#[test]
fn a_quote_has_at_most_200_lines() {
    framework()
        .given(chargeable_diagnosed())
        .when(quote_lines(vec![travel(Money::cny(100)); MAX_LINES + 1]))
        .then_expect_error(too_many("lines"));
}

#[test]
fn a_quote_line_in_another_currency_is_refused() {
    framework()
        .given(chargeable_diagnosed())
        .when(quote_lines(vec![
            travel(Money::cny(5_000)),
            travel(usd(5_000)),
        ]))
        .then_expect_error(malformed("lines[1].amount", "cannot combine CNY with USD"));
}

#[test]
fn a_labour_rate_in_another_currency_names_the_hourly_rate() {
    let labour = QuoteLine::Labour {
        hours: Hours::from_minutes(60).expect("hours"),
        hourly_rate: usd(8_000),
    };
    framework()
        .given(chargeable_diagnosed())
        .when(quote_lines(vec![travel(Money::cny(5_000)), labour]))
        .then_expect_error(malformed(
            "lines[1].hourly_rate",
            "cannot combine CNY with USD",
        ));
}

#[test]
fn a_part_price_in_another_currency_names_the_unit_price() {
    let parts = QuoteLine::Parts {
        part_number: part("MTR-100"),
        quantity: Quantity::new(1).expect("qty"),
        unit_price: usd(8_000),
    };
    framework()
        .given(chargeable_diagnosed())
        .when(quote_lines(vec![parts]))
        .then_expect_error(malformed(
            "lines[0].unit_price",
            "cannot combine CNY with USD",
        ));
}

#[test]
fn a_line_whose_total_overflows_is_refused() {
    let parts = QuoteLine::Parts {
        part_number: part("MTR-100"),
        quantity: Quantity::new(2).expect("qty"),
        unit_price: largest(),
    };
    framework()
        .given(chargeable_diagnosed())
        .when(quote_lines(vec![parts]))
        .then_expect_error(malformed("lines[0]", "amount is too large"));
}

#[test]
fn a_quote_whose_total_overflows_is_refused() {
    framework()
        .given(chargeable_diagnosed())
        .when(quote_lines(vec![travel(largest()), travel(Money::cny(1))]))
        .then_expect_error(malformed("lines[1].amount", "amount is too large"));
}

#[test]
fn a_quote_valid_until_yesterday_is_refused() {
    framework()
        .given(chargeable_diagnosed())
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(QuoteRepair {
                lines: vec![travel(Money::cny(5_000))],
                valid_until: date(2026, 3, 19),
            }),
        ))
        .then_expect_error(malformed("valid_until", "must not be before 2026-03-20"));
}

// --- ApproveFeeWaiver ---------------------------------------------------------------

fn waiver_of(amount: Money) -> Authored<TicketCommand> {
    by(
        Role::GeneralManager,
        TicketCommand::ApproveFeeWaiver(ApproveFeeWaiver {
            amount,
            reason: text("goodwill"),
        }),
    )
}

#[test]
fn a_waiver_of_nothing_is_refused() {
    framework()
        .given(chargeable_quote_approved(50_000, ApprovalTier::Tier1))
        .when(waiver_of(Money::cny(0)))
        .then_expect_error(malformed("amount", "must be greater than zero"));
}

#[test]
fn a_waiver_in_another_currency_is_refused() {
    framework()
        .given(chargeable_quote_approved(50_000, ApprovalTier::Tier1))
        .when(waiver_of(usd(10_000)))
        .then_expect_error(malformed("amount", "cannot combine USD with CNY"));
}

#[test]
fn a_waiver_larger_than_the_quote_is_refused() {
    framework()
        .given(chargeable_quote_approved(50_000, ApprovalTier::Tier1))
        .when(waiver_of(Money::cny(50_001)))
        .then_expect_error(malformed(
            "amount",
            "must not exceed 500.00 CNY, the quoted total 500.00 CNY less the waivers \
                 already approved",
        ));
}

#[test]
fn a_waiver_of_the_whole_quote_is_accepted() {
    framework()
        .given(chargeable_quote_approved(50_000, ApprovalTier::Tier1))
        .when(by(
            Role::GeneralManager,
            TicketCommand::ApproveFeeWaiver(waive(50_000)),
        ))
        .then_expect_events(vec![waiver_approved(
            50_000,
            ApprovalTier::Tier1,
            Role::GeneralManager,
        )]);
}

// --- RecordRepair / FailQc -------------------------------------------------------------

fn used(cost: Money) -> PartUsed {
    PartUsed {
        part_number: part("MTR-100"),
        quantity: Quantity::new(1).expect("qty"),
        unit_cost: cost,
        old_part: OldPartDisposition::RecoveredReusable,
    }
}

#[test]
fn parts_used_in_one_repair_share_one_currency() {
    let mut c = repair();
    c.parts = vec![used(Money::cny(35_000)), used(usd(5_000))];
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(Role::Technician, TicketCommand::RecordRepair(c)))
        .then_expect_error(malformed(
            "parts[1].unit_cost",
            "cannot combine USD with CNY",
        ));
}

#[test]
fn a_repair_uses_at_most_200_part_lines() {
    let mut c = repair();
    c.parts = vec![used(Money::cny(100)); MAX_LINES + 1];
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(Role::Technician, TicketCommand::RecordRepair(c)))
        .then_expect_error(too_many("parts"));
}

#[test]
fn a_repair_without_parts_records_labour_only() {
    let c = RecordRepair {
        labour: Hours::from_minutes(30).expect("hours"),
        parts: vec![],
        notes: Some(text("re-seated connector")),
    };
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(Role::Technician, TicketCommand::RecordRepair(c.clone())))
        .then_expect_events(vec![TicketEvent::RepairRecorded {
            technician: id("tech-1"),
            labour: c.labour,
            parts: vec![],
            notes: c.notes,
            labour_rate: Some(Money::cny(8_000)),
            at: now(),
        }]);
}

#[test]
fn a_qc_failure_names_at_least_one_defect() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed(), repaired()])
        .when(by(
            Role::QcInspector,
            TicketCommand::FailQc { defects: vec![] },
        ))
        .then_expect_error(empty("defects"));
}

#[test]
fn a_qc_failure_names_at_most_200_defects() {
    let defects: Vec<Label> = vec![label("scratch"); MAX_LINES + 1];
    framework()
        .given(vec![received(), in_warranty(), diagnosed(), repaired()])
        .when(by(Role::QcInspector, TicketCommand::FailQc { defects }))
        .then_expect_error(too_many("defects"));
}

// --- ExtendRepairCycle --------------------------------------------------------------

#[test]
fn the_cycle_is_not_extended_without_telling_the_customer() {
    let mut c = extend(date(2026, 4, 10));
    c.customer_notified = false;
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(
            Role::ServiceManager,
            TicketCommand::ExtendRepairCycle(c),
        ))
        .then_expect_error(malformed(
            "customer_notified",
            "the customer must be told before the cycle is extended",
        ));
}

#[test]
fn the_cycle_is_not_extended_to_today() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(
            Role::ServiceManager,
            TicketCommand::ExtendRepairCycle(extend(date(2026, 3, 20))),
        ))
        .then_expect_error(malformed("new_due_on", "must be after 2026-03-20"));
}

#[test]
fn the_cycle_is_not_extended_to_before_the_current_due_date() {
    framework()
        .given(vec![
            received(),
            in_warranty(),
            diagnosed(),
            extended(None, date(2026, 4, 10)),
        ])
        .when(by(
            Role::ServiceManager,
            TicketCommand::ExtendRepairCycle(extend(date(2026, 4, 5))),
        ))
        .then_expect_error(malformed("new_due_on", "must be after 2026-04-10"));
}

#[test]
fn the_cycle_may_be_extended_to_tomorrow() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(
            Role::ServiceManager,
            TicketCommand::ExtendRepairCycle(extend(date(2026, 3, 21))),
        ))
        .then_expect_events(vec![extended(None, date(2026, 3, 21))]);
}
