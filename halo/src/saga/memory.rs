//! [`MemorySagaLog`]: the saga log in process memory, for local runs and
//! unit tests. It is never chosen silently inside Lambda: pass it
//! explicitly.

use super::log::{SagaLog, SagaRecord};
use crate::durable::{MemoryMap, StoreError};
use crate::future::BoxFuture;

/// A saga log in memory, with the same conditional-write semantics as
/// [`DynamoDbSagaLog`](super::DynamoDbSagaLog). Records live as long as the
/// value.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use halo::saga::MemorySagaLog;
/// use halo::saga::log::SagaLog;
///
/// let log = MemorySagaLog::new();
/// assert!(log.load("nope").await.unwrap().is_none());
/// assert_eq!(log.len(), 0);
/// # });
/// ```
#[derive(Debug, Default)]
pub struct MemorySagaLog {
    records: MemoryMap<SagaRecord>,
}

impl MemorySagaLog {
    /// An empty log.
    pub fn new() -> MemorySagaLog {
        MemorySagaLog::default()
    }

    /// How many sagas it holds.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether it holds no saga.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

impl SagaLog for MemorySagaLog {
    fn load<'a>(&'a self, saga_id: &'a str) -> BoxFuture<'a, Result<Option<SagaRecord>, StoreError>> {
        let record = self.records.get(saga_id);
        Box::pin(async move { Ok(record) })
    }

    fn write<'a>(&'a self, record: &'a SagaRecord) -> BoxFuture<'a, Result<(), StoreError>> {
        let result = self.records.with(|records| {
            let stored = records.get(&record.saga_id);
            let fits = match stored {
                None => record.version == 1,
                // The same record again: its writer's earlier attempt.
                Some(stored) if stored == record => true,
                Some(stored) => stored.version + 1 == record.version,
            };
            if fits {
                records.insert(record.saga_id.clone(), record.clone());
                Ok(())
            } else {
                Err(StoreError::conflict("PutItem").of(&super::STORE))
            }
        });
        Box::pin(async move { result })
    }

    fn stalled<'a>(
        &'a self,
        updated_before_ms: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<SagaRecord>, StoreError>> {
        let mut found: Vec<SagaRecord> = self.records.with(|records| {
            records.values().filter(|r| !r.status.is_final() && r.updated_at_ms < updated_before_ms).cloned().collect()
        });
        found.sort_by_key(|r| r.updated_at_ms);
        found.truncate(limit);
        Box::pin(async move { Ok(found) })
    }
}
