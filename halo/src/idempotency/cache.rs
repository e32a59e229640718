//! The optional local cache: completed records kept in the container.

use std::sync::Mutex;

use super::record::{Record, Status};
use crate::cache::lru::Lru;

/// A bounded least-recently-used cache of **completed** records, consulted
/// before the store.
///
/// It never answers what the store would not: it holds only completed
/// records, drops them once expired, and answers only when the validation
/// hash matches (a mismatch is left to the store to report).
#[derive(Debug)]
pub(crate) struct LocalCache {
    records: Mutex<Lru<Record>>,
}

impl LocalCache {
    /// A cache of at most `capacity` records (at least 1).
    pub(crate) fn new(capacity: usize) -> LocalCache {
        LocalCache { records: Mutex::new(Lru::new(capacity, usize::MAX)) }
    }

    /// The maximum number of records.
    pub(crate) fn capacity(&self) -> usize {
        self.lock().max_entries()
    }

    /// How many records the cache holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
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
        let mut records = self.lock();
        let record = records.peek(key)?;
        if !record.blocks(now_ms) {
            records.remove(key);
            return None;
        }
        if validation.is_some() && record.validation.as_deref() != validation {
            return None;
        }
        records.get(key).cloned()
    }

    /// Caches `record` if it is completed; evicts the least recently used
    /// record when full.
    pub(crate) fn put(&self, record: &Record) {
        if record.status != Status::Completed || record.data.is_none() {
            return;
        }
        self.lock().insert(record.key.clone(), record.clone(), 0);
    }

    /// Forgets `key`.
    pub(crate) fn remove(&self, key: &str) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru<Record>> {
        crate::lock::lock(&self.records)
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
