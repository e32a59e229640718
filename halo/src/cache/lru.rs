//! halo's one bounded least-recently-used map: [`Cache`](super::Cache)'s
//! entries and idempotency's local cache of completed records.

use std::collections::{BTreeMap, HashMap};

/// A map from string keys to values, bounded in entries and in weight
/// (bytes, by the caller's measure): inserting past a bound evicts the
/// least recently used entries first.
#[derive(Debug)]
pub(crate) struct Lru<V> {
    max_entries: usize,
    max_weight: usize,
    weight: usize,
    tick: u64,
    entries: HashMap<String, Slot<V>>,
    /// Tick at which each key was queued -> key, oldest first. A read
    /// only stamps its slot; eviction requeues a key read since it was
    /// queued, so a hit costs no reordering.
    order: BTreeMap<u64, String>,
}

#[derive(Debug)]
struct Slot<V> {
    /// The key's place in `order`.
    queued: u64,
    /// The tick of its last use.
    used: u64,
    weight: usize,
    value: V,
}

impl<V> Lru<V> {
    /// A map of at most `max_entries` entries (at least 1) weighing at
    /// most `max_weight` in all.
    pub(crate) fn new(max_entries: usize, max_weight: usize) -> Lru<V> {
        Lru {
            max_entries: max_entries.max(1),
            max_weight,
            weight: 0,
            tick: 0,
            entries: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    /// The value of `key`, marked as used now.
    pub(crate) fn get(&mut self, key: &str) -> Option<&V> {
        self.tick += 1;
        let slot = self.entries.get_mut(key)?;
        slot.used = self.tick;
        Some(&slot.value)
    }

    /// The value of `key`, without marking it as used.
    pub(crate) fn peek(&self, key: &str) -> Option<&V> {
        self.entries.get(key).map(|slot| &slot.value)
    }

    /// Stores `value` under `key`, then evicts the least recently used
    /// entries until both bounds hold. A value heavier than the weight
    /// bound alone is not stored (and an older value of `key` is removed):
    /// returns whether it was stored.
    pub(crate) fn insert(&mut self, key: String, value: V, weight: usize) -> bool {
        self.remove(&key);
        if weight > self.max_weight {
            return false;
        }
        self.tick += 1;
        self.order.insert(self.tick, key.clone());
        self.entries.insert(key, Slot { queued: self.tick, used: self.tick, weight, value });
        self.weight += weight;
        while self.entries.len() > self.max_entries || self.weight > self.max_weight {
            self.evict_one();
        }
        true
    }

    /// Removes the least recently used entry, requeueing the keys read
    /// since they were queued.
    fn evict_one(&mut self) {
        while let Some((queued, oldest)) = self.order.pop_first() {
            let Some(slot) = self.entries.get_mut(&oldest) else { continue };
            if slot.used != queued {
                slot.queued = slot.used;
                self.order.insert(slot.used, oldest);
                continue;
            }
            if let Some(slot) = self.entries.remove(&oldest) {
                self.weight -= slot.weight;
            }
            return;
        }
    }

    /// Removes `key`, returning its value.
    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        let slot = self.entries.remove(key)?;
        self.order.remove(&slot.queued);
        self.weight -= slot.weight;
        Some(slot.value)
    }

    /// How many entries the map holds.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entries' total weight.
    #[cfg(test)]
    pub(crate) fn weight(&self) -> usize {
        self.weight
    }

    /// The bound on entries.
    pub(crate) fn max_entries(&self) -> usize {
        self.max_entries
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::Lru;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Any sequence of inserts, reads and removals keeps both bounds
        /// and a weight equal to the sum of the entries'.
        #[test]
        fn both_bounds_hold(ops in proptest::collection::vec((0u8..3, 0u8..20, 0usize..40), 1..300)) {
            let mut lru = Lru::new(6, 100);
            let mut weights = std::collections::HashMap::new();
            for (op, key, weight) in ops {
                let key = key.to_string();
                match op {
                    0 => {
                        if lru.insert(key.clone(), (), weight) {
                            weights.insert(key, weight);
                        }
                    }
                    1 => {
                        lru.get(&key);
                    }
                    _ => {
                        lru.remove(&key);
                    }
                }
                weights.retain(|k, _| lru.peek(k).is_some());
                prop_assert!(lru.len() <= 6 && lru.weight() <= 100);
                prop_assert_eq!(lru.weight(), weights.values().sum::<usize>());
            }
        }
    }

    #[test]
    fn evicts_the_least_recently_used_past_either_bound() {
        let mut lru = Lru::new(2, 100);
        lru.insert("a".into(), 1, 10);
        lru.insert("b".into(), 2, 10);
        assert_eq!(lru.get("a"), Some(&1), "a is now the most recent");
        lru.insert("c".into(), 3, 10);
        assert_eq!((lru.len(), lru.peek("b")), (2, None), "b was the least recently used");

        let mut lru = Lru::new(10, 25);
        lru.insert("a".into(), 1, 10);
        lru.insert("b".into(), 2, 10);
        lru.insert("c".into(), 3, 10);
        assert_eq!((lru.len(), lru.weight(), lru.peek("a")), (2, 20, None), "the weight bound evicted a");
    }

    #[test]
    fn a_value_heavier_than_the_bound_is_not_stored_and_replaces_nothing() {
        let mut lru = Lru::new(10, 25);
        lru.insert("a".into(), 1, 10);
        assert!(!lru.insert("a".into(), 2, 30));
        assert_eq!((lru.len(), lru.weight()), (0, 0), "the old value of a is gone too");
    }

    #[test]
    fn replacing_and_removing_keep_the_weight() {
        let mut lru = Lru::new(10, 100);
        lru.insert("a".into(), 1, 10);
        lru.insert("a".into(), 2, 7);
        assert_eq!((lru.len(), lru.weight(), lru.peek("a")), (1, 7, Some(&2)));
        assert_eq!(lru.remove("a"), Some(2));
        assert_eq!((lru.len(), lru.weight()), (0, 0));
    }
}
