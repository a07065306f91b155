//! The trip report (001 篇一 第三十三条): back from a visit, the technician
//! files a report.

use super::fixtures::*;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::trip::Trip;
use crate::ticket::TicketError;

fn on_site() -> Vec<crate::ticket::TicketEvent> {
    vec![received(), dispatched(), dispatch_accepted(), arrived()]
}

#[test]
fn a_technician_who_arrived_records_being_back() {
    framework()
        .given(on_site())
        .when(by(Role::Technician, TicketCommand::RecordBackFromTrip))
        .then_expect_events(vec![technician_back()]);
}

#[test]
fn nobody_is_back_without_having_gone() {
    framework()
        .given(vec![received()])
        .when(by(Role::Technician, TicketCommand::RecordBackFromTrip))
        .then_expect_error(TicketError::NotOnATrip {
            command: CommandKind::RecordBackFromTrip,
        });
}

#[test]
fn back_from_the_trip_the_technician_files_the_report() {
    let mut given = on_site();
    given.push(technician_back());
    framework()
        .given(given)
        .when(by(Role::Technician, file_trip_report()))
        .then_expect_events(vec![trip_report_filed()]);
}

#[test]
fn no_report_is_filed_before_the_technician_is_back() {
    framework()
        .given(on_site())
        .when(by(Role::Technician, file_trip_report()))
        .then_expect_error(TicketError::NotOnATrip {
            command: CommandKind::FileTripReport,
        });
}

#[test]
fn a_trip_is_reported_once() {
    let mut events = on_site();
    events.extend([technician_back(), trip_report_filed()]);
    assert_eq!(state_after(events.clone()).trip, Trip::None);
    framework()
        .given(events)
        .when(by(Role::Technician, file_trip_report()))
        .then_expect_error(TicketError::NotOnATrip {
            command: CommandKind::FileTripReport,
        });
}

#[test]
fn customer_service_does_not_file_trip_reports() {
    framework()
        .given(on_site())
        .when(by(Role::CustomerService, file_trip_report()))
        .then_expect_error(TicketError::Forbidden {
            role: Role::CustomerService,
            command: CommandKind::FileTripReport,
        });
}
