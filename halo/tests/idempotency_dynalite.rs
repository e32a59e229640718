//! The idempotency store contract on dynalite, a second DynamoDB written by
//! other people (see `halo_test_support::dynalite`): the DynamoDB store
//! keeps every promise of its trait there as on moto, though dynalite
//! returns no item on a failed condition (the store reads it instead) and
//! has no TTL API (the table is created without TTL).

use std::sync::Arc;

use halo::idempotency::DynamoDbIdempotencyStore;
use halo_test_support::dynalite::Dynalite;
use halo_test_support::moto::unique_name;

async fn store() -> Arc<DynamoDbIdempotencyStore> {
    let store = DynamoDbIdempotencyStore::new(Dynalite::shared().client().await, unique_name("idempotency"));
    store.create_table().await.expect("create the table");
    Arc::new(store)
}

halo_test_support::store_contract_tests!(idempotency, store);
