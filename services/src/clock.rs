//! The production clock. The domain never reads the wall clock; the
//! service hands it this one.

use chrono::{DateTime, Utc};
use domain::Clock;

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
