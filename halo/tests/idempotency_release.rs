//! A failed call releases its claim even when the store refuses the first
//! delete: the release is retried like completing is, so one transient
//! error does not block the key until the call's deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use halo::BoxFuture;
use halo::durable::StoreError;
use halo::idempotency::store::{Claim, Record};
use halo::idempotency::{Idempotency, IdempotencyConfig, IdempotencyStore, MemoryIdempotencyStore};

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
            return Box::pin(async { Err(StoreError::unavailable("DeleteItem", "throttled")) });
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
    let charge = Idempotency::new(IdempotencyConfig::new("charge").key(["/id"])).with_store(Arc::clone(&store));
    let event = serde_json::json!({ "id": "p-1" });
    let ctx = halo::Ctx::for_test();

    let failed: Result<u32, halo::Error> =
        charge.run(&event, Some(&ctx), async { Err(halo::Error::upstream("the bank is down")) }).await;
    assert_eq!(failed.unwrap_err().code(), "UpstreamError", "the body's error is returned");
    assert_eq!(store.deletes.load(Ordering::SeqCst), 2, "the failed delete was retried");

    let retried: u32 = charge.run(&event, Some(&ctx), async { Ok::<_, halo::Error>(7) }).await.unwrap();
    assert_eq!(retried, 7, "the key was released: the retry ran the body");
}
