//! A failed call releases its claim even when the store refuses the first
//! delete: the release is retried like completing is, so one transient
//! error does not block the key until the call's deadline. A store failure
//! is logged with its cause, not only the SDK's `service error`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use halo::BoxFuture;
use halo::idempotency::{Claim, Config, Idempotency, IdempotencyStore, MemoryIdempotencyStore, Record, StoreError};
use tracing_subscriber::layer::SubscriberExt;

/// The memory store, whose first `failing_deletes` deletes fail.
struct FlakyDeletes {
    inner: MemoryIdempotencyStore,
    failing_deletes: AtomicU32,
    deletes: AtomicU32,
}

impl IdempotencyStore for FlakyDeletes {
    fn claim<'a>(&'a self, record: &'a Record, now_ms: u64) -> BoxFuture<'a, Result<Claim, StoreError>> {
        self.inner.claim(record, now_ms)
    }
    fn complete<'a>(&'a self, record: &'a Record) -> BoxFuture<'a, Result<(), StoreError>> {
        self.inner.complete(record)
    }
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.deletes.fetch_add(1, Ordering::SeqCst);
        let failing = self.failing_deletes.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failing.is_ok() {
            return Box::pin(async { Err(StoreError::new("DeleteItem", "throttled")) });
        }
        self.inner.delete(key)
    }
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        self.inner.get(key)
    }
}

#[tokio::test]
async fn a_release_that_fails_once_is_retried_and_the_next_call_runs() {
    let store = Arc::new(FlakyDeletes {
        inner: MemoryIdempotencyStore::new(),
        failing_deletes: AtomicU32::new(1),
        deletes: AtomicU32::new(0),
    });
    let charge = Idempotency::new(Config::new("charge").key(["/id"])).with_store(Arc::clone(&store));
    let event = serde_json::json!({ "id": "p-1" });
    let ctx = halo::Ctx::for_test();

    let failed: Result<u32, halo::Error> =
        charge.run(&event, Some(&ctx), async { Err(halo::Error::upstream("the bank is down")) }).await;
    assert_eq!(failed.unwrap_err().code(), "UpstreamError", "the body's error is returned");
    assert_eq!(store.deletes.load(Ordering::SeqCst), 2, "the failed delete was retried");

    let retried: u32 = charge.run(&event, Some(&ctx), async { Ok::<_, halo::Error>(7) }).await.unwrap();
    assert_eq!(retried, 7, "the key was released: the retry ran the body");
}

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
        Box::pin(async move { Err(StoreError::new(operation, cause)) })
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
async fn a_store_failure_is_logged_with_its_cause_once() {
    let lines = halo::log::CapturedLines::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(halo::log::JsonLayer::new(lines.clone())));
    let charge = Idempotency::new(Config::new("charge").key(["/id"])).with_store(Throttled);
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
}
