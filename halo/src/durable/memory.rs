//! [`MemoryMap`]: the map behind every in-memory store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Records by key in process memory, for an in-memory twin of a store:
/// every read-check-write runs under one lock ([`MemoryMap::with`]), so a
/// conditional write is atomic as it is in DynamoDB. Clones share their
/// records. A panic while the lock was held does not poison the map.
///
/// ```
/// use halo::durable::MemoryMap;
///
/// let map = MemoryMap::new();
/// let first = map.with(|records| records.insert("k".to_owned(), 1).is_none());
/// let again = map.with(|records| records.insert("k".to_owned(), 2).is_none());
/// assert!(first && !again);
/// assert_eq!(map.get("k"), Some(2));
/// ```
#[derive(Debug)]
pub struct MemoryMap<V> {
    records: Arc<Mutex<HashMap<String, V>>>,
}

impl<V> Default for MemoryMap<V> {
    fn default() -> Self {
        MemoryMap { records: Arc::default() }
    }
}

impl<V> Clone for MemoryMap<V> {
    fn clone(&self) -> Self {
        MemoryMap { records: Arc::clone(&self.records) }
    }
}

impl<V: Clone> MemoryMap<V> {
    /// An empty map.
    pub fn new() -> MemoryMap<V> {
        MemoryMap::default()
    }

    /// Runs `f` on the records under the lock.
    pub fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, V>) -> R) -> R {
        f(&mut self.lock())
    }

    /// The record of `key`.
    pub fn get(&self, key: &str) -> Option<V> {
        self.with(|records| records.get(key).cloned())
    }

    /// Writes the record of `key`, returning the one it replaced.
    pub fn insert(&self, key: impl Into<String>, value: V) -> Option<V> {
        self.with(|records| records.insert(key.into(), value))
    }

    /// Removes the record of `key`, returning it.
    pub fn remove(&self, key: &str) -> Option<V> {
        self.with(|records| records.remove(key))
    }

    /// The records, locked, for a store that works on them in place.
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, V>> {
        crate::lock::lock(&self.records)
    }

    /// Every record, in no particular order.
    pub fn values(&self) -> Vec<V> {
        self.with(|records| records.values().cloned().collect())
    }

    /// How many records it holds.
    pub(crate) fn len(&self) -> usize {
        self.with(|records| records.len())
    }

    /// Whether it holds no record.
    pub(crate) fn is_empty(&self) -> bool {
        self.with(|records| records.is_empty())
    }
}
