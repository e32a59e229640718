//! An in-process breaker store, for tests and local runs.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::state::BreakerState;
use super::store::{BreakerStore, SharedState, StoreError};
use crate::BoxFuture;

/// Shared breaker state in memory: the "containers" of one process share
/// it. [`set_available`](MemoryBreakerStore::set_available) simulates an
/// outage.
#[derive(Debug, Default)]
pub struct MemoryBreakerStore {
    records: Mutex<HashMap<String, SharedState>>,
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

    fn check(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, SharedState>>, StoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError("the store is unavailable".into()));
        }
        Ok(self.records.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl BreakerStore for MemoryBreakerStore {
    fn load<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<SharedState>, StoreError>> {
        Box::pin(async move { Ok(self.check()?.get(name).cloned()) })
    }

    fn publish<'a>(&'a self, next: &'a SharedState) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut records = self.check()?;
            if let Some(current) = records.get(&next.name)
                && current.version + 1 != next.version
            {
                return Ok(false);
            }
            records.insert(next.name.clone(), next.clone());
            self.writes.fetch_add(1, Ordering::SeqCst);
            Ok(true)
        })
    }

    fn lease_probe<'a>(&'a self, name: &'a str, version: u64, max: u32) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut records = self.check()?;
            match records.get_mut(name) {
                Some(r) if r.version == version && r.state == BreakerState::HalfOpen && r.probes < max => {
                    r.probes += 1;
                    self.writes.fetch_add(1, Ordering::SeqCst);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
    }

    fn count_probe_success<'a>(
        &'a self,
        name: &'a str,
        version: u64,
    ) -> BoxFuture<'a, Result<Option<u32>, StoreError>> {
        Box::pin(async move {
            let mut records = self.check()?;
            match records.get_mut(name) {
                Some(r) if r.version == version && r.state == BreakerState::HalfOpen => {
                    r.successes += 1;
                    self.writes.fetch_add(1, Ordering::SeqCst);
                    Ok(Some(r.successes))
                }
                _ => Ok(None),
            }
        })
    }
}
