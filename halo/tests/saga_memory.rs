//! Saga behaviours on the in-memory log.

mod saga_common;

use std::sync::Arc;

use halo::saga::MemorySagaLog;

async fn memory_log() -> saga_common::Log {
    Arc::new(MemorySagaLog::new())
}

saga_behaviours!(memory_log);
