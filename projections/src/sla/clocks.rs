//! A ticket's SLA clocks, derived from its events (pure). Only facts are
//! derived here (started, paused time, stopped, the deadline while
//! running); what depends on "now" — elapsed, remaining, at risk,
//! breached — is computed at query time by [`ClockState::view`].

use chrono::{DateTime, Duration, Utc};
use domain::TicketEvent;
use serde::{Deserialize, Serialize};

use super::calendar::{Calendar, Calendars};
use super::policy::{Basis, ClockDef, SlaPolicy, TicketFacts};

/// Where a clock stands, as far as its events say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum State {
    Running,
    Paused,
    Stopped,
    Cancelled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Paused => "paused",
            State::Stopped => "stopped",
            State::Cancelled => "cancelled",
        }
    }
}

/// The dashboard's status of a clock at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Running,
    Paused,
    AtRisk,
    Breached,
    Met,
    Cancelled,
}

impl Status {
    pub const ALL: &'static [Status] = &[
        Status::Running,
        Status::Paused,
        Status::AtRisk,
        Status::Breached,
        Status::Met,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Paused => "paused",
            Status::AtRisk => "at_risk",
            Status::Breached => "breached",
            Status::Met => "met",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.iter().copied().find(|x| x.as_str() == s)
    }
}

/// One clock in one cycle of one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockState {
    pub clock: String,
    pub cycle: u32,
    pub basis: Basis,
    /// Target, seconds of the basis's time.
    pub target: i64,
    pub started_at: DateTime<Utc>,
    pub state: State,
    /// Basis time spent paused so far (excluded from elapsed).
    pub paused: i64,
    pub paused_since: Option<DateTime<Utc>>,
    /// Elapsed basis time when paused or stopped.
    pub elapsed: i64,
    pub stopped_at: Option<DateTime<Utc>>,
    /// While running: when 75 % (the policy's share) and 100 % are
    /// reached; once stopped, the deadline it had.
    pub at_risk_at: Option<DateTime<Utc>>,
    pub deadline: Option<DateTime<Utc>>,
    /// Once stopped: whether within target.
    pub met: Option<bool>,
    /// Paused from its start until the item is taken in.
    pub awaiting_custody: bool,
}

/// A revisit: the facts behind resolution and satisfaction rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revisit {
    pub cycle: u32,
    pub at: DateTime<Utc>,
    pub resolved: bool,
    pub satisfied: bool,
}

/// Everything SLA about one ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSla {
    pub facts: TicketFacts,
    /// The technician most recently named by an event.
    pub technician: Option<String>,
    pub cycle: u32,
    pub clocks: Vec<ClockState>,
    pub revisits: Vec<Revisit>,
    /// The item is in the company's hands.
    pub in_custody: bool,
}

fn measure(basis: Basis, cal: &Calendar, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    match basis {
        Basis::Business => cal.business_seconds(from, to),
        Basis::Calendar => (to - from).num_seconds().max(0),
    }
}

fn advance(basis: Basis, cal: &Calendar, from: DateTime<Utc>, secs: i64) -> Option<DateTime<Utc>> {
    match basis {
        Basis::Business => cal.add_business_seconds(from, secs).ok(),
        Basis::Calendar => Some(from + Duration::seconds(secs)),
    }
}

impl ClockState {
    fn schedule(&mut self, cal: &Calendar, at_risk_percent: u32) {
        let risk = (self.target * i64::from(at_risk_percent) + 99) / 100;
        self.at_risk_at = advance(self.basis, cal, self.started_at, risk + self.paused);
        self.deadline = advance(self.basis, cal, self.started_at, self.target + self.paused);
    }

    fn pause(&mut self, cal: &Calendar, at: DateTime<Utc>) {
        if self.state == State::Running {
            self.elapsed = measure(self.basis, cal, self.started_at, at) - self.paused;
            self.state = State::Paused;
            self.paused_since = Some(at);
            self.at_risk_at = None;
            self.deadline = None;
        }
    }

    fn resume(&mut self, cal: &Calendar, at: DateTime<Utc>, pct: u32) {
        if let (State::Paused, Some(since)) = (self.state, self.paused_since) {
            self.paused += measure(self.basis, cal, since, at);
            self.paused_since = None;
            self.state = State::Running;
            self.schedule(cal, pct);
        }
    }

    /// The target becomes the time from the start to `due` (less the pauses
    /// so far): the deadline moves there, and the result is judged by it.
    fn extend_to(&mut self, cal: &Calendar, due: DateTime<Utc>, pct: u32) {
        if matches!(self.state, State::Running | State::Paused) {
            self.target = (measure(self.basis, cal, self.started_at, due) - self.paused).max(0);
            if self.state == State::Running {
                self.schedule(cal, pct);
            }
        }
    }

    fn stop(&mut self, cal: &Calendar, at: DateTime<Utc>, pct: u32) {
        self.resume(cal, at, pct);
        if self.state == State::Running {
            self.elapsed = measure(self.basis, cal, self.started_at, at) - self.paused;
            self.state = State::Stopped;
            self.stopped_at = Some(at);
            self.met = Some(self.elapsed <= self.target);
            // The deadline stays: what the stop is measured against.
            self.at_risk_at = None;
        }
    }

    fn cancel(&mut self, at: DateTime<Utc>) {
        if matches!(self.state, State::Running | State::Paused) {
            self.state = State::Cancelled;
            self.stopped_at = Some(at);
            self.at_risk_at = None;
            self.deadline = None;
        }
    }

    /// Elapsed basis time at `now`.
    pub fn elapsed_at(&self, cal: &Calendar, now: DateTime<Utc>) -> i64 {
        match self.state {
            State::Running => measure(self.basis, cal, self.started_at, now) - self.paused,
            _ => self.elapsed,
        }
    }

    /// Status, elapsed, remaining (negative when overdue) and percent of
    /// the target used, at `now`.
    pub fn view(&self, cal: &Calendar, now: DateTime<Utc>, at_risk_percent: u32) -> View {
        let elapsed = self.elapsed_at(cal, now);
        let over = elapsed > self.target;
        let risky = elapsed * 100 >= self.target * i64::from(at_risk_percent);
        let status = match self.state {
            State::Cancelled => Status::Cancelled,
            State::Stopped if self.met == Some(true) => Status::Met,
            State::Stopped => Status::Breached,
            _ if over => Status::Breached,
            State::Paused => Status::Paused,
            State::Running if risky => Status::AtRisk,
            State::Running => Status::Running,
        };
        View {
            status,
            elapsed,
            remaining: self.target - elapsed,
            percent_used: if self.target > 0 {
                elapsed * 100 / self.target
            } else {
                0
            },
        }
    }
}

/// A clock seen at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub status: Status,
    /// Seconds.
    pub elapsed: i64,
    pub remaining: i64,
    pub percent_used: i64,
}

fn starts(def: &ClockDef, name: &str) -> bool {
    def.starts.iter().any(|s| s == name)
}

/// Derives a ticket's clocks from its events, in order, each with the
/// instant it happened.
pub fn derive(
    events: &[(TicketEvent, DateTime<Utc>)],
    policy: &SlaPolicy,
    calendars: &Calendars,
) -> TicketSla {
    let mut sla = TicketSla::start();
    for (event, at) in events {
        sla.step(event, *at, policy, calendars);
    }
    sla
}

impl TicketSla {
    /// Before the ticket's first event.
    pub fn start() -> Self {
        TicketSla {
            cycle: 1,
            ..TicketSla::default()
        }
    }

    /// Applies the ticket's next event, which happened at `at`.
    pub fn step(
        &mut self,
        event: &TicketEvent,
        at: DateTime<Utc>,
        policy: &SlaPolicy,
        calendars: &Calendars,
    ) {
        let sla = self;
        let pct = policy.at_risk_percent;
        let name = event.name();
        match event {
            TicketEvent::TicketReceived {
                kind,
                customer,
                priority,
                service_mode,
                ..
            } => {
                sla.facts = TicketFacts {
                    kind: kind.as_str().to_owned(),
                    priority: priority.as_str().to_owned(),
                    service_mode: service_mode.as_str().to_owned(),
                    region: customer.region.as_str().to_owned(),
                };
            }
            TicketEvent::TicketReopened { cycle, .. } => {
                // The old cycle has ended (its close stopped its clocks):
                // any clock still open is judged now, and every result it
                // holds stays as it is.
                let cal = calendars.for_region(&sla.facts.region);
                sla.end_cycle(cal, at, pct);
                sla.cycle = (*cycle).max(sla.cycle + 1);
            }
            TicketEvent::ItemTakenIn { .. } => sla.in_custody = true,
            TicketEvent::ItemHandedBack { .. }
            | TicketEvent::ItemShipped { .. }
            | TicketEvent::ExchangeShipped { .. } => sla.in_custody = false,
            TicketEvent::CustomerRevisited {
                resolved,
                satisfied,
                ..
            } => sla.revisits.push(Revisit {
                cycle: sla.cycle,
                at,
                resolved: *resolved,
                satisfied: *satisfied,
            }),
            // No effect on this read model; a new event must be placed here or above.
            TicketEvent::WarrantyDetermined { .. }
            | TicketEvent::TechnicianDispatched { .. }
            | TicketEvent::TechnicianArrived { .. }
            | TicketEvent::FaultDiagnosed { .. }
            | TicketEvent::ResolvedRemotely { .. }
            | TicketEvent::RepairQuoted { .. }
            | TicketEvent::QuoteApproved { .. }
            | TicketEvent::QuoteAccepted { .. }
            | TicketEvent::QuoteDeclined { .. }
            | TicketEvent::FeeWaiverApproved { .. }
            | TicketEvent::SentToFactory { .. }
            | TicketEvent::ReturnedFromFactory { .. }
            | TicketEvent::RepairRecorded { .. }
            | TicketEvent::QcPassed { .. }
            | TicketEvent::QcFailed { .. }
            | TicketEvent::ItemDelivered { .. }
            | TicketEvent::InvoiceIssued { .. }
            | TicketEvent::PaymentRecorded { .. }
            | TicketEvent::TicketClosed { .. }
            | TicketEvent::TicketCancelled { .. }
            | TicketEvent::TicketEscalated { .. }
            | TicketEvent::RepairCycleExtended { .. }
            | TicketEvent::ComplaintRouted { .. }
            | TicketEvent::ComplaintReplied { .. }
            | TicketEvent::RefundApproved { .. }
            | TicketEvent::ItemReturned { .. }
            | TicketEvent::RefundPaid { .. }
            | TicketEvent::DispatchAccepted { .. }
            | TicketEvent::DispatchDeclined { .. }
            | TicketEvent::CustomerContacted { .. }
            | TicketEvent::TechnicianBack { .. }
            | TicketEvent::TripReportFiled { .. }
            // The short flows' steps change no SLA state; a clock may still
            // start or stop on them by name in the SLA policy.
            | TicketEvent::InquiryAnswered { .. }
            | TicketEvent::InstallationScheduled { .. }
            | TicketEvent::ItemInstalled { .. }
            | TicketEvent::InstallationAccepted { .. }
            | TicketEvent::MaintenanceVisitDone { .. } => {}
        }
        let technician = match event {
            TicketEvent::TechnicianArrived { technician, .. } => Some(technician),
            other => other.technician(),
        };
        if let Some(t) = technician {
            sla.technician = Some(t.to_string());
        }
        let cal = calendars.for_region(&sla.facts.region);
        let cycle = sla.cycle;
        for def in policy.clocks.iter().filter(|d| d.when.admits(&sla.facts)) {
            let current = sla
                .clocks
                .iter_mut()
                .find(|c| c.clock == def.name && c.cycle == cycle);
            match current {
                None if starts(def, name) => {
                    let mut c = ClockState {
                        clock: def.name.clone(),
                        cycle,
                        basis: def.basis,
                        target: def.target_for(&sla.facts),
                        started_at: at,
                        state: State::Running,
                        paused: 0,
                        paused_since: None,
                        elapsed: 0,
                        stopped_at: None,
                        at_risk_at: None,
                        deadline: None,
                        met: None,
                        awaiting_custody: false,
                    };
                    c.schedule(cal, pct);
                    if !sla.in_custody && def.waits_for_custody.contains(&sla.facts.service_mode) {
                        c.pause(cal, at);
                        c.awaiting_custody = true;
                    }
                    sla.clocks.push(c);
                }
                None => {}
                Some(c) => {
                    let is = |list: &[String]| list.iter().any(|s| s == name);
                    let taken_in = matches!(event, TicketEvent::ItemTakenIn { .. });
                    if let (TicketEvent::RepairCycleExtended { new_due_on, .. }, true) =
                        (event, def.due_date_moves_deadline)
                    {
                        c.extend_to(cal, cal.end_of_day(*new_due_on), pct);
                    } else if c.awaiting_custody && taken_in {
                        c.awaiting_custody = false;
                        c.resume(cal, at, pct);
                    } else if is(&def.stops) {
                        c.stop(cal, at, pct);
                    } else if is(&def.cancels) && c.elapsed_at(cal, at) > c.target {
                        // Already breached: a cancel does not undo that.
                        c.stop(cal, at, pct);
                    } else if is(&def.cancels) {
                        c.cancel(at);
                    } else if is(&def.pauses) {
                        c.pause(cal, at);
                    } else if is(&def.resumes) && !c.awaiting_custody {
                        c.resume(cal, at, pct);
                    }
                }
            }
        }
        // A closed ticket keeps no clock running: each open one is judged
        // by its own time at the close.
        if matches!(event, TicketEvent::TicketClosed { .. }) {
            sla.end_cycle(cal, at, pct);
        }
    }

    /// Stops every clock of the current cycle still running or paused,
    /// each met or breached by its elapsed time at `at`.
    fn end_cycle(&mut self, cal: &Calendar, at: DateTime<Utc>, pct: u32) {
        let cycle = self.cycle;
        for c in self.clocks.iter_mut().filter(|c| c.cycle == cycle) {
            c.stop(cal, at, pct);
        }
    }
}

#[cfg(test)]
#[path = "clocks_tests.rs"]
pub(crate) mod tests;

#[cfg(test)]
#[path = "repair_end_tests.rs"]
mod repair_end_tests;
