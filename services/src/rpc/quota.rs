//! Subscriptions one actor holds open at once (`EventLog.Subscribe`, plain
//! and named): each stream takes a place for as long as it runs, and past
//! [`MAX_STREAMS_PER_ACTOR`] a new one is refused with RESOURCE_EXHAUSTED,
//! so that one token cannot hold the server's memory and connections.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tonic::Status;

/// Streams one actor may hold open at once.
pub const MAX_STREAMS_PER_ACTOR: usize = 32;

/// Open streams per actor. Cheap to clone; clones share the counts.
#[derive(Debug, Default, Clone)]
pub struct StreamQuota(Arc<Mutex<HashMap<String, usize>>>);

/// A place taken in the quota; given back when dropped (the stream ended).
#[derive(Debug)]
pub struct Place {
    quota: StreamQuota,
    actor: String,
}

impl StreamQuota {
    /// Takes a place for `actor`, or refuses when it holds the most.
    pub fn take(&self, actor: &str) -> Result<Place, Status> {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let held = open.entry(actor.to_owned()).or_default();
        if *held >= MAX_STREAMS_PER_ACTOR {
            return Err(Status::resource_exhausted(format!(
                "{actor} already holds {MAX_STREAMS_PER_ACTOR} open subscriptions, the most one actor may; close one first"
            )));
        }
        *held += 1;
        Ok(Place {
            quota: self.clone(),
            actor: actor.to_owned(),
        })
    }

    /// Streams `actor` holds open.
    pub fn held(&self, actor: &str) -> usize {
        let open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        open.get(actor).copied().unwrap_or_default()
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.quota.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(held) = open.get_mut(&self.actor) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                open.remove(&self.actor);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_an_actor_at_the_cap_then_a_new_stream_is_refused_until_one_ends() {
        let quota = StreamQuota::default();
        let mut places: Vec<Place> = (0..MAX_STREAMS_PER_ACTOR)
            .map(|_| quota.take("crm").expect("within the cap"))
            .collect();
        let refused = quota.take("crm").expect_err("over the cap");
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        quota
            .take("billing")
            .expect("another actor has its own places");
        places.pop();
        assert_eq!(quota.held("crm"), MAX_STREAMS_PER_ACTOR - 1);
        quota.take("crm").expect("a place was given back");
    }
}
