//! Two times per event (DOMAIN.md §12): when it happened (`occurred_at`,
//! business time) and when ticketd stored it (`recorded_at`, the injected
//! clock). A command may state when it happened; absent, it happened now.
//!
//! The rules for a stated time, each refused naming `context.occurred_at`
//! with nothing written:
//!
//! * not in the future, beyond [`TimingPolicy::max_skew`] (clients' clocks
//!   drift);
//! * a live command stated earlier than now (beyond the skew) only in a
//!   role that may back-date at all
//!   ([`crate::policy::permission::may_backdate`]);
//! * not before the previous event of the same stream (business time runs
//!   forward within a ticket, so "the state at an instant" is a prefix of
//!   its history);
//! * a live command may back-date by at most
//!   [`TimingPolicy::backdate_window`]; a history import may carry any past
//!   time.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::policy::permission::may_backdate;
use crate::roles::Role;

/// How a command reached ticketd.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recording {
    /// A user or service acting now (gRPC).
    #[default]
    Live,
    /// History brought in from another system (`ticketd import`,
    /// `ImportTickets`): exempt from the back-dating window.
    Import,
}

impl Recording {
    /// The `channel` recorded in the event's metadata.
    pub fn channel(self) -> &'static str {
        match self {
            Recording::Live => "grpc",
            Recording::Import => "import",
        }
    }
}

/// When a command says its event happened, and how it was recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct When {
    /// `None`: it happened now.
    pub occurred_at: Option<DateTime<Utc>>,
    pub recording: Recording,
}

impl When {
    pub fn live_at(occurred_at: DateTime<Utc>) -> Self {
        Self {
            occurred_at: Some(occurred_at),
            recording: Recording::Live,
        }
    }
}

/// The limits on stated times; part of the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimingPolicy {
    /// How far in the future a stated time may be (clock drift).
    pub max_skew: Duration,
    /// How far back a live command may date its event.
    pub backdate_window: Duration,
}

impl TimingPolicy {
    /// Two minutes of skew; 72 hours of back-dating.
    pub const STANDARD: TimingPolicy = TimingPolicy {
        max_skew: Duration::minutes(2),
        backdate_window: Duration::hours(72),
    };
}

/// Why a stated `occurred_at` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimingError {
    #[error("{occurred_at} is in the future (now is {now}; at most {skew_seconds} s of clock skew is allowed)")]
    InFuture {
        occurred_at: DateTime<Utc>,
        now: DateTime<Utc>,
        skew_seconds: i64,
    },
    #[error(
        "{occurred_at} is before the previous event of this ticket, which occurred at {previous}"
    )]
    BeforePrevious {
        occurred_at: DateTime<Utc>,
        previous: DateTime<Utc>,
    },
    #[error("{occurred_at} is more than {window_hours} hours ago (before {earliest}); older history is brought in by import")]
    BeyondWindow {
        occurred_at: DateTime<Utc>,
        earliest: DateTime<Utc>,
        window_hours: i64,
    },
    #[error("role {role} may not back-date an event")]
    MayNotBackdate { role: Role },
}

impl TimingError {
    /// Whether the refusal is about the caller's role rather than the value.
    pub fn is_permission(&self) -> bool {
        matches!(self, TimingError::MayNotBackdate { .. })
    }
}

/// The command field a timing refusal names.
pub const FIELD: &str = "context.occurred_at";

/// When the event of a command happened, or why the stated time is refused.
///
/// `previous` is when the stream's last event happened (`None` for a new
/// stream). A command without a stated time happens `now`, or at the
/// previous event's time if that is ahead of `now` within the skew.
pub fn occurred_at(
    when: When,
    now: DateTime<Utc>,
    previous: Option<DateTime<Utc>>,
    role: Role,
    policy: &TimingPolicy,
) -> Result<DateTime<Utc>, TimingError> {
    let Some(stated) = when.occurred_at else {
        return Ok(previous.map_or(now, |p| p.max(now)));
    };
    if stated > now + policy.max_skew {
        return Err(TimingError::InFuture {
            occurred_at: stated,
            now,
            skew_seconds: policy.max_skew.num_seconds(),
        });
    }
    let backdated = stated < now - policy.max_skew;
    let live = when.recording == Recording::Live;
    if backdated && live && !may_backdate(role) {
        return Err(TimingError::MayNotBackdate { role });
    }
    if let Some(previous) = previous.filter(|p| stated < *p) {
        return Err(TimingError::BeforePrevious {
            occurred_at: stated,
            previous,
        });
    }
    if backdated && live {
        let earliest = now - policy.backdate_window;
        if stated < earliest {
            return Err(TimingError::BeyondWindow {
                occurred_at: stated,
                earliest,
                window_hours: policy.backdate_window.num_hours(),
            });
        }
    }
    Ok(stated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, 9, 4, 0, 0)
            .single()
            .expect("instant")
    }

    fn live(at: DateTime<Utc>) -> When {
        When::live_at(at)
    }

    fn import(at: DateTime<Utc>) -> When {
        When {
            occurred_at: Some(at),
            recording: Recording::Import,
        }
    }

    const P: TimingPolicy = TimingPolicy::STANDARD;

    #[test]
    fn given_no_stated_time_when_resolved_then_it_happened_now() {
        let at = occurred_at(When::default(), now(), None, Role::Technician, &P);
        assert_eq!(at, Ok(now()));
    }

    #[test]
    fn given_a_previous_event_slightly_ahead_when_no_time_is_stated_then_time_does_not_run_backwards(
    ) {
        let ahead = now() + Duration::seconds(30);
        let at = occurred_at(When::default(), now(), Some(ahead), Role::Technician, &P);
        assert_eq!(at, Ok(ahead));
    }

    #[test]
    fn given_a_time_within_the_skew_when_resolved_then_it_is_accepted_from_any_role() {
        let stated = now() + Duration::seconds(90);
        assert_eq!(
            occurred_at(live(stated), now(), None, Role::SalesVp, &P),
            Ok(stated)
        );
        let stated = now() - Duration::seconds(90);
        assert_eq!(
            occurred_at(live(stated), now(), None, Role::SalesVp, &P),
            Ok(stated)
        );
    }

    #[test]
    fn given_a_time_beyond_the_skew_when_resolved_then_it_is_refused_as_in_the_future() {
        let stated = now() + Duration::minutes(3);
        assert_eq!(
            occurred_at(live(stated), now(), None, Role::Technician, &P),
            Err(TimingError::InFuture {
                occurred_at: stated,
                now: now(),
                skew_seconds: 120,
            })
        );
    }

    #[test]
    fn given_a_time_before_the_previous_event_when_resolved_then_it_is_refused() {
        let previous = now() - Duration::hours(2);
        let stated = now() - Duration::hours(3);
        assert_eq!(
            occurred_at(live(stated), now(), Some(previous), Role::Technician, &P),
            Err(TimingError::BeforePrevious {
                occurred_at: stated,
                previous,
            })
        );
    }

    #[test]
    fn given_a_technician_back_dating_within_the_window_when_resolved_then_it_is_accepted() {
        let stated = now() - Duration::hours(71);
        assert_eq!(
            occurred_at(live(stated), now(), None, Role::Technician, &P),
            Ok(stated)
        );
    }

    #[test]
    fn given_a_live_command_older_than_the_window_when_resolved_then_it_is_refused() {
        let stated = now() - Duration::hours(73);
        assert_eq!(
            occurred_at(live(stated), now(), None, Role::Technician, &P),
            Err(TimingError::BeyondWindow {
                occurred_at: stated,
                earliest: now() - Duration::hours(72),
                window_hours: 72,
            })
        );
    }

    #[test]
    fn given_an_import_older_than_the_window_when_resolved_then_it_is_accepted() {
        let stated = now() - Duration::days(900);
        assert_eq!(
            occurred_at(import(stated), now(), None, Role::Technician, &P),
            Ok(stated)
        );
    }

    #[test]
    fn given_an_import_when_it_is_in_the_future_or_out_of_order_then_it_is_still_refused() {
        let future = now() + Duration::hours(1);
        assert!(matches!(
            occurred_at(import(future), now(), None, Role::Technician, &P),
            Err(TimingError::InFuture { .. })
        ));
        let previous = now() - Duration::days(10);
        let earlier = now() - Duration::days(11);
        assert!(matches!(
            occurred_at(import(earlier), now(), Some(previous), Role::Technician, &P),
            Err(TimingError::BeforePrevious { .. })
        ));
    }

    #[test]
    fn given_an_approver_when_back_dating_then_it_is_refused_for_the_role() {
        let stated = now() - Duration::hours(1);
        let refused = occurred_at(live(stated), now(), None, Role::SalesVp, &P);
        assert_eq!(
            refused,
            Err(TimingError::MayNotBackdate {
                role: Role::SalesVp
            })
        );
        assert!(refused.err().is_some_and(|e| e.is_permission()));
    }

    #[test]
    fn given_a_narrower_window_when_resolved_then_the_configured_window_applies() {
        let policy = TimingPolicy {
            max_skew: Duration::seconds(5),
            backdate_window: Duration::hours(1),
        };
        let stated = now() - Duration::hours(2);
        assert!(matches!(
            occurred_at(live(stated), now(), None, Role::Technician, &policy),
            Err(TimingError::BeyondWindow {
                window_hours: 1,
                ..
            })
        ));
    }

    proptest::proptest! {
        #[test]
        fn an_accepted_time_is_never_before_the_previous_event_nor_beyond_the_skew(
            offset_s in -400_000_i64..400_000,
            previous_s in proptest::option::of(-400_000_i64..0),
            role in proptest::sample::select(Role::ALL.to_vec()),
            is_import: bool,
        ) {
            let when = When {
                occurred_at: Some(now() + Duration::seconds(offset_s)),
                recording: if is_import { Recording::Import } else { Recording::Live },
            };
            let previous = previous_s.map(|s| now() + Duration::seconds(s));
            if let Ok(at) = occurred_at(when, now(), previous, role, &P) {
                proptest::prop_assert!(at <= now() + P.max_skew);
                proptest::prop_assert!(previous.is_none_or(|p| at >= p));
                if !is_import {
                    proptest::prop_assert!(at >= now() - P.backdate_window);
                }
            }
        }
    }
}
