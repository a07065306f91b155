//! The read side's enums (issue #18): each domain or projection enum the
//! SLA dashboard, the cost ledger and FRACAS return or filter on, and its
//! proto enum, both ways, in one place each. The matches are exhaustive in
//! both directions (no wildcard arm), so a variant added on either side
//! fails the build here until it is mapped.
//!
//! Proto to domain: UNSPECIFIED (0) is `None`, which a request filter reads
//! as "no filter"; a number the proto does not define is malformed, and the
//! error names the field (INVALID_ARGUMENT).
//!
//! Region and priority are the write side's and keep their mapping in
//! `parse` (`region`/`region_pb`, `priority`/`priority_pb`); [`optional`]
//! turns it into a filter.

use domain::capa::ActionStatus;
use domain::policy::ApprovalTier;
use domain::ticket::types::{Priority, Region};
use domain::values::{Problem, ValueError};
use projections::cost::{Bearer, Kind};
use projections::fracas::Signal;
use projections::sla::Status;

use super::pb;

type Parsed<T> = Result<T, ValueError>;

fn unknown(field: &str, raw: i32) -> ValueError {
    Problem::Malformed(format!("has unknown value {raw}")).at(field)
}

/// Declares `$to_pb` (domain to proto) and `$from_pb` (proto number to
/// domain, `None` for UNSPECIFIED) for an enum whose every variant has a
/// proto value of its own.
macro_rules! read_enum {
    ($to_pb:ident, $from_pb:ident, $dom:ident => $pb:ident { $($d:ident <=> $p:ident),+ $(,)? }) => {
        #[cfg_attr(not(test), allow(dead_code))]
        pub(crate) fn $to_pb(value: $dom) -> pb::$pb {
            match value {
                $($dom::$d => pb::$pb::$p,)+
            }
        }

        #[cfg_attr(not(test), allow(dead_code))]
        pub(crate) fn $from_pb(field: &str, raw: i32) -> Parsed<Option<$dom>> {
            match pb::$pb::try_from(raw) {
                Ok(pb::$pb::Unspecified) => Ok(None),
                $(Ok(pb::$pb::$p) => Ok(Some($dom::$d)),)+
                Err(_) => Err(unknown(field, raw)),
            }
        }
    };
}

read_enum!(sla_status_pb, sla_status, Status => SlaStatus {
    Running <=> Running, Paused <=> Paused, AtRisk <=> AtRisk, Breached <=> Breached,
    Met <=> Met, Cancelled <=> Cancelled,
});
read_enum!(bearer_pb, bearer, Bearer => CostBearer {
    Company <=> Company, Customer <=> Customer, Supplier <=> Supplier, Goodwill <=> Goodwill,
});
read_enum!(line_kind_pb, line_kind, Kind => CostLineKind {
    Parts <=> Parts, Labour <=> Labour, Travel <=> Travel, Shipping <=> Shipping,
    FactoryRepairFee <=> FactoryRepairFee, ExpediteFee <=> ExpediteFee,
    Exchange <=> Exchange, Refund <=> Refund,
});
read_enum!(signal_pb, signal, Signal => FailureSignal {
    Diagnosis <=> Diagnosis, QcFailed <=> QcFailed, Reopened <=> Reopened,
});
read_enum!(tier_pb, tier, ApprovalTier => ApprovalTier {
    Tier1 <=> Tier1, Tier2 <=> Tier2, Tier3 <=> Tier3,
});

/// A corrective action's status. `NotOpened` is the state before the first
/// event; an action that exists is never in it, and it has no proto value
/// of its own: it is UNSPECIFIED, which reads back as `None`.
pub(crate) fn action_status_pb(value: ActionStatus) -> pb::CorrectiveActionStatus {
    use pb::CorrectiveActionStatus as P;
    match value {
        ActionStatus::NotOpened => P::Unspecified,
        ActionStatus::Opened => P::Opened,
        ActionStatus::RootCauseAnalysed => P::RootCauseAnalysed,
        ActionStatus::Implemented => P::Implemented,
        ActionStatus::Verified => P::Verified,
        ActionStatus::Closed => P::Closed,
    }
}

#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn action_status(field: &str, raw: i32) -> Parsed<Option<ActionStatus>> {
    use pb::CorrectiveActionStatus as P;
    match P::try_from(raw) {
        Ok(P::Unspecified) => Ok(None),
        Ok(P::Opened) => Ok(Some(ActionStatus::Opened)),
        Ok(P::RootCauseAnalysed) => Ok(Some(ActionStatus::RootCauseAnalysed)),
        Ok(P::Implemented) => Ok(Some(ActionStatus::Implemented)),
        Ok(P::Verified) => Ok(Some(ActionStatus::Verified)),
        Ok(P::Closed) => Ok(Some(ActionStatus::Closed)),
        Err(_) => Err(unknown(field, raw)),
    }
}

/// A request filter over a write-side enum whose mapping refuses
/// UNSPECIFIED (`parse::region`, `parse::priority`): here it is `None`, no
/// filter; an unknown number is still refused, naming the field.
pub(crate) fn optional<T>(
    field: &str,
    raw: i32,
    parse: fn(&str, i32) -> Parsed<T>,
) -> Parsed<Option<T>> {
    if raw == 0 {
        return Ok(None);
    }
    parse(field, raw).map(Some)
}

pub(crate) use super::parse::region_pb;

/// The snake_case name of a status the API returned; empty for UNSPECIFIED
/// or a number it does not define.
pub(crate) fn sla_status_name(raw: i32) -> &'static str {
    sla_status("sla_status", raw)
        .ok()
        .flatten()
        .map_or("", Status::as_str)
}

/// The snake_case name of a region the API returned; empty for UNSPECIFIED
/// or a number it does not define.
pub(crate) fn region_name(raw: i32) -> &'static str {
    optional("region", raw, super::parse::region)
        .ok()
        .flatten()
        .map_or("", Region::as_str)
}

/// The snake_case name of a priority the API returned; empty for
/// UNSPECIFIED or a number it does not define.
pub(crate) fn priority_name(raw: i32) -> &'static str {
    optional("priority", raw, super::parse::priority)
        .ok()
        .flatten()
        .map_or("", Priority::as_str)
}

/// A region as the read models store it (its snake_case name); `None` for
/// a name that is not one.
pub(crate) fn region_named(name: &str) -> Option<Region> {
    Region::ALL.iter().copied().find(|r| r.as_str() == name)
}

/// A priority as the read models store it; `None` for a name that is not one.
pub(crate) fn priority_named(name: &str) -> Option<Priority> {
    Priority::ALL.iter().copied().find(|p| p.as_str() == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::parse;

    /// Every variant out to the proto and back is itself, and no two
    /// variants share a proto value.
    fn round_trips<D: Copy + PartialEq + std::fmt::Debug, P: Into<i32>>(
        all: &[D],
        to_pb: fn(D) -> P,
        from_pb: fn(&str, i32) -> Parsed<Option<D>>,
    ) {
        let mut seen = Vec::new();
        for &d in all {
            let raw: i32 = to_pb(d).into();
            assert_ne!(raw, 0, "{d:?} is UNSPECIFIED");
            assert!(!seen.contains(&raw), "{d:?} shares {raw}");
            seen.push(raw);
            assert_eq!(from_pb("f", raw), Ok(Some(d)));
        }
    }

    #[test]
    fn given_every_sla_status_when_sent_as_proto_and_read_back_then_it_is_the_same() {
        round_trips(Status::ALL, sla_status_pb, sla_status);
    }

    #[test]
    fn given_every_cost_bearer_when_sent_as_proto_and_read_back_then_it_is_the_same() {
        round_trips(Bearer::ALL, bearer_pb, bearer);
    }

    #[test]
    fn given_every_line_kind_when_sent_as_proto_and_read_back_then_it_is_the_same() {
        round_trips(Kind::ALL, line_kind_pb, line_kind);
    }

    #[test]
    fn given_every_failure_signal_when_sent_as_proto_and_read_back_then_it_is_the_same() {
        round_trips(&Signal::ALL, signal_pb, signal);
    }

    #[test]
    fn given_every_approval_tier_when_sent_as_proto_and_read_back_then_it_is_the_same() {
        round_trips(&ApprovalTier::ALL, tier_pb, tier);
    }

    #[test]
    fn given_every_opened_action_status_when_sent_as_proto_and_read_back_then_it_is_the_same() {
        let opened: Vec<ActionStatus> = ActionStatus::ALL
            .into_iter()
            .filter(|s| *s != ActionStatus::NotOpened)
            .collect();
        assert_eq!(opened.len(), ActionStatus::ALL.len() - 1);
        round_trips(&opened, action_status_pb, action_status);
        let raw = action_status_pb(ActionStatus::NotOpened) as i32;
        assert_eq!(raw, 0, "not opened is UNSPECIFIED");
        assert_eq!(action_status("f", raw), Ok(None));
    }

    #[test]
    fn given_every_region_and_priority_when_filtered_on_then_each_reads_back_by_number_and_name() {
        for &r in Region::ALL {
            let raw = parse::region_pb(r) as i32;
            assert_eq!(optional("region", raw, parse::region), Ok(Some(r)));
            assert_eq!(region_named(r.as_str()), Some(r));
        }
        for &p in Priority::ALL {
            let raw = parse::priority_pb(p) as i32;
            assert_eq!(optional("priority", raw, parse::priority), Ok(Some(p)));
            assert_eq!(priority_named(p.as_str()), Some(p));
        }
        assert_eq!(region_named("Urban"), None);
        assert_eq!(priority_named(""), None);
        assert_eq!(
            region_name(parse::region_pb(Region::Remote) as i32),
            "remote"
        );
        assert_eq!(
            priority_name(parse::priority_pb(Priority::Urgent) as i32),
            "urgent"
        );
        assert_eq!((region_name(0), priority_name(99)), ("", ""));
        for &st in Status::ALL {
            assert_eq!(sla_status_name(sla_status_pb(st) as i32), st.as_str());
        }
    }

    #[test]
    fn given_unspecified_when_read_as_a_filter_then_there_is_no_filter() {
        assert_eq!(sla_status("status", 0), Ok(None));
        assert_eq!(bearer("bearer", 0), Ok(None));
        assert_eq!(optional("region", 0, parse::region), Ok(None));
        assert_eq!(optional("priority", 0, parse::priority), Ok(None));
    }

    #[test]
    fn given_an_unknown_number_when_read_then_the_error_names_the_field() {
        let field = |e: ValueError| e.to_string();
        assert_eq!(
            sla_status("status", 99).map_err(field),
            Err("status has unknown value 99".to_owned())
        );
        let field = |e: ValueError| e.field;
        assert_eq!(bearer("bearer", -1).map_err(field), Err("bearer".into()));
        assert_eq!(line_kind("kind", 9).map_err(field), Err("kind".into()));
        assert_eq!(signal("signal", 4).map_err(field), Err("signal".into()));
        assert_eq!(tier("tier", 4).map_err(field), Err("tier".into()));
        assert_eq!(
            action_status("status", 6).map_err(field),
            Err("status".into())
        );
        assert_eq!(
            optional("region", 4, parse::region).map_err(field),
            Err("region".into())
        );
    }
}
