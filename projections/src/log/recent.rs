//! The stretch of the log this process read last, shared by its projection
//! runners: while they catch up together, each stretch is read from the
//! store (and decoded from its rows) once instead of once per read model.
//!
//! Invariant: an entry of the log never changes once it is logged (the
//! sequencer only appends, and the events table refuses updates), so an
//! event read by one runner in its transaction is exactly what another
//! would read in its own. Only whole requests are served from here: a
//! reader gets everything it asked for or goes to the store, so a batch
//! is never cut short by what happens to be kept.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use super::RawEvent;
use crate::db::Tx;

/// A window of consecutive log events, kept back to the position of the
/// slowest reader still within reach (at most `capacity` events).
#[derive(Debug)]
pub struct Recent {
    capacity: usize,
    window: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    /// Events at consecutive positions, the first at `first`.
    events: VecDeque<RawEvent>,
    first: i64,
    /// Where each reader last read from: what may be dropped.
    readers: BTreeMap<String, i64>,
}

impl Window {
    /// One past the last position kept.
    fn end(&self) -> i64 {
        self.first + self.events.len() as i64
    }

    /// The events after `after`, `limit` of them, if all are kept.
    fn get(&self, after: i64, limit: usize) -> Option<Vec<RawEvent>> {
        let from = usize::try_from(after + 1 - self.first).ok()?;
        let to = from.checked_add(limit)?;
        (to <= self.events.len()).then(|| self.events.range(from..to).cloned().collect())
    }

    /// Keeps `read` (consecutive events): extends the window when it
    /// continues it, starts it afresh when it lies beyond it.
    fn put(&mut self, read: &[RawEvent]) {
        let Some(start) = read.first().map(|e| e.log_position) else {
            return;
        };
        if self.events.is_empty() || start > self.end() {
            self.events.clear();
            self.first = start;
        }
        let skip = usize::try_from(self.end() - start).unwrap_or(usize::MAX);
        self.events.extend(read.iter().skip(skip).cloned());
    }

    /// Drops what no reader within `capacity` of the newest still needs.
    fn trim(&mut self, capacity: usize) {
        let slowest = self.readers.values().copied().min().unwrap_or(self.end());
        let keep_from = (slowest + 1).max(self.end() - capacity as i64);
        while self.first < keep_from && !self.events.is_empty() {
            self.events.pop_front();
            self.first += 1;
        }
    }
}

impl Recent {
    /// Keeps at most `capacity` events.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            window: Mutex::new(Window::default()),
        }
    }

    /// The `limit` log events after `after`, for `reader`: from the window
    /// when it holds them all, otherwise read in `tx` and kept.
    pub async fn read(
        &self,
        tx: &mut Tx,
        reader: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<RawEvent>, sqlx::Error> {
        let wanted = usize::try_from(limit).unwrap_or_default();
        let kept = self.lock().get(after, wanted);
        if let Some(kept) = kept {
            self.seen(reader, after);
            return Ok(kept);
        }
        let read = tx.read(after, limit).await?;
        let mut window = self.lock();
        window.put(&read);
        window.readers.insert(reader.to_owned(), after);
        window.trim(self.capacity);
        Ok(read)
    }

    fn seen(&self, reader: &str, after: i64) {
        let mut window = self.lock();
        if let Some(at) = window.readers.get_mut(reader) {
            *at = after;
        } else {
            window.readers.insert(reader.to_owned(), after);
        }
        window.trim(self.capacity);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        // A panic while holding the lock leaves a consistent window (each
        // method changes it only after computing what to change).
        self.window
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event(position: i64) -> RawEvent {
        RawEvent {
            log_position: position,
            event_id: format!("e{position}"),
            aggregate_type: "Ticket".into(),
            ticket_id: "t".into(),
            sequence: position,
            event_type: "TicketReceived".into(),
            event_version: "1".into(),
            payload: "{}".into(),
            metadata: "{}".into(),
            recorded_at: chrono::DateTime::UNIX_EPOCH,
            occurred_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn events(from: i64, to: i64) -> Vec<RawEvent> {
        (from..=to).map(event).collect()
    }

    fn positions(e: &[RawEvent]) -> Vec<i64> {
        e.iter().map(|e| e.log_position).collect()
    }

    #[test]
    fn a_request_the_window_holds_whole_is_served_in_order() {
        let mut w = Window::default();
        w.put(&events(1, 10));
        let got = w.get(3, 4).expect("kept");
        assert_eq!(positions(&got), vec![4, 5, 6, 7]);
    }

    #[test]
    fn a_request_reaching_past_the_window_is_not_served_in_part() {
        let mut w = Window::default();
        w.put(&events(1, 10));
        assert_eq!(w.get(8, 5), None);
        assert_eq!(w.get(0, 11), None);
    }

    #[test]
    fn a_request_before_the_window_is_not_served() {
        let mut w = Window::default();
        w.put(&events(5, 10));
        assert_eq!(w.get(2, 2), None);
    }

    #[test]
    fn an_overlapping_read_extends_the_window_without_repeating_events() {
        let mut w = Window::default();
        w.put(&events(1, 10));
        w.put(&events(6, 15));
        assert_eq!(
            positions(&w.get(0, 15).expect("kept")),
            (1..=15).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_read_beyond_a_gap_starts_the_window_afresh() {
        let mut w = Window::default();
        w.put(&events(1, 10));
        w.put(&events(20, 25));
        assert_eq!(w.first, 20);
        assert_eq!(w.get(0, 1), None);
        assert_eq!(
            positions(&w.get(19, 6).expect("kept")),
            (20..=25).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_read_behind_the_window_changes_nothing() {
        let mut w = Window::default();
        w.put(&events(10, 20));
        w.put(&events(1, 5));
        assert_eq!((w.first, w.end()), (10, 21));
    }

    #[test]
    fn trimming_keeps_what_the_slowest_reader_needs_next() {
        let mut w = Window::default();
        w.put(&events(1, 100));
        w.readers.insert("fast".into(), 90);
        w.readers.insert("slow".into(), 40);
        w.trim(1_000);
        assert_eq!(w.first, 41);
        assert!(w.get(40, 60).is_some());
    }

    #[test]
    fn trimming_drops_a_reader_too_far_behind_beyond_the_capacity() {
        let mut w = Window::default();
        w.put(&events(1, 100));
        w.readers.insert("fast".into(), 100);
        w.readers.insert("stuck".into(), 0);
        w.trim(30);
        assert_eq!((w.first, w.end()), (71, 101));
    }

    proptest! {
        /// Readers moving through one log at their own pace, in any order:
        /// whatever the window serves is exactly the log's stretch asked for.
        #[test]
        fn whatever_the_window_serves_is_the_log_itself(
            steps in prop::collection::vec((0..4_usize, 1..40_i64), 1..200),
            capacity in 1..120_usize,
        ) {
            const HEAD: i64 = 300;
            let log = events(1, HEAD);
            let mut w = Window::default();
            let mut at = [0_i64; 4];
            for (reader, limit) in steps {
                let after = at[reader];
                let wanted = usize::try_from(limit).unwrap_or_default();
                let stretch: Vec<RawEvent> = log
                    .iter()
                    .filter(|e| e.log_position > after)
                    .take(wanted)
                    .cloned()
                    .collect();
                match w.get(after, wanted) {
                    Some(kept) => prop_assert_eq!(&kept, &stretch),
                    None => w.put(&stretch),
                }
                w.readers.insert(reader.to_string(), after);
                w.trim(capacity);
                prop_assert!(w.events.len() <= capacity);
                at[reader] = stretch.last().map_or(after, |e| e.log_position);
            }
        }
    }
}
