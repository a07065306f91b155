//! Deriving one ticket's ledger from its events. Pure.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use domain::money::{Currency, Money, MoneyError};
use domain::policy::warranty::is_chargeable;
use domain::policy::{ApprovalTier, CostRates, WarrantyDecision};
use domain::ticket::types::{QuoteLine, Region, RootCause};
use domain::TicketEvent;
use serde::{Deserialize, Serialize};

macro_rules! names {
    ($name:ident { $($v:ident => $s:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $s),+ } }
            pub fn parse(raw: &str) -> Option<Self> { Self::ALL.iter().copied().find(|k| k.as_str() == raw) }
        }
    };
}

names!(Kind {
    Parts => "parts",
    Labour => "labour",
    Travel => "travel",
    Shipping => "shipping",
    FactoryRepairFee => "factory_repair_fee",
    ExpediteFee => "expedite_fee",
    Exchange => "exchange",
    Refund => "refund",
});

names!(Bearer {
    Company => "company",
    Customer => "customer",
    Supplier => "supplier",
    Goodwill => "goodwill",
});

/// One cost and who bears it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub cycle: u32,
    pub kind: Kind,
    pub bearer: Bearer,
    pub amount: Money,
    pub part_number: Option<String>,
    pub quantity: Option<u32>,
    pub occurred_at: DateTime<Utc>,
    /// For goodwill: who approved the waiver, and at which tier.
    pub approver: Option<String>,
    pub tier: Option<ApprovalTier>,
}

/// A ticket's whole ledger.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TicketLedger {
    pub product_model: String,
    /// The customer's region ("urban", "suburban", "remote").
    pub region: String,
    /// When the ticket was received.
    pub received_at: Option<DateTime<Utc>>,
    /// "YYYY-MM" of the purchase date, when known.
    pub sale_month: Option<String>,
    pub lines: Vec<Line>,
    /// Quoted amount per line kind (the last quote of each cycle), minor units.
    pub quoted: BTreeMap<Kind, i64>,
    pub invoiced: i64,
    pub paid: i64,
    pub currency: Option<Currency>,
}

impl TicketLedger {
    /// Sum of lines per kind, all bearers.
    pub fn actual(&self) -> BTreeMap<Kind, i64> {
        let mut out = BTreeMap::new();
        for line in &self.lines {
            *out.entry(line.kind).or_insert(0) += line.amount.minor();
        }
        out
    }

    /// Sum of lines per bearer.
    pub fn by_bearer(&self) -> BTreeMap<Bearer, i64> {
        let mut out = BTreeMap::new();
        for line in &self.lines {
            *out.entry(line.bearer).or_insert(0) += line.amount.minor();
        }
        out
    }

    pub fn outstanding(&self) -> i64 {
        self.invoiced - self.paid
    }
}

/// The facts of one repair cycle that decide its lines' bearers. A later
/// cycle's facts never change an earlier cycle's (DOMAIN.md §10).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Cycle {
    /// The warranty decision in force in this cycle: determined in it, or
    /// carried over from the cycle before.
    warranty: Option<WarrantyDecision>,
    /// A same-fault reopen within the repair guarantee: free rework.
    free_rework: bool,
    customer_caused: bool,
    supplier_part: bool,
    quote: Vec<QuoteLine>,
    /// The cycle's approved waivers, in order.
    waivers: Vec<(Money, String, ApprovalTier)>,
}

/// A cost before its bearer is known.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cost {
    cycle: u32,
    kind: Kind,
    amount: Money,
    part_number: Option<String>,
    quantity: Option<u32>,
    at: DateTime<Utc>,
}

fn cost(cycle: u32, kind: Kind, amount: Money, at: DateTime<Utc>) -> Cost {
    Cost {
        cycle,
        kind,
        amount,
        part_number: None,
        quantity: None,
        at,
    }
}

fn or_before(recorded: &Option<Money>, fallback: &Money) -> Money {
    recorded.clone().unwrap_or_else(|| fallback.clone())
}

/// What the ledger keeps of one ticket between batches: the facts so far
/// and the costs before their bearers are known (a later fact, such as a
/// diagnosis that turns a visit chargeable, still decides them).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Costing {
    out: TicketLedger,
    region: Region,
    cycles: BTreeMap<u32, Cycle>,
    cycle: u32,
    costs: Vec<Cost>,
    invoiced: Option<Money>,
    paid: Option<Money>,
}

impl Default for Costing {
    fn default() -> Self {
        Self {
            out: TicketLedger::default(),
            region: Region::Urban,
            cycles: BTreeMap::new(),
            cycle: 1,
            costs: Vec::new(),
            invoiced: None,
            paid: None,
        }
    }
}

/// Derives the ledger from a ticket's events (with their recorded time), in
/// order. Every amount must be in one currency; a mismatch is an error.
///
/// Costs the caller does not price (labour, travel, shipping, the factory's
/// fee, a replacement unit) are the rates each event recorded from the
/// policy in force when it was decided, so a later policy never changes
/// them; an event recorded before events carried rates is costed at the
/// rates of that time ([`CostRates::before_policy`]).
pub fn ledger(events: &[(TicketEvent, DateTime<Utc>)]) -> Result<TicketLedger, MoneyError> {
    let mut costing = Costing::default();
    for (event, at) in events {
        costing.step(event, *at)?;
    }
    costing.ledger()
}

impl Costing {
    /// Applies the ticket's next event, which happened at `at`.
    pub fn step(&mut self, event: &TicketEvent, at: DateTime<Utc>) -> Result<(), MoneyError> {
        let before = CostRates::before_policy();
        let current = self.cycles.entry(self.cycle).or_default();
        match event {
            TicketEvent::TicketReceived {
                customer, product, ..
            } => {
                self.region = customer.region;
                self.out.region = customer.region.as_str().to_owned();
                self.out.product_model = product.model.to_string();
                self.out.sale_month = product
                    .purchased_on
                    .map(|d| format!("{:04}-{:02}", d.year(), d.month()));
            }
            TicketEvent::WarrantyDetermined { decision, .. } => {
                current.warranty = Some(decision.clone());
            }
            TicketEvent::TechnicianArrived { travel_cost, .. } => {
                let travel = or_before(travel_cost, before.travel(self.region));
                self.costs.push(cost(self.cycle, Kind::Travel, travel, at));
            }
            TicketEvent::FaultDiagnosed {
                customer_caused,
                root_cause,
                ..
            } => {
                current.customer_caused = *customer_caused;
                current.supplier_part = *root_cause == RootCause::SupplierPart;
            }
            TicketEvent::RepairQuoted { lines, .. } => {
                current.quote = lines.clone();
                current.waivers.clear();
            }
            TicketEvent::QuoteAccepted { .. } => {
                for line in &current.quote {
                    if let QuoteLine::ExpediteFee { amount } = line {
                        self.costs
                            .push(cost(self.cycle, Kind::ExpediteFee, amount.clone(), at));
                    }
                }
            }
            TicketEvent::FeeWaiverApproved {
                approver,
                tier,
                amount,
                ..
            } => current
                .waivers
                .push((amount.clone(), approver.to_string(), *tier)),
            TicketEvent::SentToFactory {
                factory_repair_fee, ..
            } => {
                self.costs.push(cost(
                    self.cycle,
                    Kind::FactoryRepairFee,
                    or_before(factory_repair_fee, &before.factory_repair_fee),
                    at,
                ));
            }
            TicketEvent::RepairRecorded {
                labour,
                parts,
                labour_rate,
                ..
            } => {
                for part in parts {
                    self.costs.push(Cost {
                        cycle: self.cycle,
                        kind: Kind::Parts,
                        amount: part.unit_cost.times(part.quantity)?,
                        part_number: Some(part.part_number.to_string()),
                        quantity: Some(part.quantity.get()),
                        at,
                    });
                }
                self.costs.push(cost(
                    self.cycle,
                    Kind::Labour,
                    or_before(labour_rate, &before.labour_per_hour).per_hour_for(*labour)?,
                    at,
                ));
            }
            TicketEvent::ItemShipped { shipping_cost, .. } => {
                self.costs.push(cost(
                    self.cycle,
                    Kind::Shipping,
                    or_before(shipping_cost, &before.shipping_per_shipment),
                    at,
                ));
            }
            TicketEvent::ExchangeShipped {
                replacement_unit,
                shipping_cost,
                ..
            } => {
                self.costs.push(cost(
                    self.cycle,
                    Kind::Exchange,
                    or_before(replacement_unit, &before.replacement_unit),
                    at,
                ));
                self.costs.push(cost(
                    self.cycle,
                    Kind::Shipping,
                    or_before(shipping_cost, &before.shipping_per_shipment),
                    at,
                ));
            }
            TicketEvent::InvoiceIssued { amount, .. } => {
                self.invoiced = Some(match &self.invoiced {
                    None => amount.clone(),
                    Some(total) => total.checked_add(amount)?,
                });
            }
            TicketEvent::PaymentRecorded { amount, .. } => {
                self.paid = Some(match &self.paid {
                    None => amount.clone(),
                    Some(total) => total.checked_add(amount)?,
                });
            }
            TicketEvent::RefundPaid { amount, .. } => {
                self.costs
                    .push(cost(self.cycle, Kind::Refund, amount.clone(), at));
            }
            TicketEvent::TicketReopened {
                cycle: next,
                same_fault,
                ..
            } => {
                let warranty = current.warranty.clone();
                self.cycle = *next;
                let started = self.cycles.entry(self.cycle).or_default();
                started.warranty = warranty;
                started.free_rework = *same_fault;
            }
            // No effect on this read model; a new event must be placed here or above.
            TicketEvent::TechnicianDispatched { .. }
            | TicketEvent::ResolvedRemotely { .. }
            | TicketEvent::QuoteApproved { .. }
            | TicketEvent::QuoteDeclined { .. }
            | TicketEvent::ReturnedFromFactory { .. }
            | TicketEvent::QcPassed { .. }
            | TicketEvent::QcFailed { .. }
            | TicketEvent::ItemDelivered { .. }
            | TicketEvent::CustomerRevisited { .. }
            | TicketEvent::TicketClosed { .. }
            | TicketEvent::TicketCancelled { .. }
            | TicketEvent::TicketEscalated { .. }
            | TicketEvent::RepairCycleExtended { .. }
            | TicketEvent::ComplaintRouted { .. }
            | TicketEvent::ComplaintReplied { .. }
            | TicketEvent::RefundApproved { .. }
            | TicketEvent::ItemReturned { .. }
            | TicketEvent::DispatchAccepted { .. }
            | TicketEvent::DispatchDeclined { .. }
            | TicketEvent::ItemTakenIn { .. }
            | TicketEvent::ItemHandedBack { .. }
            | TicketEvent::CustomerContacted { .. }
            | TicketEvent::TechnicianBack { .. }
            | TicketEvent::TripReportFiled { .. }
            // The short flows carry no cost line: no parts, labour rate or
            // travel is priced on them (a dispatch's arrival still is).
            | TicketEvent::InquiryAnswered { .. }
            | TicketEvent::InstallationScheduled { .. }
            | TicketEvent::ItemInstalled { .. }
            | TicketEvent::InstallationAccepted { .. }
            | TicketEvent::MaintenanceVisitDone { .. } => {}
        }
        Ok(())
    }

    /// The ledger as the events so far give it.
    pub fn ledger(&self) -> Result<TicketLedger, MoneyError> {
        // Who bears each cost, now that every fact of each cycle is known.
        let mut lines: Vec<Line> = Vec::with_capacity(self.costs.len());
        for c in self.costs.iter().cloned() {
            let facts = self.cycles.get(&c.cycle).cloned().unwrap_or_default();
            let chargeable = match (&facts.warranty, facts.free_rework) {
                (_, true) | (None, false) => facts.customer_caused,
                (Some(w), false) => is_chargeable(w, facts.customer_caused),
            };
            let bearer = if chargeable {
                Bearer::Customer
            } else if c.kind == Kind::Parts && facts.supplier_part {
                Bearer::Supplier
            } else {
                Bearer::Company
            };
            lines.push(Line {
                cycle: c.cycle,
                kind: c.kind,
                bearer,
                amount: c.amount,
                part_number: c.part_number,
                quantity: c.quantity,
                occurred_at: c.at,
                approver: None,
                tier: None,
            });
        }

        // A waiver moves that much of the cycle's customer lines, in order, to goodwill.
        for (number, facts) in &self.cycles {
            for (waived, approver, tier) in &facts.waivers {
                goodwill(&mut lines, *number, waived, approver, *tier)?;
            }
        }
        lines.retain(|l| !l.amount.is_zero());

        let currency = lines
            .first()
            .map(|l| l.amount.currency().clone())
            .or_else(|| self.invoiced.as_ref().map(|m| m.currency().clone()));
        if let Some(currency) = &currency {
            let all: Vec<&Money> = lines
                .iter()
                .map(|l| &l.amount)
                .chain(self.invoiced.iter())
                .chain(self.paid.iter())
                .collect();
            Money::sum(currency, all)?;
        }
        let mut out = self.out.clone();
        for facts in self.cycles.values() {
            for line in &facts.quote {
                *out.quoted.entry(quote_kind(line)).or_insert(0) += line.total()?.minor();
            }
        }
        out.lines = lines;
        out.invoiced = self.invoiced.as_ref().map_or(0, Money::minor);
        out.paid = self.paid.as_ref().map_or(0, Money::minor);
        out.currency = currency;
        Ok(out)
    }
}

/// Moves `waived` of cycle `number`'s customer lines, in order, to goodwill
/// approved by `approver` at `tier`.
fn goodwill(
    lines: &mut Vec<Line>,
    number: u32,
    waived: &Money,
    approver: &str,
    tier: ApprovalTier,
) -> Result<(), MoneyError> {
    let mut left = waived.minor();
    let mut split: Vec<Line> = Vec::new();
    for line in lines
        .iter_mut()
        .filter(|l| l.cycle == number && l.bearer == Bearer::Customer)
    {
        if left == 0 {
            break;
        }
        let moved = left.min(line.amount.minor());
        left -= moved;
        let moved_amount = Money::new(moved, line.amount.currency().clone())?;
        line.amount = line.amount.checked_sub(&moved_amount)?;
        split.push(Line {
            bearer: Bearer::Goodwill,
            amount: moved_amount,
            // The parts were counted once, on the line this was split from.
            quantity: None,
            approver: Some(approver.to_owned()),
            tier: Some(tier),
            ..line.clone()
        });
    }
    lines.extend(split);
    Ok(())
}

fn quote_kind(line: &QuoteLine) -> Kind {
    match line {
        QuoteLine::Parts { .. } => Kind::Parts,
        QuoteLine::Labour { .. } => Kind::Labour,
        QuoteLine::Travel { .. } => Kind::Travel,
        QuoteLine::Shipping { .. } => Kind::Shipping,
        QuoteLine::FactoryRepairFee { .. } => Kind::FactoryRepairFee,
        QuoteLine::ExpediteFee { .. } => Kind::ExpediteFee,
    }
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
