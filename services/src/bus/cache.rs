//! The aggregate cache: each recently used stream's state, version and
//! last hash, so that a command on a hot ticket needs no read at all.
//!
//! Invariant: an entry is only a guess. The append names the version it
//! expects (the stream's primary key refuses a taken sequence) and the
//! hash it chains to (a row is inserted only if the stored event before it
//! has that hash), so a stale entry (another process wrote the stream, or
//! the store lost events the entry holds) costs a conflict and a reload,
//! never a wrong event. An entry is replaced only after its event is
//! durable, and dropped on any failed append.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use lru::LruCache;

/// A stream as of its last event.
#[derive(Debug, Clone)]
pub struct Cached<A> {
    pub aggregate: A,
    /// Number of events: the next one is `version + 1`.
    pub version: u64,
    /// The last event's hash ("" for an empty stream).
    pub hash: String,
}

/// Bounded, least recently used first out; one per aggregate type.
#[derive(Debug)]
pub struct StreamCache<A> {
    entries: Mutex<LruCache<String, Cached<A>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<A: Clone> StreamCache<A> {
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self {
            entries: Mutex::new(LruCache::new(capacity)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn get(&self, id: &str) -> Option<Cached<A>> {
        let found = self.entries.lock().ok()?.get(id).cloned();
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Lookups that found the stream, and lookups that did not, so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    pub fn put(&self, id: &str, entry: Cached<A>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.put(id.to_owned(), entry);
        }
    }

    pub fn forget(&self, id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.pop(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: u64) -> Cached<u64> {
        Cached {
            aggregate: version,
            version,
            hash: format!("h{version}"),
        }
    }

    #[test]
    fn the_least_recently_used_stream_leaves_first() {
        let cache = StreamCache::new(NonZeroUsize::new(2).expect("non-zero"));
        cache.put("a", entry(1));
        cache.put("b", entry(2));
        assert!(cache.get("a").is_some());
        cache.put("c", entry(3));
        assert!(cache.get("b").is_none());
        assert_eq!(cache.get("a").map(|e| e.version), Some(1));
        assert_eq!(cache.get("c").map(|e| e.hash), Some("h3".into()));
        // a, a and c were found; b (evicted) was not.
        assert_eq!(cache.counts(), (3, 1));
    }

    #[test]
    fn a_forgotten_stream_is_read_again() {
        let cache = StreamCache::new(NonZeroUsize::new(2).expect("non-zero"));
        cache.put("a", entry(1));
        cache.forget("a");
        assert!(cache.get("a").is_none());
    }
}
