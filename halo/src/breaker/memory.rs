//! An in-process breaker store, for tests and local runs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use super::state::BreakerState;
use super::store::{BreakerStore, SharedState};
use crate::durable::{MemoryMap, StoreError};
use crate::future::BoxFuture;

/// Shared breaker state in memory: the "containers" of one process share
/// it. [`set_available`](MemoryBreakerStore::set_available) simulates an
/// outage.
#[derive(Debug, Default)]
pub struct MemoryBreakerStore {
    records: MemoryMap<SharedState>,
    unavailable: AtomicBool,
    writes: std::sync::atomic::AtomicU64,
}

impl MemoryBreakerStore {
    /// An empty store.
    pub fn new() -> MemoryBreakerStore {
        MemoryBreakerStore::default()
    }

    /// Makes every operation fail (`false`) or work again (`true`).
    pub fn set_available(&self, available: bool) {
        self.unavailable.store(!available, Ordering::SeqCst);
    }

    /// Successful writes so far (transitions and probe leases).
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    /// Runs `f` on the records, or fails as an unavailable store would.
    fn with<R>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&mut HashMap<String, SharedState>) -> R,
    ) -> Result<R, StoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable(operation, "the store is unavailable").of(&super::env::STORE));
        }
        Ok(self.records.with(f))
    }
}

impl BreakerStore for MemoryBreakerStore {
    fn load<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<SharedState>, StoreError>> {
        Box::pin(async move { self.with("GetItem", |records| records.get(name).cloned()) })
    }

    fn publish<'a>(&'a self, next: &'a SharedState) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let written = self.with("PutItem", |records| match records.get(&next.name) {
                // This writer's earlier attempt of the same transition.
                Some(current) if current.version == next.version && current.writer == next.writer => true,
                Some(current) if current.version + 1 != next.version => false,
                _ => {
                    records.insert(next.name.clone(), next.clone());
                    self.writes.fetch_add(1, Ordering::SeqCst);
                    true
                }
            })?;
            Ok(written)
        })
    }

    fn lease_probe<'a>(&'a self, name: &'a str, version: u64, max: u32) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            self.with("UpdateItem", |records| match records.get_mut(name) {
                Some(r) if r.version == version && r.state == BreakerState::HalfOpen && r.probes < max => {
                    r.probes += 1;
                    self.writes.fetch_add(1, Ordering::SeqCst);
                    true
                }
                _ => false,
            })
        })
    }

    fn count_probe_success<'a>(
        &'a self,
        name: &'a str,
        version: u64,
    ) -> BoxFuture<'a, Result<Option<u32>, StoreError>> {
        Box::pin(async move {
            self.with("UpdateItem", |records| match records.get_mut(name) {
                Some(r) if r.version == version && r.state == BreakerState::HalfOpen => {
                    r.successes += 1;
                    self.writes.fetch_add(1, Ordering::SeqCst);
                    Some(r.successes)
                }
                _ => None,
            })
        })
    }
}
