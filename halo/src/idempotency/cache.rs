//! The optional local cache: completed records kept in the container.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::record::{Record, Status};

/// A bounded least-recently-used cache of **completed** records, consulted
/// before the store.
///
/// It never answers what the store would not: it holds only completed
/// records, drops them once expired, and answers only when the validation
/// hash matches (a mismatch is left to the store to report).
#[derive(Debug)]
pub(crate) struct LocalCache {
    capacity: usize,
    inner: Mutex<Lru>,
}

#[derive(Debug, Default)]
struct Lru {
    tick: u64,
    entries: HashMap<String, (u64, Record)>,
    /// tick of last use -> key, oldest first.
    order: BTreeMap<u64, String>,
}

impl LocalCache {
    /// A cache of at most `capacity` records (at least 1).
    pub(crate) fn new(capacity: usize) -> LocalCache {
        LocalCache { capacity: capacity.max(1), inner: Mutex::new(Lru::default()) }
    }

    /// The maximum number of records.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many records the cache holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the cache is empty.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stored response of `key` if a completed, unexpired record with
    /// the same `validation` hash is cached. An expired record is dropped.
    #[cfg(test)]
    pub(crate) fn get(&self, key: &str, validation: Option<&str>, now_ms: u64) -> Option<String> {
        self.get_record(key, validation, now_ms).and_then(|record| record.data)
    }

    /// Like [`LocalCache::get`], the whole completed record.
    pub(crate) fn get_record(&self, key: &str, validation: Option<&str>, now_ms: u64) -> Option<Record> {
        let mut lru = self.lock();
        let (tick, record) = lru.entries.get(key)?;
        let tick = *tick;
        if !record.blocks(now_ms) {
            lru.order.remove(&tick);
            lru.entries.remove(key);
            return None;
        }
        if validation.is_some() && record.validation.as_deref() != validation {
            return None;
        }
        let record = record.clone();
        lru.touch(key, tick);
        Some(record)
    }

    /// Caches `record` if it is completed; evicts the least recently used
    /// record when full.
    pub(crate) fn put(&self, record: &Record) {
        if record.status != Status::Completed || record.data.is_none() {
            return;
        }
        let mut lru = self.lock();
        lru.tick += 1;
        let tick = lru.tick;
        if let Some((old, _)) = lru.entries.insert(record.key.clone(), (tick, record.clone())) {
            lru.order.remove(&old);
        }
        lru.order.insert(tick, record.key.clone());
        while lru.entries.len() > self.capacity {
            let Some((_, oldest)) = lru.order.pop_first() else { break };
            lru.entries.remove(&oldest);
        }
    }

    /// Forgets `key`.
    pub(crate) fn remove(&self, key: &str) {
        let mut lru = self.lock();
        if let Some((tick, _)) = lru.entries.remove(key) {
            lru.order.remove(&tick);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru> {
        crate::lock::lock(&self.inner)
    }
}

impl Lru {
    fn touch(&mut self, key: &str, old: u64) {
        self.tick += 1;
        let tick = self.tick;
        if let Some(entry) = self.entries.get_mut(key) {
            entry.0 = tick;
        }
        if let Some(key) = self.order.remove(&old) {
            self.order.insert(tick, key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(key: &str, validation: Option<&str>) -> Record {
        Record::in_progress(key, 100, 0, validation.map(str::to_owned)).completed(format!("\"{key}\""), 100)
    }

    #[test]
    fn evicts_the_least_recently_used() {
        let cache = LocalCache::new(2);
        cache.put(&done("a", None));
        cache.put(&done("b", None));
        assert!(cache.get("a", None, 0).is_some(), "a is now the most recent");
        cache.put(&done("c", None));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("b", None, 0).is_none(), "b was the least recently used");
        assert!(cache.get("a", None, 0).is_some() && cache.get("c", None, 0).is_some());
    }

    #[test]
    fn never_holds_in_progress_records_and_respects_validation() {
        let cache = LocalCache::new(4);
        cache.put(&Record::in_progress("p", 100, 5, None));
        assert!(cache.is_empty());
        cache.put(&done("v", Some("h1")));
        assert!(cache.get("v", Some("h2"), 0).is_none());
        assert!(cache.get("v", Some("h1"), 0).is_some());
        cache.remove("v");
        assert!(cache.get("v", Some("h1"), 0).is_none());
    }
}
