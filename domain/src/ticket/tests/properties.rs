//! Properties of random command sequences: whatever is asked, in whatever
//! order and role, the ticket never panics, never writes on a refusal, and
//! keeps its counters and money consistent.
//!
//! Each step either picks a command the ticket accepts right now (so that
//! sequences often walk a whole lifecycle to close) or a random command from
//! the pool, issued mostly by a role allowed to issue it and sometimes by any
//! role at all.

use cqrs_es::Aggregate;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use super::fixtures::*;
use crate::money::Money;
use crate::policy::ComplaintCategory;
use crate::roles::Role;
use crate::ticket::command::*;
use crate::ticket::types::*;
use crate::ticket::{Policies, Ticket, TicketError, TicketEvent, TicketStatus};

/// Valid commands of every kind, with several values where the value steers
/// the lifecycle (warranty, path, quote tier, factory outcome, …).
fn pool() -> Vec<TicketCommand> {
    use TicketCommand as C;
    let mut pool = vec![
        C::ReceiveTicket(receive()),
        C::ReceiveTicket(receive_with(
            TicketKind::Repair,
            product(Some(date(2026, 1, 10)), false),
        )),
        C::ReceiveTicket(receive_with(
            TicketKind::Repair,
            product(Some(date(2024, 1, 1)), true),
        )),
        C::ReceiveTicket(receive_complaint()),
        C::DetermineWarranty(DetermineWarranty {
            service_contract: false,
        }),
        C::DetermineWarranty(DetermineWarranty {
            service_contract: true,
        }),
        C::DispatchTechnician(dispatch()),
        // To the pool's technician (tech-1), who may then accept or decline.
        C::DispatchTechnician(DispatchTechnician {
            technician: id("tech-1"),
            ..dispatch()
        }),
        C::AcceptDispatch,
        decline_dispatch(),
        C::RecordArrival,
        C::DiagnoseFault(diagnose(
            RootCause::Manufacturing,
            false,
            RepairPath::WorkshopRepair,
        )),
        C::DiagnoseFault(diagnose(RootCause::Misuse, true, RepairPath::OnSiteRepair)),
        C::DiagnoseFault(diagnose(RootCause::Design, false, RepairPath::RemoteFix)),
        C::DiagnoseFault(diagnose(
            RootCause::SupplierPart,
            false,
            RepairPath::ReturnToFactory,
        )),
        resolve_remotely(),
        C::ApproveQuote,
        C::AcceptQuote,
        decline(),
        C::SendToFactory(send_to_factory()),
        C::ShipExchange(ship_exchange()),
        C::RecordRepair(repair()),
        C::PassQc,
        fail_qc(),
        C::ShipItem(ship()),
        confirm_delivery(),
        C::RecordRevisit(revisit(true)),
        C::RecordRevisit(revisit(false)),
        C::CloseTicket,
        C::ReopenTicket(reopen(true)),
        C::ReopenTicket(reopen(false)),
        cancel(),
        escalate(),
        C::ExtendRepairCycle(extend(date(2026, 4, 10))),
        C::ExtendRepairCycle(extend(date(2026, 5, 1))),
        reply(),
        // Bought five days ago: a refund is open.
        C::ReceiveTicket(receive_with(
            TicketKind::Repair,
            product(Some(date(2026, 3, 15)), true),
        )),
        C::DiagnoseFault(diagnose(RootCause::Material, false, RepairPath::Refund)),
        C::DiagnoseFault(diagnose(RootCause::Material, false, RepairPath::Exchange)),
        C::ApproveRefund(approve_refund(50_000)),
        C::RecordItemReturned,
        pay_refund(),
        C::TakeInItem(take_in()),
        hand_back("R-0001"),
        C::ContactCustomer(contact()),
        C::RecordBackFromTrip,
        file_trip_report(),
        C::ReceiveTicket(receive_kind(TicketKind::Inquiry)),
        C::ReceiveTicket(receive_kind(TicketKind::Installation)),
        C::ReceiveTicket(receive_kind(TicketKind::Maintenance)),
        answer_inquiry(),
        C::ScheduleInstallation(schedule_installation()),
        C::RecordInstallation(record_installation()),
        C::AcceptInstallation(accept_installation()),
        C::RecordMaintenanceVisit(maintenance_visit()),
    ];
    for fen in [30_000, 99_999, 100_000, 499_999, 500_000] {
        pool.push(C::QuoteRepair(quote_of(fen)));
    }
    for fen in [10_000, 60_000, 99_999, 400_000] {
        pool.push(C::ApproveFeeWaiver(waive(fen)));
    }
    for outcome in FactoryOutcome::ALL {
        pool.push(C::ReceiveFromFactory(receive_from_factory(*outcome)));
    }
    for fen in [30_000, 50_000] {
        pool.push(C::IssueInvoice(invoice(fen)));
    }
    for fen in [10_000, 30_000, 50_000] {
        pool.push(C::RecordPayment(payment(fen)));
    }
    for category in [
        ComplaintCategory::ProductQuality,
        ComplaintCategory::PackagingOrSpoilage,
        ComplaintCategory::StaffConduct,
        ComplaintCategory::DeliveryDelay,
        ComplaintCategory::Other,
    ] {
        pool.push(C::RouteComplaint { category });
    }
    pool
}

/// Steps with `mode` below this try to cancel.
const CANCEL: u8 = 1;
/// Other steps below this take a command the ticket accepts, if any.
const GUIDED: u8 = 80;
/// Other steps below this issue a random pool command in an allowed role;
/// the rest in any role at all.
const BY_ALLOWED_ROLE: u8 = 92;

/// One step of a walk; see [`choose`].
#[derive(Debug, Clone)]
struct Step {
    mode: u8,
    pick: Index,
    role: Index,
}

fn step() -> impl Strategy<Value = Step> {
    (0u8..100, any::<Index>(), any::<Index>()).prop_map(|(mode, pick, role)| Step {
        mode,
        pick,
        role,
    })
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(step(), 0..=40)
}

fn decide(
    ticket: &Ticket,
    role: Role,
    command: &TicketCommand,
) -> Result<TicketEvent, TicketError> {
    ticket.decide(
        by(role, command.clone()),
        now(),
        &Policies::default(),
        &crate::timing::TimingPolicy::STANDARD,
    )
}

/// The command and role a step issues against `ticket`. A guided step closes
/// the ticket if it can; otherwise it picks a command kind the ticket accepts
/// now (never a cancel: those have their own, rarer steps), then one of that
/// kind's accepted pool commands.
fn choose(ticket: &Ticket, pool: &[TicketCommand], step: &Step) -> (TicketCommand, Role) {
    if step.mode < CANCEL {
        return (cancel(), Role::CustomerService);
    }
    if step.mode < GUIDED {
        let accepted: Vec<(&TicketCommand, Role)> = pool
            .iter()
            .filter(|c| c.kind() != CommandKind::CancelTicket)
            .filter_map(|c| {
                roles_allowed(c.kind())
                    .into_iter()
                    .find(|r| decide(ticket, *r, c).is_ok())
                    .map(|r| (c, r))
            })
            .collect();
        let mut kinds: Vec<CommandKind> = accepted.iter().map(|(c, _)| c.kind()).collect();
        kinds.sort();
        kinds.dedup();
        if !kinds.is_empty() {
            let kind = if kinds.contains(&CommandKind::CloseTicket) {
                CommandKind::CloseTicket
            } else {
                kinds[step.pick.index(kinds.len())]
            };
            let of_kind: Vec<_> = accepted.iter().filter(|(c, _)| c.kind() == kind).collect();
            let (command, role) = of_kind[step.role.index(of_kind.len())];
            return ((*command).clone(), *role);
        }
    }
    let command = pool[step.pick.index(pool.len())].clone();
    let role = if step.mode < BY_ALLOWED_ROLE {
        let allowed = roles_allowed(command.kind());
        allowed[step.role.index(allowed.len())]
    } else {
        Role::ALL[step.role.index(Role::ALL.len())]
    };
    (command, role)
}

fn minor(money: &Option<Money>) -> i64 {
    money.as_ref().map_or(0, Money::minor)
}

/// Runs `steps` from a new ticket, checking the invariants after each.
/// Returns the statuses the ticket went through, for the reachability test.
fn run(steps: &[Step]) -> Result<Vec<TicketStatus>, TestCaseError> {
    let pool = pool();
    let mut ticket = Ticket::default();
    let mut accepted: u64 = 0;
    let mut reached = Vec::new();
    for step in steps {
        let (command, role) = choose(&ticket, &pool, step);
        let kind = command.kind();
        let before = ticket.clone();
        match decide(&ticket, role, &command) {
            Ok(event) => {
                prop_assert!(
                    before.status != TicketStatus::Cancelled || kind == CommandKind::HandBackItem,
                    "{kind} accepted after cancel"
                );
                prop_assert!(
                    before.status != TicketStatus::Closed || kind == CommandKind::ReopenTicket,
                    "{kind} accepted after close"
                );
                if let (TicketEvent::InvoiceIssued { amount, .. }, Some(agreed)) =
                    (&event, before.agreed_price())
                {
                    prop_assert_eq!(amount, &agreed, "an invoice other than the agreed price");
                }
                ticket.apply(event);
                accepted += 1;
                prop_assert_eq!(ticket.version, before.version + 1);
            }
            Err(_) => prop_assert_eq!(&ticket, &before, "a refused {} changed the state", kind),
        }
        prop_assert_eq!(ticket.version, accepted);
        prop_assert!(
            ticket.qc_passes <= ticket.repairs,
            "{} QC passes for {} repairs",
            ticket.qc_passes,
            ticket.repairs
        );
        if ticket.invoiced.is_some() {
            prop_assert!(
                ticket.outstanding().is_some(),
                "paid {:?} of {:?}",
                ticket.paid,
                ticket.invoiced
            );
        }
        prop_assert!(minor(&ticket.paid) <= minor(&ticket.invoiced));
        prop_assert!(
            ticket.status != TicketStatus::Closed || ticket.custody.is_none(),
            "closed with the item still in custody"
        );
        if ticket.status.is_terminal() {
            terminal_refuses_everything_but_reopen(&ticket, &pool)?;
        }
        if !reached.contains(&ticket.status) {
            reached.push(ticket.status);
        }
    }
    Ok(reached)
}

/// Every command by every role is refused, except a reopen of a closed
/// ticket and handing a cancelled ticket's item back.
fn terminal_refuses_everything_but_reopen(
    ticket: &Ticket,
    pool: &[TicketCommand],
) -> Result<(), TestCaseError> {
    for command in pool {
        for role in Role::ALL {
            let result = decide(ticket, role, command);
            let may_reopen = ticket.status == TicketStatus::Closed
                && command.kind() == CommandKind::ReopenTicket
                && roles_allowed(CommandKind::ReopenTicket).contains(&role);
            let may_hand_back = ticket.status == TicketStatus::Cancelled
                && ticket.custody.is_some()
                && command.kind() == CommandKind::HandBackItem
                && roles_allowed(CommandKind::HandBackItem).contains(&role);
            prop_assert_eq!(
                result.is_ok(),
                may_reopen || may_hand_back,
                "{} by {} while {}",
                command.kind(),
                role,
                ticket.status
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_command_sequences_keep_the_ticket_consistent(steps in steps()) {
        run(&steps)?;
    }
}

proptest! {
    /// A re-quote drops the earlier waiver, so a waiver never exceeds the quote.
    #[test]
    fn a_waiver_never_exceeds_the_quote_total(steps in steps()) {
        let pool = pool();
        let mut ticket = Ticket::default();
        for step in &steps {
            let (command, role) = choose(&ticket, &pool, step);
            if let Ok(event) = decide(&ticket, role, &command) {
                ticket.apply(event);
            }
            if let Some(waiver) = &ticket.waiver {
                let total = ticket.quote.as_ref().map_or(0, |q| q.total.minor());
                prop_assert!(waiver.minor() <= total, "waiver {} on a quote of {}", waiver, total);
            }
        }
    }
}

#[test]
fn the_pool_holds_every_command_kind() {
    let pool = pool();
    for kind in CommandKind::ALL {
        assert!(
            pool.iter().any(|c| c.kind() == *kind),
            "{kind} missing from the pool"
        );
    }
}

#[test]
fn random_sequences_often_reach_qc_close_reopen_and_cancel() {
    let mut runner = TestRunner::deterministic();
    let strategy = steps();
    let cases = 200;
    let mut counts = [0usize; 4];
    let milestones = [
        TicketStatus::QcPassed,
        TicketStatus::Closed,
        TicketStatus::Reopened,
        TicketStatus::Cancelled,
    ];
    for _ in 0..cases {
        let steps = strategy
            .new_tree(&mut runner)
            .expect("a sequence")
            .current();
        let reached = run(&steps).expect("invariants hold");
        for (count, status) in counts.iter_mut().zip(milestones) {
            if reached.contains(&status) {
                *count += 1;
            }
        }
    }
    for (count, status) in counts.iter().zip(milestones) {
        assert!(
            *count >= cases / 20,
            "only {count} of {cases} sequences reached {status}"
        );
    }
}
