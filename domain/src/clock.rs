//! The injected clock. Domain logic never reads the wall clock itself.

use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// Where the domain gets "now" from.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// A clock that says whatever it was last set to. Used by tests and by
/// simulations; cheap to clone, all clones share one instant.
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<Mutex<DateTime<Utc>>>);

impl FixedClock {
    pub fn at(instant: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(instant)))
    }

    pub fn set(&self, instant: DateTime<Utc>) {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = instant;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
