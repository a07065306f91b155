//! The production clock. The domain never reads the wall clock; the
//! service hands it this one.

use chrono::{DateTime, Utc};
use domain::Clock;

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Microsecond precision: what both stores keep, so a time read back
    /// equals the time decided on and sealed.
    fn now(&self) -> DateTime<Utc> {
        projections::log::append::to_micros(Utc::now())
    }
}
