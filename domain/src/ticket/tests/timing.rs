//! Commands that state when they happened (DOMAIN.md §12): the rules judge
//! the stated time, and a stated time that breaks a timing rule is refused
//! naming `context.occurred_at`. The rules themselves are in
//! `crate::timing`; these tests show the aggregate applying them.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::fixtures::*;
use crate::policy::{Remedy, WarrantyBasis, WarrantyDecision, WarrantyStatus};
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::types::TicketKind;
use crate::ticket::{TicketError, TicketEvent};
use crate::timing::{Recording, TimingError, When};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0)
        .single()
        .expect("instant")
}

fn stated(
    role: Role,
    command: TicketCommand,
    when: DateTime<Utc>,
    recording: Recording,
) -> Authored<TicketCommand> {
    Authored {
        when: When {
            occurred_at: Some(when),
            recording,
        },
        ..by(role, command)
    }
}

/// A receipt of a washer bought on 2026-03-10, as it happened at `when`.
fn received_at(when: DateTime<Utc>) -> TicketEvent {
    match received_event(receive_with(
        TicketKind::Repair,
        product(Some(date(2026, 3, 10)), true),
    )) {
        TicketEvent::TicketReceived {
            channel,
            kind,
            customer,
            product,
            description,
            priority,
            service_mode,
            ..
        } => TicketEvent::TicketReceived {
            channel,
            kind,
            customer,
            product,
            description,
            priority,
            service_mode,
            received_at: when,
            refers_to: None,
        },
        other => other,
    }
}

fn determine() -> TicketCommand {
    TicketCommand::DetermineWarranty(DetermineWarranty {
        service_contract: false,
    })
}

#[test]
fn an_imported_warranty_check_judges_the_sales_law_windows_on_the_day_it_happened() {
    // Four days after the sale a refund is open; on "now" (ten days after)
    // it would be an exchange.
    framework()
        .given(vec![received_at(at(14, 2))])
        .when(stated(
            Role::CustomerService,
            determine(),
            at(14, 3),
            Recording::Import,
        ))
        .then_expect_events(vec![TicketEvent::WarrantyDetermined {
            decision: WarrantyDecision {
                status: WarrantyStatus::InWarranty,
                basis: WarrantyBasis::PurchaseDate,
                remedy: Remedy::Return,
                covered_until: Some(date(2027, 3, 10)),
                applied: Some(default_terms()),
            },
            at: at(14, 3),
        }]);
}

#[test]
fn a_live_warranty_check_entered_two_days_late_is_dated_when_it_happened() {
    framework()
        .given(vec![received_at(at(18, 1))])
        .when(stated(
            Role::CustomerService,
            determine(),
            at(18, 2),
            Recording::Live,
        ))
        .then_expect_events(vec![TicketEvent::WarrantyDetermined {
            decision: WarrantyDecision {
                status: WarrantyStatus::InWarranty,
                basis: WarrantyBasis::PurchaseDate,
                remedy: Remedy::Exchange,
                covered_until: Some(date(2027, 3, 10)),
                applied: Some(default_terms()),
            },
            at: at(18, 2),
        }]);
}

#[test]
fn a_command_stated_before_the_previous_event_is_refused() {
    framework()
        .given(vec![received_at(at(18, 2))])
        .when(stated(
            Role::CustomerService,
            determine(),
            at(18, 1),
            Recording::Live,
        ))
        .then_expect_error(TicketError::Timing(TimingError::BeforePrevious {
            occurred_at: at(18, 1),
            previous: at(18, 2),
        }));
}

#[test]
fn a_live_command_older_than_the_window_is_refused_and_an_import_is_not() {
    let four_days_ago = now() - Duration::days(4);
    framework()
        .given(vec![received_at(at(14, 0))])
        .when(stated(
            Role::CustomerService,
            determine(),
            four_days_ago,
            Recording::Live,
        ))
        .then_expect_error(TicketError::Timing(TimingError::BeyondWindow {
            occurred_at: four_days_ago,
            earliest: now() - Duration::hours(72),
            window_hours: 72,
        }));
    let accepted = crate::ticket::Ticket::default();
    let mut ticket = accepted;
    cqrs_es::Aggregate::apply(&mut ticket, received_at(at(14, 0)));
    let event = ticket
        .decide(
            stated(
                Role::CustomerService,
                determine(),
                four_days_ago,
                Recording::Import,
            ),
            now(),
            &Default::default(),
            &crate::timing::TimingPolicy::STANDARD,
        )
        .expect("an import may carry an old time");
    assert_eq!(event.occurred_at(), four_days_ago);
}

#[test]
fn an_approver_may_not_back_date_an_approval() {
    framework()
        .given(vec![
            received(),
            out_of_warranty(),
            diagnosed(),
            quoted_event(50_000, crate::policy::ApprovalTier::Tier1),
        ])
        .when(stated(
            Role::GeneralManager,
            TicketCommand::ApproveQuote,
            now() - Duration::hours(1),
            Recording::Live,
        ))
        .then_expect_error(TicketError::Timing(TimingError::MayNotBackdate {
            role: Role::GeneralManager,
        }));
}

#[test]
fn a_ticket_remembers_when_its_last_event_happened() {
    let mut ticket = crate::ticket::Ticket::default();
    cqrs_es::Aggregate::apply(&mut ticket, received_at(at(14, 0)));
    assert_eq!(ticket.occurred_at, Some(at(14, 0)));
}
