//! The short flows (issue #16.9): an inquiry answered, an installation
//! scheduled, installed and accepted, a maintenance visit done, each then
//! closed; none goes through diagnosis, repair, QC, shipping or revisit.

use chrono::Duration;
use cqrs_es::Aggregate;

use super::fixtures::*;
use crate::policy::warranty::{CountFrom, ProductLine, ProductLineTerms, WarrantyBasis};
use crate::policy::WarrantyStatus;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::flows::{step, Flow, Step};
use crate::ticket::types::*;
use crate::ticket::{Policies, TicketError, TicketEvent, TicketStatus};
use crate::timing::TimingPolicy;
use crate::values::Problem;

const SHORT: [TicketKind; 3] = [
    TicketKind::Inquiry,
    TicketKind::Installation,
    TicketKind::Maintenance,
];

fn malformed(field: &str, message: &str) -> TicketError {
    TicketError::Invalid(Problem::Malformed(message.into()).at(field))
}

fn closed() -> Vec<TicketEvent> {
    vec![TicketEvent::TicketClosed { at: now() }]
}

fn installed() -> Vec<TicketEvent> {
    vec![
        received_kind(TicketKind::Installation),
        installation_scheduled(),
        item_installed(),
    ]
}

// --- Inquiry ------------------------------------------------------------------

#[test]
fn customer_service_answers_an_inquiry() {
    framework()
        .given(vec![received_kind(TicketKind::Inquiry)])
        .when(by(Role::CustomerService, answer_inquiry()))
        .then_expect_events(vec![inquiry_answered()]);
}

#[test]
fn an_answered_inquiry_closes_without_diagnosis_or_revisit() {
    framework()
        .given(vec![received_kind(TicketKind::Inquiry), inquiry_answered()])
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_events(closed());
}

#[test]
fn an_unanswered_inquiry_does_not_close() {
    framework()
        .given(vec![received_kind(TicketKind::Inquiry)])
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_error(TicketError::FlowNotFinished {
            kind: TicketKind::Inquiry,
            missing: CommandKind::AnswerInquiry,
        });
}

#[test]
fn an_inquiry_ticket_has_no_diagnosis() {
    let error = TicketError::NotInFlow {
        command: CommandKind::DiagnoseFault,
        kind: TicketKind::Inquiry,
    };
    assert_eq!(
        error.to_string(),
        "inquiry tickets have no DiagnoseFault: their flow has no diagnosis, quote, repair, QC, \
         shipping or revisit"
    );
    framework()
        .given(vec![received_kind(TicketKind::Inquiry)])
        .when(by(
            Role::Technician,
            TicketCommand::DiagnoseFault(diagnose(
                RootCause::Manufacturing,
                false,
                RepairPath::WorkshopRepair,
            )),
        ))
        .then_expect_error(error);
}

#[test]
fn an_inquiry_is_answered_once() {
    framework()
        .given(vec![received_kind(TicketKind::Inquiry), inquiry_answered()])
        .when(by(Role::CustomerService, answer_inquiry()))
        .then_expect_error(TicketError::NotAllowed {
            command: CommandKind::AnswerInquiry,
            status: TicketStatus::InquiryAnswered,
        });
}

#[test]
fn a_repair_ticket_is_not_answered_as_an_inquiry() {
    framework()
        .given(vec![received()])
        .when(by(Role::CustomerService, answer_inquiry()))
        .then_expect_error(TicketError::WrongKind {
            command: CommandKind::AnswerInquiry,
            expected: TicketKind::Inquiry,
            kind: TicketKind::Repair,
        });
}

#[test]
fn a_qc_inspector_does_not_answer_inquiries() {
    framework()
        .given(vec![received_kind(TicketKind::Inquiry)])
        .when(by(Role::QcInspector, answer_inquiry()))
        .then_expect_error(TicketError::Forbidden {
            role: Role::QcInspector,
            command: CommandKind::AnswerInquiry,
        });
}

// --- Every repair-flow step on every short-flow ticket -------------------------------

#[test]
fn no_short_flow_ticket_takes_a_repair_flow_step() {
    let repair_steps: Vec<TicketCommand> = one_of_each_command()
        .into_iter()
        .filter(|c| step(c.kind()) == Step::Of(Flow::Repair))
        .collect();
    assert!(repair_steps.len() > 20, "the repair flow's steps");
    for kind in SHORT {
        for command in &repair_steps {
            let role = roles_allowed(command.kind())[0];
            framework()
                .given(vec![received_kind(kind)])
                .when(by(role, command.clone()))
                .then_expect_error(TicketError::NotInFlow {
                    command: command.kind(),
                    kind,
                });
        }
    }
}

#[test]
fn a_short_flow_step_is_refused_on_another_kind() {
    framework()
        .given(vec![received_kind(TicketKind::Installation)])
        .when(by(
            Role::Technician,
            TicketCommand::RecordMaintenanceVisit(maintenance_visit()),
        ))
        .then_expect_error(TicketError::WrongKind {
            command: CommandKind::RecordMaintenanceVisit,
            expected: TicketKind::Maintenance,
            kind: TicketKind::Installation,
        });
    framework()
        .given(vec![received_kind(TicketKind::Maintenance)])
        .when(by(Role::CustomerService, answer_inquiry()))
        .then_expect_error(TicketError::WrongKind {
            command: CommandKind::AnswerInquiry,
            expected: TicketKind::Inquiry,
            kind: TicketKind::Maintenance,
        });
    framework()
        .given(vec![received_kind(TicketKind::Complaint)])
        .when(by(
            Role::ServiceManager,
            TicketCommand::ScheduleInstallation(schedule_installation()),
        ))
        .then_expect_error(TicketError::WrongKind {
            command: CommandKind::ScheduleInstallation,
            expected: TicketKind::Installation,
            kind: TicketKind::Complaint,
        });
}

// --- Installation -----------------------------------------------------------------

#[test]
fn the_service_manager_schedules_an_installation() {
    framework()
        .given(vec![received_kind(TicketKind::Installation)])
        .when(by(
            Role::ServiceManager,
            TicketCommand::ScheduleInstallation(schedule_installation()),
        ))
        .then_expect_events(vec![installation_scheduled()]);
}

#[test]
fn a_technician_does_not_schedule_installations() {
    framework()
        .given(vec![received_kind(TicketKind::Installation)])
        .when(by(
            Role::Technician,
            TicketCommand::ScheduleInstallation(schedule_installation()),
        ))
        .then_expect_error(TicketError::Forbidden {
            role: Role::Technician,
            command: CommandKind::ScheduleInstallation,
        });
}

#[test]
fn an_installation_may_be_rescheduled_before_it_is_done() {
    let later = ScheduleInstallation {
        window_start: now() + Duration::days(3),
        window_end: now() + Duration::days(3) + Duration::hours(4),
        ..schedule_installation()
    };
    framework()
        .given(vec![
            received_kind(TicketKind::Installation),
            installation_scheduled(),
        ])
        .when(by(
            Role::ServiceManager,
            TicketCommand::ScheduleInstallation(later.clone()),
        ))
        .then_expect_events(vec![TicketEvent::InstallationScheduled {
            technician: later.technician,
            window_start: later.window_start,
            window_end: later.window_end,
            at: now(),
        }]);
}

#[test]
fn an_installation_window_ends_after_it_starts() {
    let backwards = ScheduleInstallation {
        window_end: schedule_installation().window_start,
        ..schedule_installation()
    };
    framework()
        .given(vec![received_kind(TicketKind::Installation)])
        .when(by(
            Role::ServiceManager,
            TicketCommand::ScheduleInstallation(backwards),
        ))
        .then_expect_error(malformed("window_end", "must be after window_start"));
}

#[test]
fn an_installation_is_not_scheduled_before_the_ticket_was_received() {
    let early = ScheduleInstallation {
        window_start: now() - Duration::hours(1),
        ..schedule_installation()
    };
    framework()
        .given(vec![received_kind(TicketKind::Installation)])
        .when(by(
            Role::ServiceManager,
            TicketCommand::ScheduleInstallation(early),
        ))
        .then_expect_error(malformed(
            "window_start",
            "must not be before the ticket was received",
        ));
}

#[test]
fn the_technician_records_the_scheduled_installation() {
    framework()
        .given(vec![
            received_kind(TicketKind::Installation),
            installation_scheduled(),
        ])
        .when(by(
            Role::Technician,
            TicketCommand::RecordInstallation(record_installation()),
        ))
        .then_expect_events(vec![item_installed()]);
}

#[test]
fn nothing_is_installed_before_it_is_scheduled() {
    framework()
        .given(vec![received_kind(TicketKind::Installation)])
        .when(by(
            Role::Technician,
            TicketCommand::RecordInstallation(record_installation()),
        ))
        .then_expect_error(TicketError::NotAllowed {
            command: CommandKind::RecordInstallation,
            status: TicketStatus::Received,
        });
}

#[test]
fn an_installation_is_not_recorded_in_the_future() {
    let ahead = RecordInstallation {
        installed_at: now() + Duration::hours(1),
        ..record_installation()
    };
    framework()
        .given(vec![
            received_kind(TicketKind::Installation),
            installation_scheduled(),
        ])
        .when(by(
            Role::Technician,
            TicketCommand::RecordInstallation(ahead),
        ))
        .then_expect_error(malformed("installed_at", "must not be in the future"));
}

#[test]
fn the_installation_is_the_products_installation_date_and_serial() {
    let ticket = state_after(installed());
    let product = ticket.product.expect("a product");
    assert_eq!(product.installed_on, Some(date(2026, 3, 20)));
    assert_eq!(product.serial.as_str(), "SN-0042");
    assert_eq!(ticket.status, TicketStatus::Installed);
}

#[test]
fn a_warranty_counting_from_installation_counts_from_the_recorded_installation() {
    let mut policies = Policies::default();
    policies.warranty.product_lines.push(ProductLine {
        name: "washers installed".into(),
        line: Some("washer".into()),
        model_prefix: None,
        terms: ProductLineTerms {
            warranty_months: 24,
            count_from: CountFrom::Installation,
            three_guarantees: true,
            repair_guarantee_days: 90,
        },
        costs: None,
    });
    let ticket = state_after(installed());
    let event = ticket
        .decide(
            by(
                Role::CustomerService,
                TicketCommand::DetermineWarranty(DetermineWarranty {
                    service_contract: false,
                }),
            ),
            now(),
            &policies,
            &TimingPolicy::STANDARD,
        )
        .expect("determined");
    let TicketEvent::WarrantyDetermined { decision, .. } = event else {
        panic!("not a warranty decision: {event:?}");
    };
    assert_eq!(decision.status, WarrantyStatus::InWarranty);
    assert_eq!(decision.basis, WarrantyBasis::InstallationDate);
    // Installed 2026-03-20: two years end on the corresponding day, a Monday.
    assert_eq!(decision.covered_until, Some(date(2028, 3, 20)));
}

#[test]
fn the_customer_accepts_the_installation() {
    framework()
        .given(installed())
        .when(by(
            Role::CustomerService,
            TicketCommand::AcceptInstallation(accept_installation()),
        ))
        .then_expect_events(vec![installation_accepted()]);
}

#[test]
fn an_installation_is_not_accepted_before_it_is_done() {
    framework()
        .given(vec![
            received_kind(TicketKind::Installation),
            installation_scheduled(),
        ])
        .when(by(
            Role::CustomerService,
            TicketCommand::AcceptInstallation(accept_installation()),
        ))
        .then_expect_error(TicketError::NotAllowed {
            command: CommandKind::AcceptInstallation,
            status: TicketStatus::InstallationScheduled,
        });
}

#[test]
fn an_installation_does_not_close_before_the_customer_accepts_it() {
    framework()
        .given(installed())
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_error(TicketError::FlowNotFinished {
            kind: TicketKind::Installation,
            missing: CommandKind::AcceptInstallation,
        });
}

#[test]
fn an_accepted_installation_closes() {
    let mut given = installed();
    given.push(installation_accepted());
    framework()
        .given(given)
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_events(closed());
}

#[test]
fn an_installation_ticket_has_no_qc() {
    framework()
        .given(installed())
        .when(by(Role::QcInspector, TicketCommand::PassQc))
        .then_expect_error(TicketError::NotInFlow {
            command: CommandKind::PassQc,
            kind: TicketKind::Installation,
        });
}

// --- Maintenance ------------------------------------------------------------------

#[test]
fn the_technician_records_a_maintenance_visit() {
    framework()
        .given(vec![received_kind(TicketKind::Maintenance)])
        .when(by(
            Role::Technician,
            TicketCommand::RecordMaintenanceVisit(maintenance_visit()),
        ))
        .then_expect_events(vec![maintenance_visit_done()]);
}

#[test]
fn customer_service_does_not_record_maintenance_visits() {
    framework()
        .given(vec![received_kind(TicketKind::Maintenance)])
        .when(by(
            Role::CustomerService,
            TicketCommand::RecordMaintenanceVisit(maintenance_visit()),
        ))
        .then_expect_error(TicketError::Forbidden {
            role: Role::CustomerService,
            command: CommandKind::RecordMaintenanceVisit,
        });
}

#[test]
fn the_next_maintenance_is_due_after_the_visit() {
    let same_day = RecordMaintenanceVisit {
        next_due_on: Some(date(2026, 3, 20)),
        ..maintenance_visit()
    };
    framework()
        .given(vec![received_kind(TicketKind::Maintenance)])
        .when(by(
            Role::Technician,
            TicketCommand::RecordMaintenanceVisit(same_day),
        ))
        .then_expect_error(malformed(
            "next_due_on",
            "must be after the day of the visit",
        ));
}

#[test]
fn a_maintenance_visit_is_not_before_the_ticket_was_received() {
    let early = RecordMaintenanceVisit {
        visited_at: now() - Duration::hours(2),
        ..maintenance_visit()
    };
    framework()
        .given(vec![received_kind(TicketKind::Maintenance)])
        .when(by(
            Role::Technician,
            TicketCommand::RecordMaintenanceVisit(early),
        ))
        .then_expect_error(malformed(
            "visited_at",
            "must not be before the ticket was received",
        ));
}

#[test]
fn a_maintenance_ticket_closes_once_the_visit_is_done() {
    framework()
        .given(vec![
            received_kind(TicketKind::Maintenance),
            maintenance_visit_done(),
        ])
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_events(closed());
}

#[test]
fn a_maintenance_ticket_does_not_close_before_the_visit() {
    framework()
        .given(vec![received_kind(TicketKind::Maintenance)])
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_error(TicketError::FlowNotFinished {
            kind: TicketKind::Maintenance,
            missing: CommandKind::RecordMaintenanceVisit,
        });
}

#[test]
fn a_repair_ticket_still_closes_only_after_the_revisit() {
    framework()
        .given(vec![received()])
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_error(TicketError::NotAllowed {
            command: CommandKind::CloseTicket,
            status: TicketStatus::Received,
        });
}

#[test]
fn a_short_flow_ticket_still_does_not_close_with_the_item_in_custody() {
    framework()
        .given(vec![
            received_kind(TicketKind::Maintenance),
            taken_in(),
            maintenance_visit_done(),
        ])
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_error(TicketError::ItemInCustody {
            receipt_number: label("R-0001"),
        });
}

#[test]
fn the_flow_steps_move_the_ticket_through_its_statuses() {
    let mut ticket = state_after(vec![received_kind(TicketKind::Installation)]);
    for (event, status) in [
        (
            installation_scheduled(),
            TicketStatus::InstallationScheduled,
        ),
        (item_installed(), TicketStatus::Installed),
        (installation_accepted(), TicketStatus::InstallationAccepted),
    ] {
        ticket.apply(event);
        assert_eq!(ticket.status, status);
    }
    let inquiry = state_after(vec![received_kind(TicketKind::Inquiry), inquiry_answered()]);
    assert_eq!(inquiry.status, TicketStatus::InquiryAnswered);
    let visit = state_after(vec![
        received_kind(TicketKind::Maintenance),
        maintenance_visit_done(),
    ]);
    assert_eq!(visit.status, TicketStatus::MaintenanceDone);
}
