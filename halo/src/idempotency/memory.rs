//! [`MemoryIdempotencyStore`]: records in process memory.

use super::IdempotencyStore;
use super::record::Record;
use super::store::Claim;
use crate::durable::{MemoryMap, StoreError};
use crate::future::BoxFuture;

/// An in-memory [`IdempotencyStore`]: the embedded default for local runs and unit
/// tests. Clones share their records.
///
/// It has the same semantics as [`DynamoDbIdempotencyStore`](super::DynamoDbIdempotencyStore)
/// (atomic claims, expiry checked on every claim) but lives in one process:
/// inside Lambda every container would have its own, so halo never picks it
/// there by itself.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use halo::idempotency::{MemoryIdempotencyStore, IdempotencyStore};
/// use halo::idempotency::store::{Claim, Record};
///
/// let store = MemoryIdempotencyStore::new();
/// let claim = Record::in_progress("k", 100, 50_000, None);
/// assert_eq!(store.claim(&claim, 1_000).await.unwrap(), Claim::Claimed { previous: None });
/// assert!(matches!(store.claim(&claim, 1_000).await.unwrap(), Claim::Held(_)));
/// // Once the claiming invocation's deadline has passed, the key is free again.
/// assert!(matches!(store.claim(&claim, 50_001).await.unwrap(), Claim::Claimed { previous: Some(_) }));
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryIdempotencyStore {
    records: MemoryMap<Record>,
}

impl MemoryIdempotencyStore {
    /// An empty store.
    pub fn new() -> MemoryIdempotencyStore {
        MemoryIdempotencyStore::default()
    }

    /// How many records the store holds (expired ones included).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the store holds no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Writes `record` as it is (to set up a state in tests).
    pub fn insert(&self, record: Record) {
        self.records.insert(record.key.clone(), record);
    }
}

impl IdempotencyStore for MemoryIdempotencyStore {
    fn claim<'a>(&'a self, record: &'a Record, now_ms: u64) -> BoxFuture<'a, Result<Claim, StoreError>> {
        let claim = self.records.with(|records| match records.get(&record.key) {
            Some(existing) if existing.blocks(now_ms) => Claim::Held(existing.clone()),
            _ => Claim::Claimed { previous: records.insert(record.key.clone(), record.clone()) },
        });
        Box::pin(std::future::ready(Ok(claim)))
    }

    fn complete<'a>(&'a self, record: &'a Record) -> BoxFuture<'a, Result<(), StoreError>> {
        self.insert(record.clone());
        Box::pin(std::future::ready(Ok(())))
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.records.remove(key);
        Box::pin(std::future::ready(Ok(())))
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        let record = self.records.get(key);
        Box::pin(std::future::ready(Ok(record)))
    }
}
