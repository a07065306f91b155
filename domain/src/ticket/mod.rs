//! The `Ticket` aggregate: one repair (or complaint, inquiry, …) from
//! reception to close.
//!
//! Every command yields exactly one event; the service relies on that to
//! make a client's request id unique in the event log. `decide` holds the
//! rules and is pure; `apply` folds an event into the state and never fails.

mod apply;
mod assign;
mod checks;
pub mod command;
mod commitments;
pub mod custody;
mod decide;
pub mod error;
pub mod escalation;
pub mod event;
pub mod flows;
mod guarantee;
mod invoice;
mod personal_fields;
mod quote;
mod remedy;
pub mod status;
pub mod trip;
pub mod types;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::{Authored, CommandKind, TicketCommand};
pub use error::TicketError;
pub use event::TicketEvent;
pub use status::TicketStatus;

use crate::clock::Clock;
use crate::money::Money;
use crate::policy::warranty::is_chargeable;
use crate::policy::{
    ApprovalPolicy, ApprovalTier, CostRates, PolicyVersion, TierRule, WarrantyDecision,
    WarrantyPolicy,
};
use crate::timing::TimingPolicy;
use crate::values::{ActorId, Label, Text};
use types::{Customer, Priority, Product, QuoteLine, RepairPath, RootCause, TicketKind};

/// The company's policy, as the aggregate consults it: parsed once from
/// the policy file (`policy::file`), then handed to everything that decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policies {
    pub warranty: WarrantyPolicy,
    pub approval: ApprovalPolicy,
    /// The company's cost rates; a product line may have its own.
    pub costs: CostRates,
    /// Offset of the business's local time from UTC, in minutes; dates such
    /// as "today" and "the day the fault was reported" are local dates.
    pub utc_offset_minutes: i32,
    /// Which file this is: recorded in every event's metadata.
    pub version: PolicyVersion,
    /// The retention of personal data.
    #[serde(default)]
    pub privacy: PrivacyPolicy,
    /// The company's changes to the access table (the policy's `[access]`).
    #[serde(default)]
    pub access: AccessPolicy,
    /// The site's rest days, from its business calendar (not the policy
    /// file): a period whose last day is one runs to the next working day.
    #[serde(default)]
    pub rest_days: crate::period::RestDays,
}

/// How a company narrows or widens the built-in access table (DOMAIN.md
/// §11; docs/SECURITY.md): for an RPC named `Service.Method`, the roles that
/// may call it instead of the default; and the roles a history import line
/// may state (`None`: every role that issues ticket commands). Which RPCs
/// exist is the service's to check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPolicy {
    pub rpc: std::collections::BTreeMap<String, Vec<crate::Role>>,
    pub import_roles: Option<Vec<crate::Role>>,
}

/// How long personal data is kept (DOMAIN.md §12; the policy's `[privacy]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyPolicy {
    /// Erase a customer once every ticket of theirs has been closed (or
    /// cancelled) this many years; `None`: keep until erased on request.
    pub erase_customers_years_after_closing: Option<u32>,
}

/// The built-in policy; for tests and examples (a server loads its policy
/// once at start and passes it down).
impl Default for Policies {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Policies {
    /// The cost rates for a product: its line's, or the company's.
    pub fn rates_for(&self, product: Option<&Product>) -> &CostRates {
        product
            .and_then(|p| self.warranty.line_for(p.line.as_str(), p.model.as_str()))
            .and_then(|line| line.costs.as_ref())
            .unwrap_or(&self.costs)
    }

    pub fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        self.local_time().local_date(instant)
    }

    /// The business's local time, for read models that date events.
    pub fn local_time(&self) -> LocalTime {
        LocalTime {
            utc_offset_minutes: self.utc_offset_minutes,
        }
    }
}

/// The business's offset from UTC (the policy's `utc_offset`): what "the
/// day" of an instant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub utc_offset_minutes: i32,
}

impl LocalTime {
    pub fn local_date(self, instant: DateTime<Utc>) -> NaiveDate {
        let offset = FixedOffset::east_opt(self.utc_offset_minutes * 60).unwrap_or(Utc.fix());
        instant.with_timezone(&offset).date_naive()
    }
}

/// What the aggregate needs from outside: the clock and the policies.
#[derive(Debug, Clone)]
pub struct TicketServices {
    pub clock: Arc<dyn Clock>,
    pub policies: Policies,
    /// The limits on a command's stated `occurred_at`.
    pub timing: TimingPolicy,
}

impl TicketServices {
    /// With the standard timing limits ([`TimingPolicy::STANDARD`]).
    pub fn new(clock: Arc<dyn Clock>, policies: Policies) -> Self {
        Self {
            clock,
            policies,
            timing: TimingPolicy::STANDARD,
        }
    }

    pub fn with_timing(self, timing: TimingPolicy) -> Self {
        Self { timing, ..self }
    }
}

/// What the diagnosis decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub failure_mode: Label,
    pub root_cause: RootCause,
    pub customer_caused: bool,
    pub path: RepairPath,
}

/// The current quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub lines: Vec<QuoteLine>,
    pub total: Money,
    pub tier: ApprovalTier,
    pub valid_until: NaiveDate,
    pub approved_by: Option<ActorId>,
    /// The rule of the quote's tier when it was quoted (`None` for quotes
    /// recorded before tiers were configurable: the built-in rules apply).
    pub rule: Option<TierRule>,
    /// The customer accepted it.
    #[serde(default)]
    pub accepted: bool,
}

/// What the customer was promised, and by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    pub text: Text,
    pub promised_on: NaiveDate,
}

/// The state of one ticket, rebuilt from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub status: TicketStatus,
    pub kind: Option<TicketKind>,
    pub priority: Option<Priority>,
    pub customer: Option<Customer>,
    pub product: Option<Product>,
    pub received_at: Option<DateTime<Utc>>,
    /// When the last event happened (business time); a later command may
    /// not state an earlier time. Not part of the state shown to auditors
    /// (each event's own time is in the history).
    #[serde(skip)]
    pub occurred_at: Option<DateTime<Utc>>,
    pub warranty: Option<WarrantyDecision>,
    pub technician: Option<ActorId>,
    pub diagnosis: Option<Diagnosis>,
    pub quote: Option<Quote>,
    /// The fee waivers approved in this cycle, summed.
    pub waiver: Option<Money>,
    /// Repair cycle, 1 from reception, +1 on each reopen.
    pub cycle: u32,
    /// Repairs recorded over the ticket's life (workshop and factory).
    pub repairs: u32,
    /// QC passes over the ticket's life.
    pub qc_passes: u32,
    /// QC failures sent back for rework in the current cycle.
    pub rework_count: u32,
    /// Reopens because the same fault came back.
    pub failed_repairs: u32,
    /// This cycle is a free rework: a same-fault reopen within the repair
    /// guarantee (only a customer-caused fault is charged).
    #[serde(default)]
    pub free_rework: bool,
    /// The earlier ticket this one follows up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refers_to: Option<Label>,
    /// Failed repairs per failure mode over the ticket's life: QC failures
    /// of that fault and same-fault reopens after it (the 三包 exchange rule).
    #[serde(default)]
    pub failed_by_mode: BTreeMap<Label, u32>,
    /// The item in the company's hands, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custody: Option<custody::Custody>,
    /// The latest commitment given to the customer: what, and by when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment: Option<Commitment>,
    /// Where the technician's trip stands.
    #[serde(default)]
    pub trip: trip::Trip,
    /// The 三包 refund approved, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<Money>,
    pub escalated: bool,
    pub due_on: Option<NaiveDate>,
    pub invoiced: Option<Money>,
    pub invoiced_this_cycle: bool,
    pub paid: Option<Money>,
    pub last_revisit_resolved: Option<bool>,
    pub shipped_unrepaired: bool,
    /// When the repair last reached the customer: the item delivered back,
    /// or the fault fixed remotely. The repair guarantee counts from it.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Number of events applied: the ticket's version.
    pub version: u64,
}

impl Ticket {
    /// Whether the customer pays: `None` until the warranty is determined.
    /// A free rework cycle is charged only for a customer-caused fault.
    pub fn chargeable(&self) -> Option<bool> {
        let customer_caused = self.diagnosis.as_ref().is_some_and(|d| d.customer_caused);
        self.warranty.as_ref().map(|w| {
            if self.free_rework {
                customer_caused
            } else {
                is_chargeable(w, customer_caused)
            }
        })
    }

    /// Invoiced minus paid; `None` before any invoice.
    pub fn outstanding(&self) -> Option<Money> {
        let invoiced = self.invoiced.as_ref()?;
        match &self.paid {
            None => Some(invoiced.clone()),
            Some(paid) => invoiced.checked_sub(paid).ok(),
        }
    }
}

impl Aggregate for Ticket {
    const TYPE: &'static str = "Ticket";
    type Command = Authored<TicketCommand>;
    type Event = TicketEvent;
    type Error = TicketError;
    type Services = TicketServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = self.decide(
            command,
            services.clock.now(),
            &services.policies,
            &services.timing,
        )?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.evolve(event);
    }
}
