//! Idempotency on DynamoDB (moto) through the fault proxy: a write whose
//! answer is lost is retried by the SDK and meets its own earlier attempt.
//! The call recognises its own claim and runs once; it is never taken for
//! a concurrent duplicate (`AlreadyInProgress`).

use std::sync::atomic::{AtomicU32, Ordering};

use halo::idempotency::store::Status;
use halo::idempotency::{DynamoDbIdempotencyStore, Idempotency, IdempotencyConfig};
use halo_test_support::fault_proxy::{Fault, FaultProxy};
use halo_test_support::moto::{Moto, sdk_config, unique_name};

async fn store_through(proxy: &FaultProxy) -> DynamoDbIdempotencyStore {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(&proxy.endpoint()).await);
    let store = DynamoDbIdempotencyStore::new(client, unique_name("faults"));
    store.create_table().await.unwrap();
    store
}

#[tokio::test]
async fn a_claim_whose_answer_is_lost_is_recognised_as_the_calls_own() {
    for fault in [Fault::AppliedThenDropped, Fault::AppliedThenServerError] {
        let proxy = FaultProxy::start(&Moto::shared().endpoint()).await;
        let store = store_through(&proxy).await;
        let charge = Idempotency::new(IdempotencyConfig::new("charge").key(["/id"])).with_store(store.clone());
        let runs = AtomicU32::new(0);
        let event = serde_json::json!({ "id": "p-1" });
        let ctx = halo::Ctx::for_test();

        proxy.plan("PutItem", fault);
        let first: Result<u32, halo::Error> =
            charge.run(&event, Some(&ctx), async { Ok(runs.fetch_add(1, Ordering::SeqCst)) }).await;
        assert_eq!(first.map_err(|e| e.code().to_owned()), Ok(0), "{fault:?}: the call ran");
        assert_eq!(proxy.count("PutItem"), 3, "{fault:?}: the claim, its retry, the completion");
        let again: Result<u32, halo::Error> =
            charge.run(&event, Some(&ctx), async { Ok(runs.fetch_add(1, Ordering::SeqCst)) }).await;
        let again = again.unwrap();
        assert_eq!(again, 0, "{fault:?}: a duplicate is replayed");
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{fault:?}: the body ran once");
        let key = charge.key_of(&event).unwrap().unwrap();
        let record = halo::idempotency::IdempotencyStore::get(&store, &key.key).await.unwrap().unwrap();
        assert_eq!(record.status, Status::Completed, "{fault:?}");
    }
}
