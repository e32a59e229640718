//! Every store contract on dynalite, a second DynamoDB written by other
//! people (see `halo_test_support::dynalite`): halo's DynamoDB stores keep
//! every promise of their traits there as on moto, though dynalite returns
//! no item on a failed condition (the stores read it instead) and has no
//! TTL API (tables are created without TTL).

/// A module `$suite` running the contract suite `$suite` on a fresh
/// `$store` table on the shared dynalite.
macro_rules! on_dynalite {
    ($($suite:ident: $store:ty, $prefix:literal;)+) => {$(
        mod $suite {
            async fn store() -> std::sync::Arc<$store> {
                let client = halo_test_support::dynalite::Dynalite::shared().client().await;
                let store = <$store>::new(client, halo_test_support::moto::unique_name($prefix));
                store.create_table().await.expect("create the table");
                std::sync::Arc::new(store)
            }

            halo_test_support::store_contract_tests!($suite, store);
        }
    )+};
}

on_dynalite! {
    idempotency: halo::idempotency::DynamoDbIdempotencyStore, "idempotency";
    saga_log: halo::saga::DynamoDbSagaLog, "sagas";
    breaker: halo::breaker::DynamoDbBreakerStore, "breakers";
    fanout: halo::fanout::DynamoDbFanoutStore, "fanout";
}
