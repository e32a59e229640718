//! Fan-out / fan-in on the in-memory store and queue (local runs and unit
//! tests): the store contract (`halo_test_support::contracts::fanout`), and
//! the pipeline's promises with the queue's deliveries driven by the test.

use std::sync::Arc;

use halo::fanout::MemoryFanoutStore;

async fn memory_store() -> Arc<MemoryFanoutStore> {
    Arc::new(MemoryFanoutStore::new())
}

halo_test_support::store_contract_tests!(fanout, memory_store);

async fn memory_rig() -> halo_test_support::pipeline::Rig<halo_test_support::pipeline::MemoryQueue> {
    halo_test_support::pipeline::Rig::memory()
}

halo_test_support::fanout_pipeline_tests!(memory_rig);
