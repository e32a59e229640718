//! What idempotency logs, through halo's JSON layer: a store failure with
//! its whole cause chain (not only the SDK's `service error`), a call
//! without a key at INFO. One test, so that no other test of this binary
//! registers the same log call sites without the capturing subscriber.

use halo::BoxFuture;
use halo::durable::StoreError;
use halo::idempotency::store::{Claim, Record};
use halo::idempotency::{Idempotency, IdempotencyConfig, IdempotencyStore, MemoryIdempotencyStore};
use tracing_subscriber::layer::SubscriberExt;

/// An SDK-like error: its own text says nothing, its source says what.
#[derive(Debug)]
struct ServiceError(std::io::Error);

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("service error")
    }
}

impl std::error::Error for ServiceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// A store whose every request fails with a [`ServiceError`].
struct Throttled;

impl Throttled {
    fn failure<'a, T: Send + 'a>(operation: &'static str) -> BoxFuture<'a, Result<T, StoreError>> {
        let cause = ServiceError(std::io::Error::other("ProvisionedThroughputExceededException: rate exceeded"));
        Box::pin(async move { Err(StoreError::unavailable(operation, cause)) })
    }
}

impl IdempotencyStore for Throttled {
    fn claim<'a>(&'a self, _record: &'a Record, _now_ms: u64) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Throttled::failure("PutItem")
    }
    fn complete<'a>(&'a self, _record: &'a Record) -> BoxFuture<'a, Result<(), StoreError>> {
        Throttled::failure("PutItem")
    }
    fn delete<'a>(&'a self, _key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Throttled::failure("DeleteItem")
    }
    fn get<'a>(&'a self, _key: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        Throttled::failure("GetItem")
    }
}

#[tokio::test]
async fn store_failures_and_calls_without_a_key_are_logged_as_they_should() {
    let lines = halo::log::CapturedLines::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(halo::log::JsonLayer::new(lines.clone())));

    // A store failure: the whole cause chain, each cause once.
    let charge = Idempotency::new(IdempotencyConfig::new("charge").key(["/id"])).with_store(Throttled);
    let event = serde_json::json!({ "id": "p-1" });
    let err = charge.run(&event, None, async { Ok::<u32, halo::Error>(1) }).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (503, "IdempotencyStore"));
    let warning =
        lines.json().into_iter().find(|l| l["idempotency_outcome"] == "store_error").expect("a store-error line");
    let cause = warning["error_cause"].as_str().unwrap();
    assert_eq!(
        cause,
        "idempotency store: PutItem failed: service error: ProvisionedThroughputExceededException: rate exceeded"
    );

    // A call without a key: an expected case, at INFO.
    let create =
        Idempotency::new(IdempotencyConfig::new("create").key(["/key"])).with_store(MemoryIdempotencyStore::new());
    let no_key = serde_json::json!({ "key": null, "body": { "title": "buy milk" } });
    let created: u32 = create.run(&no_key, None, async { Ok::<_, halo::Error>(1) }).await.unwrap();
    assert_eq!(created, 1, "the call ran without idempotency");
    let all = lines.json();
    let line = all.iter().find(|l| l["idempotency_outcome"] == "skipped").unwrap_or_else(|| panic!("{all:?}"));
    assert_eq!(line["level"], "INFO", "{line}");
}
