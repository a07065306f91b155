//! The branches of DOMAIN.md §2 up to the repair: remote fix, on-site visit,
//! no quote / quote needed, declined quote, return to factory and exchange.
//! QC rework, extension, reopen, cancel and escalation are in `rework_and_reopen`,
//! complaints in `complaints`.

use super::fixtures::*;
use crate::policy::{ApprovalTier, Remedy, WarrantyBasis, WarrantyDecision, WarrantyStatus};
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::types::*;
use crate::ticket::{TicketError, TicketEvent, TicketStatus};

// --- remote fix -------------------------------------------------------------

#[test]
fn technician_resolves_a_remote_fix_diagnosis_remotely() {
    framework()
        .given(vec![
            received(),
            in_warranty(),
            diagnosed_with(RepairPath::RemoteFix),
        ])
        .when(by(Role::Technician, resolve_remotely()))
        .then_expect_events(vec![resolved_remotely()]);
}

#[test]
fn a_remote_fix_is_revisited_without_shipping() {
    framework()
        .given(vec![
            received(),
            in_warranty(),
            diagnosed_with(RepairPath::RemoteFix),
            resolved_remotely(),
        ])
        .when(by(
            Role::CustomerService,
            TicketCommand::RecordRevisit(revisit(true)),
        ))
        .then_expect_events(vec![revisited(true)]);
}

#[test]
fn a_remote_fix_closes_after_a_resolved_revisit() {
    framework()
        .given(vec![
            received(),
            in_warranty(),
            diagnosed_with(RepairPath::RemoteFix),
            resolved_remotely(),
            revisited(true),
        ])
        .when(by(Role::CustomerService, TicketCommand::CloseTicket))
        .then_expect_events(vec![closed()]);
}

// --- on-site visit ----------------------------------------------------------

#[test]
fn service_manager_dispatches_a_technician() {
    framework()
        .given(vec![received()])
        .when(by(
            Role::ServiceManager,
            TicketCommand::DispatchTechnician(dispatch()),
        ))
        .then_expect_events(vec![dispatched()]);
}

#[test]
fn a_dispatched_technician_may_be_replaced_by_another_dispatch() {
    framework()
        .given(vec![received(), dispatched()])
        .when(by(
            Role::ServiceManager,
            TicketCommand::DispatchTechnician(dispatch()),
        ))
        .then_expect_events(vec![dispatched()]);
}

#[test]
fn technician_records_arrival_on_site() {
    framework()
        .given(vec![received(), dispatched(), dispatch_accepted()])
        .when(by(Role::Technician, TicketCommand::RecordArrival))
        .then_expect_events(vec![arrived()]);
}

#[test]
fn technician_diagnoses_on_site_after_arriving() {
    framework()
        .given(vec![received(), in_warranty(), dispatched(), arrived()])
        .when(by(
            Role::Technician,
            TicketCommand::DiagnoseFault(diagnose(
                RootCause::Manufacturing,
                false,
                RepairPath::WorkshopRepair,
            )),
        ))
        .then_expect_events(vec![diagnosed()]);
}

#[test]
fn diagnosing_while_only_dispatched_is_refused() {
    framework()
        .given(vec![received(), in_warranty(), dispatched()])
        .when(by(
            Role::Technician,
            TicketCommand::DiagnoseFault(diagnose(
                RootCause::Manufacturing,
                false,
                RepairPath::WorkshopRepair,
            )),
        ))
        .then_expect_error(TicketError::NotAllowed {
            command: CommandKind::DiagnoseFault,
            status: TicketStatus::Dispatched,
        });
}

#[test]
fn warranty_may_be_determined_on_site() {
    framework()
        .given(vec![received(), dispatched(), arrived()])
        .when(by(
            Role::Technician,
            TicketCommand::DetermineWarranty(DetermineWarranty {
                service_contract: false,
            }),
        ))
        .then_expect_events(vec![in_warranty()]);
}

// --- no quote needed ----------------------------------------------------------

#[test]
fn in_warranty_repair_starts_straight_after_diagnosis() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed()])
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .then_expect_events(vec![repaired()]);
}

#[test]
fn service_contract_repair_needs_no_quote() {
    framework()
        .given(vec![received(), service_contract(), diagnosed()])
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .then_expect_events(vec![repaired()]);
}

#[test]
fn a_service_contract_is_recorded_as_the_warranty_basis() {
    framework()
        .given(vec![received()])
        .when(by(
            Role::CustomerService,
            TicketCommand::DetermineWarranty(DetermineWarranty {
                service_contract: true,
            }),
        ))
        .then_expect_events(vec![service_contract()]);
}

// --- quote needed -------------------------------------------------------------

#[test]
fn no_proof_of_purchase_is_out_of_warranty() {
    let given = received_event(receive_with(
        TicketKind::Repair,
        product(Some(date(2026, 1, 10)), false),
    ));
    framework()
        .given(vec![given])
        .when(determine_warranty())
        .then_expect_events(vec![out_of_warranty()]);
}

fn determine_warranty() -> Authored<TicketCommand> {
    by(
        Role::CustomerService,
        TicketCommand::DetermineWarranty(DetermineWarranty {
            service_contract: false,
        }),
    )
}

#[test]
fn a_washer_bought_over_a_year_ago_is_out_of_warranty() {
    framework()
        .given(vec![received_long_ago()])
        .when(determine_warranty())
        .then_expect_events(vec![expired_warranty()]);
}

#[test]
fn a_fault_five_days_after_sale_may_still_be_returned() {
    let bought_on_15_march =
        receive_with(TicketKind::Repair, product(Some(date(2026, 3, 15)), true));
    framework()
        .given(vec![received_event(bought_on_15_march)])
        .when(determine_warranty())
        .then_expect_events(vec![TicketEvent::WarrantyDetermined {
            decision: WarrantyDecision {
                status: WarrantyStatus::InWarranty,
                basis: WarrantyBasis::PurchaseDate,
                remedy: Remedy::Return,
                covered_until: Some(date(2027, 3, 15)),
                applied: Some(default_terms()),
            },
            at: now(),
        }]);
}

#[test]
fn an_expired_warranty_is_quoted() {
    framework()
        .given(vec![received_long_ago(), expired_warranty(), diagnosed()])
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(quote_of(50_000)),
        ))
        .then_expect_events(vec![quoted_event(50_000, ApprovalTier::Tier1)]);
}

#[test]
fn without_proof_of_purchase_the_repair_is_quoted() {
    framework()
        .given(vec![received(), out_of_warranty(), diagnosed()])
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(quote_of(30_000)),
        ))
        .then_expect_events(vec![quoted_event(30_000, ApprovalTier::Tier1)]);
}

#[test]
fn misuse_in_warranty_is_quoted() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed_misuse()])
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(quote_of(30_000)),
        ))
        .then_expect_events(vec![quoted_event(30_000, ApprovalTier::Tier1)]);
}

#[test]
fn misuse_in_warranty_is_not_repaired_before_the_customer_accepts() {
    framework()
        .given(vec![received(), in_warranty(), diagnosed_misuse()])
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .then_expect_error(TicketError::CustomerAcceptanceRequired {
            command: CommandKind::RecordRepair,
            status: TicketStatus::Diagnosed,
        });
}

#[test]
fn an_approved_quote_may_be_revised_and_needs_approval_again() {
    framework()
        .given(chargeable_quote_approved(50_000, ApprovalTier::Tier1))
        .when(by(
            Role::Technician,
            TicketCommand::QuoteRepair(quote_of(60_000)),
        ))
        .then_expect_events(vec![quoted_event(60_000, ApprovalTier::Tier1)]);
}

// --- customer declines ----------------------------------------------------------

#[test]
fn customer_declines_an_approved_quote() {
    framework()
        .given(chargeable_quote_approved(50_000, ApprovalTier::Tier1))
        .when(by(Role::CustomerService, decline()))
        .then_expect_events(vec![declined()]);
}

#[test]
fn customer_may_decline_before_the_internal_approval() {
    framework()
        .given(chargeable_quoted(50_000, ApprovalTier::Tier1))
        .when(by(Role::Technician, decline()))
        .then_expect_events(vec![declined()]);
}

#[test]
fn a_declined_item_is_shipped_back_unrepaired_without_qc() {
    let mut given = chargeable_quote_approved(50_000, ApprovalTier::Tier1);
    given.push(declined());
    framework()
        .given(given)
        .when(by(Role::Technician, TicketCommand::ShipItem(ship())))
        .then_expect_events(vec![shipped(true)]);
}

#[test]
fn an_unrepaired_item_is_delivered_revisited_and_closed() {
    let mut given = chargeable_quote_approved(50_000, ApprovalTier::Tier1);
    given.extend([declined(), shipped(true)]);
    framework()
        .given(given.clone())
        .when(by(Role::CustomerService, confirm_delivery()))
        .then_expect_events(vec![delivered()]);
    given.push(delivered());
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
fn a_declined_quote_is_not_repaired() {
    let mut given = chargeable_quote_approved(50_000, ApprovalTier::Tier1);
    given.push(declined());
    framework()
        .given(given)
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .then_expect_error(TicketError::NotAllowed {
            command: CommandKind::RecordRepair,
            status: TicketStatus::Declined,
        });
}

// --- return to factory and exchange ----------------------------------------------

#[test]
fn an_in_warranty_item_is_sent_to_the_factory_after_diagnosis() {
    framework()
        .given(vec![
            received(),
            in_warranty(),
            diagnosed_with(RepairPath::ReturnToFactory),
        ])
        .when(by(
            Role::Technician,
            TicketCommand::SendToFactory(send_to_factory()),
        ))
        .then_expect_events(vec![sent_to_factory()]);
}

#[test]
fn a_chargeable_item_is_sent_to_the_factory_once_accepted() {
    framework()
        .given(chargeable_accepted())
        .when(by(
            Role::Technician,
            TicketCommand::SendToFactory(send_to_factory()),
        ))
        .then_expect_events(vec![sent_to_factory()]);
}

#[test]
fn the_factory_returns_the_item_repaired() {
    framework()
        .given(at_factory())
        .when(by(
            Role::Technician,
            TicketCommand::ReceiveFromFactory(receive_from_factory(FactoryOutcome::Repaired)),
        ))
        .then_expect_events(vec![returned_from_factory(FactoryOutcome::Repaired)]);
}

#[test]
fn a_factory_repair_goes_through_qc() {
    framework()
        .given(back_from_factory(FactoryOutcome::Repaired))
        .when(by(Role::QcInspector, TicketCommand::PassQc))
        .then_expect_events(vec![qc_passed()]);
}

#[test]
fn the_factory_agrees_to_an_exchange() {
    framework()
        .given(at_factory())
        .when(by(
            Role::Technician,
            TicketCommand::ReceiveFromFactory(receive_from_factory(FactoryOutcome::ExchangeAgreed)),
        ))
        .then_expect_events(vec![returned_from_factory(FactoryOutcome::ExchangeAgreed)]);
}

#[test]
fn an_agreed_exchange_ships_a_replacement() {
    framework()
        .given(back_from_factory(FactoryOutcome::ExchangeAgreed))
        .when(by(
            Role::Technician,
            TicketCommand::ShipExchange(ship_exchange()),
        ))
        .then_expect_events(vec![exchange_shipped()]);
}

#[test]
fn a_shipped_replacement_is_delivered() {
    let mut given = at_factory();
    given.extend([
        returned_from_factory(FactoryOutcome::ExchangeAgreed),
        exchange_shipped(),
    ]);
    framework()
        .given(given)
        .when(by(Role::Technician, confirm_delivery()))
        .then_expect_events(vec![delivered()]);
}

#[test]
fn a_factory_refusal_goes_back_to_choosing_a_remedy() {
    framework()
        .given(at_factory())
        .when(by(
            Role::Technician,
            TicketCommand::ReceiveFromFactory(receive_from_factory(FactoryOutcome::Refused)),
        ))
        .then_expect_events(vec![returned_from_factory(FactoryOutcome::Refused)]);
}

#[test]
fn after_a_factory_refusal_the_workshop_may_repair() {
    framework()
        .given(back_from_factory(FactoryOutcome::Refused))
        .when(by(Role::Technician, TicketCommand::RecordRepair(repair())))
        .then_expect_events(vec![repaired()]);
}

#[test]
fn after_a_factory_refusal_the_fault_may_be_diagnosed_again() {
    framework()
        .given(back_from_factory(FactoryOutcome::Refused))
        .when(by(
            Role::Technician,
            TicketCommand::DiagnoseFault(diagnose(
                RootCause::Manufacturing,
                false,
                RepairPath::WorkshopRepair,
            )),
        ))
        .then_expect_events(vec![diagnosed()]);
}
