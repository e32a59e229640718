//! The saga log contract (`halo_test_support::contracts::saga_log`) on the
//! in-memory log.

use std::sync::Arc;

use halo::saga::MemorySagaLog;

async fn memory_log() -> Arc<MemorySagaLog> {
    Arc::new(MemorySagaLog::new())
}

halo_test_support::store_contract_tests!(saga_log, memory_log);
