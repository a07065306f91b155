//! The SLA policy: every clock of DOMAIN.md §7 with its target and the
//! events that start, stop, pause, resume and cancel it, read from an
//! editable TOML file (`config/sla-policy.toml`, embedded as the default).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The shipped policy.
pub const DEFAULT_POLICY: &str = include_str!("../../../config/sla-policy.toml");

/// Event types a clock may name: every ticket event's stored name.
pub const EVENT_TYPES: &[&str] = domain::TicketEvent::NAMES;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy file is not valid TOML: {0}")]
    Toml(String),
    #[error("clock {clock}: {field} {value:?} is not a duration like 30m, 6h or 7d")]
    Duration {
        clock: String,
        field: String,
        value: String,
    },
    #[error("clock {clock}: unknown event type {event:?}")]
    UnknownEvent { clock: String, event: String },
    #[error("clock {0} is defined twice")]
    Duplicate(String),
    #[error("clock {0} is enabled but has no start or no stop event")]
    Incomplete(String),
    #[error("at_risk_percent must be 1 to 99, working_day_hours 1 to 24")]
    Limits,
    #[error("kpi names clock {0:?}, which the policy does not define")]
    KpiClock(String),
}

/// How a clock counts time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Working time on the region's calendar.
    Business,
    /// Every second.
    Calendar,
}

/// Which tickets a clock applies to; an empty list means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub priorities: Vec<String>,
    #[serde(default)]
    pub service_modes: Vec<String>,
    #[serde(default)]
    pub regions: Vec<String>,
}

/// The facts of a ticket a clock's condition and target depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketFacts {
    pub kind: String,
    pub priority: String,
    pub service_mode: String,
    pub region: String,
}

impl When {
    pub fn admits(&self, t: &TicketFacts) -> bool {
        let ok = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
        ok(&self.kinds, &t.kind)
            && ok(&self.priorities, &t.priority)
            && ok(&self.service_modes, &t.service_mode)
            && ok(&self.regions, &t.region)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockFile {
    name: String,
    #[serde(default = "yes")]
    enabled: bool,
    time: Basis,
    target: String,
    #[serde(default)]
    targets_by_region: BTreeMap<String, String>,
    #[serde(default)]
    targets_by_priority: BTreeMap<String, String>,
    #[serde(default)]
    when: When,
    #[serde(default)]
    starts: Vec<String>,
    #[serde(default)]
    stops: Vec<String>,
    #[serde(default)]
    pauses: Vec<String>,
    #[serde(default)]
    resumes: Vec<String>,
    #[serde(default)]
    cancels: Vec<String>,
    #[serde(default)]
    waits_for_custody: Vec<String>,
    #[serde(default)]
    due_date_moves_deadline: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KpiFile {
    complaint_clock: String,
    repair_clock: String,
    complaint_on_time_target: u32,
    resolution_target: u32,
    satisfaction_target: u32,
    repair_on_time_target: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    at_risk_percent: u32,
    working_day_hours: u32,
    kpi: KpiFile,
    clocks: Vec<ClockFile>,
}

/// One clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockDef {
    pub name: String,
    pub basis: Basis,
    /// Seconds of the basis's time.
    pub target: i64,
    pub by_region: BTreeMap<String, i64>,
    pub by_priority: BTreeMap<String, i64>,
    pub when: When,
    pub starts: Vec<String>,
    pub stops: Vec<String>,
    pub pauses: Vec<String>,
    pub resumes: Vec<String>,
    pub cancels: Vec<String>,
    /// Service modes (e.g. `mail_in`) for which the clock waits, paused,
    /// until the item is in the company's hands (`ItemTakenIn`).
    pub waits_for_custody: Vec<String>,
    /// An extension (`RepairCycleExtended`) moves the deadline to the end
    /// of its new due date, and the clock is judged against that.
    pub due_date_moves_deadline: bool,
}

impl ClockDef {
    /// The target for a ticket: by priority, else by region, else the base.
    pub fn target_for(&self, t: &TicketFacts) -> i64 {
        self.by_priority
            .get(&t.priority)
            .or_else(|| self.by_region.get(&t.region))
            .copied()
            .unwrap_or(self.target)
    }
}

/// KPI definitions and targets (percent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiTargets {
    pub complaint_clock: String,
    pub repair_clock: String,
    pub complaint_on_time: u32,
    pub resolution: u32,
    pub satisfaction: u32,
    pub repair_on_time: u32,
}

/// The whole policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    pub at_risk_percent: u32,
    pub clocks: Vec<ClockDef>,
    pub kpi: KpiTargets,
}

fn seconds(
    clock: &str,
    field: &str,
    raw: &str,
    basis: Basis,
    day_hours: u32,
) -> Result<i64, PolicyError> {
    let bad = || PolicyError::Duration {
        clock: clock.to_owned(),
        field: field.to_owned(),
        value: raw.to_owned(),
    };
    let raw = raw.trim();
    let unit = raw.chars().last().ok_or_else(bad)?;
    let n: i64 = raw[..raw.len() - unit.len_utf8()]
        .trim()
        .parse()
        .map_err(|_| bad())?;
    let per = match (unit, basis) {
        ('m', _) => 60,
        ('h', _) => 3_600,
        ('d', Basis::Business) => 3_600 * i64::from(day_hours),
        ('d', Basis::Calendar) => 86_400,
        _ => return Err(bad()),
    };
    if n <= 0 {
        return Err(bad());
    }
    Ok(n * per)
}

impl SlaPolicy {
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| PolicyError::Toml(e.to_string()))?;
        if !(1..=99).contains(&file.at_risk_percent) || !(1..=24).contains(&file.working_day_hours)
        {
            return Err(PolicyError::Limits);
        }
        let mut clocks: Vec<ClockDef> = Vec::new();
        for c in file.clocks {
            if clocks.iter().any(|d| d.name == c.name) {
                return Err(PolicyError::Duplicate(c.name));
            }
            for event in c
                .starts
                .iter()
                .chain(&c.stops)
                .chain(&c.pauses)
                .chain(&c.resumes)
                .chain(&c.cancels)
            {
                if !EVENT_TYPES.contains(&event.as_str()) {
                    return Err(PolicyError::UnknownEvent {
                        clock: c.name.clone(),
                        event: event.clone(),
                    });
                }
            }
            let day = file.working_day_hours;
            let target = seconds(&c.name, "target", &c.target, c.time, day)?;
            let map = |field: &str,
                       m: &BTreeMap<String, String>|
             -> Result<BTreeMap<String, i64>, PolicyError> {
                m.iter()
                    .map(|(k, v)| {
                        Ok((
                            k.clone(),
                            seconds(&c.name, &format!("{field}.{k}"), v, c.time, day)?,
                        ))
                    })
                    .collect()
            };
            let by_region = map("targets_by_region", &c.targets_by_region)?;
            let by_priority = map("targets_by_priority", &c.targets_by_priority)?;
            if !c.enabled {
                continue;
            }
            if c.starts.is_empty() || c.stops.is_empty() {
                return Err(PolicyError::Incomplete(c.name));
            }
            clocks.push(ClockDef {
                name: c.name,
                basis: c.time,
                target,
                by_region,
                by_priority,
                when: c.when,
                starts: c.starts,
                stops: c.stops,
                pauses: c.pauses,
                resumes: c.resumes,
                cancels: c.cancels,
                waits_for_custody: c.waits_for_custody,
                due_date_moves_deadline: c.due_date_moves_deadline,
            });
        }
        let k = file.kpi;
        for name in [&k.complaint_clock, &k.repair_clock] {
            if !clocks.iter().any(|c| &c.name == name) {
                return Err(PolicyError::KpiClock(name.clone()));
            }
        }
        Ok(Self {
            at_risk_percent: file.at_risk_percent,
            clocks,
            kpi: KpiTargets {
                complaint_clock: k.complaint_clock,
                repair_clock: k.repair_clock,
                complaint_on_time: k.complaint_on_time_target,
                resolution: k.resolution_target,
                satisfaction: k.satisfaction_target,
                repair_on_time: k.repair_on_time_target,
            },
        })
    }

    pub fn clock(&self, name: &str) -> Option<&ClockDef> {
        self.clocks.iter().find(|c| c.name == name)
    }
}

impl Default for SlaPolicy {
    fn default() -> Self {
        #[allow(clippy::expect_used)]
        SlaPolicy::from_toml(DEFAULT_POLICY).expect("the shipped policy parses")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(kind: &str, priority: &str, mode: &str, region: &str) -> TicketFacts {
        TicketFacts {
            kind: kind.into(),
            priority: priority.into(),
            service_mode: mode.into(),
            region: region.into(),
        }
    }

    #[test]
    fn the_shipped_policy_defines_every_driveable_clock_of_section_7() {
        let p = SlaPolicy::default();
        let names: Vec<&str> = p.clocks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "service_commitment",
                "complaint_reply",
                "urgent_response",
                "urgent_on_site",
                "dispatch_arrival",
                "repair_cycle",
                "return_to_factory",
                "revisit",
                "trip_report"
            ]
        );
        assert_eq!(p.at_risk_percent, 75);
    }

    #[test]
    fn dispatch_arrival_is_six_working_hours_urban_and_seven_suburban() {
        let p = SlaPolicy::default();
        let c = p.clock("dispatch_arrival").expect("clock");
        assert_eq!(c.basis, Basis::Business);
        assert_eq!(
            c.target_for(&facts("repair", "normal", "on_site", "urban")),
            6 * 3_600
        );
        assert_eq!(
            c.target_for(&facts("repair", "normal", "on_site", "suburban")),
            7 * 3_600
        );
    }

    #[test]
    fn working_days_are_working_day_hours_long_and_calendar_days_are_24_hours() {
        let p = SlaPolicy::default();
        assert_eq!(
            p.clock("repair_cycle").map(|c| c.target),
            Some(7 * 8 * 3_600)
        );
        assert_eq!(
            p.clock("complaint_reply").map(|c| c.target),
            Some(48 * 3_600)
        );
    }

    #[test]
    fn a_priority_target_wins_over_a_region_target() {
        let text = DEFAULT_POLICY.replace(
            "targets_by_region = { urban = \"6h\", suburban = \"7h\" }",
            "targets_by_region = { urban = \"6h\", suburban = \"7h\" }\ntargets_by_priority = { urgent = \"3h\" }",
        );
        let p = SlaPolicy::from_toml(&text).expect("parses");
        let c = p.clock("dispatch_arrival").expect("clock");
        assert_eq!(
            c.target_for(&facts("repair", "urgent", "on_site", "urban")),
            3 * 3_600
        );
        assert_eq!(
            c.target_for(&facts("repair", "normal", "on_site", "urban")),
            6 * 3_600
        );
    }

    #[test]
    fn conditions_limit_clocks_to_matching_tickets() {
        let p = SlaPolicy::default();
        let complaint = p.clock("complaint_reply").expect("clock");
        assert!(complaint
            .when
            .admits(&facts("complaint", "normal", "phone", "urban")));
        assert!(!complaint
            .when
            .admits(&facts("repair", "normal", "phone", "urban")));
        let on_site = p.clock("urgent_on_site").expect("clock");
        assert!(!on_site
            .when
            .admits(&facts("repair", "urgent", "mail_in", "urban")));
    }

    #[test]
    fn an_unknown_event_type_is_refused_by_name() {
        let text = DEFAULT_POLICY.replace(
            "stops = [\"ComplaintReplied\"]",
            "stops = [\"ComplaintAnswered\"]",
        );
        assert_eq!(
            SlaPolicy::from_toml(&text),
            Err(PolicyError::UnknownEvent {
                clock: "complaint_reply".into(),
                event: "ComplaintAnswered".into()
            })
        );
    }

    #[test]
    fn a_malformed_target_is_refused() {
        let text = DEFAULT_POLICY.replace("target = \"48h\"", "target = \"two days\"");
        assert!(matches!(
            SlaPolicy::from_toml(&text),
            Err(PolicyError::Duration { .. })
        ));
    }
}
