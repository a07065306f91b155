//! Complaints (DOMAIN.md §6): routed by category, replied to, revisited.

use super::fixtures::*;
use crate::policy::{ComplaintCategory, Department};
use crate::roles::Role;
use crate::ticket::command::*;

// --- complaints ----------------------------------------------------------------------

fn complaint_is_routed(category: ComplaintCategory, departments: Vec<Department>) {
    framework()
        .given(vec![complaint_received()])
        .when(by(
            Role::CustomerService,
            TicketCommand::RouteComplaint { category },
        ))
        .then_expect_events(vec![complaint_routed(category, departments)]);
}

#[test]
fn a_product_quality_complaint_goes_to_qc_then_after_sales() {
    complaint_is_routed(
        ComplaintCategory::ProductQuality,
        vec![Department::QualityControl, Department::AfterSales],
    );
}

#[test]
fn a_damaged_packaging_complaint_goes_to_warehouse_and_distribution() {
    complaint_is_routed(
        ComplaintCategory::PackagingOrSpoilage,
        vec![Department::WarehouseDistribution],
    );
}

#[test]
fn a_staff_conduct_complaint_goes_to_sales() {
    complaint_is_routed(ComplaintCategory::StaffConduct, vec![Department::Sales]);
}

#[test]
fn a_delivery_delay_complaint_goes_to_sales_and_logistics() {
    complaint_is_routed(
        ComplaintCategory::DeliveryDelay,
        vec![Department::Sales, Department::Logistics],
    );
}

#[test]
fn any_other_complaint_goes_to_the_after_sales_manager() {
    complaint_is_routed(
        ComplaintCategory::Other,
        vec![Department::AfterSalesManager],
    );
}

#[test]
fn customer_service_replies_to_a_routed_complaint() {
    framework()
        .given(routed_complaint())
        .when(by(Role::CustomerService, reply()))
        .then_expect_events(vec![complaint_replied()]);
}

#[test]
fn a_replied_complaint_is_revisited_then_closed() {
    let mut given = routed_complaint();
    given.push(complaint_replied());
    framework()
        .given(given.clone())
        .when(by(
            Role::CustomerService,
            TicketCommand::RecordRevisit(revisit(true)),
        ))
        .then_expect_events(vec![revisited(true)]);
    given.push(revisited(true));
    framework()
        .given(given)
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_events(vec![closed()]);
}

#[test]
fn a_routed_complaint_may_be_withdrawn() {
    framework()
        .given(routed_complaint())
        .when(by(Role::CustomerService, cancel()))
        .then_expect_events(vec![cancelled()]);
}

#[test]
fn a_complaint_may_be_escalated_to_the_general_manager() {
    framework()
        .given(routed_complaint())
        .when(by(Role::CustomerService, escalate()))
        .then_expect_events(vec![escalated()]);
}
