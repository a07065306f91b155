//! Failed sign-ins, per address: each is logged (actor, address, reason;
//! never the token) by the sign-in handler, and an address with
//! [`MAX_FAILURES`] failures within [`WINDOW`] may not try again until the
//! window has passed (429), so a token cannot be guessed at console speed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed sign-ins an address may make within [`WINDOW`].
pub const MAX_FAILURES: u32 = 5;
/// The window failures are counted in, from the first.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Failures per address: how many, since when.
#[derive(Debug, Default)]
pub struct SignInGuard(Mutex<HashMap<IpAddr, (u32, Instant)>>);

impl SignInGuard {
    /// Whether `peer` may try to sign in at `now`.
    pub fn may_try(&self, peer: IpAddr, now: Instant) -> bool {
        let failures = self.0.lock().unwrap_or_else(|p| p.into_inner());
        failures
            .get(&peer)
            .is_none_or(|(n, since)| *n < MAX_FAILURES || now.duration_since(*since) >= WINDOW)
    }

    /// Counts a failed sign-in from `peer` at `now`.
    pub fn failed(&self, peer: IpAddr, now: Instant) {
        let mut failures = self.0.lock().unwrap_or_else(|p| p.into_inner());
        failures.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        let entry = failures.entry(peer).or_insert((0, now));
        entry.0 += 1;
    }

    /// A sign-in from `peer` succeeded: its count starts again.
    pub fn succeeded(&self, peer: IpAddr) {
        let mut failures = self.0.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn given_five_failures_in_a_minute_then_that_address_waits_and_others_do_not() {
        let guard = SignInGuard::default();
        let start = Instant::now();
        for i in 0..MAX_FAILURES {
            assert!(guard.may_try(peer(1), start), "try {i}");
            guard.failed(peer(1), start);
        }
        assert!(!guard.may_try(peer(1), start + Duration::from_secs(30)));
        assert!(guard.may_try(peer(2), start));
        assert!(guard.may_try(peer(1), start + WINDOW));
    }

    #[test]
    fn given_a_success_then_the_count_starts_again() {
        let guard = SignInGuard::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            guard.failed(peer(1), now);
        }
        guard.succeeded(peer(1));
        guard.failed(peer(1), now);
        assert!(guard.may_try(peer(1), now));
    }
}
