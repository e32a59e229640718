//! Idempotency end to end: every behaviour runs on the `MemoryIdempotencyStore` and on
//! the `DynamoDbIdempotencyStore` against moto over loopback, and so does the store
//! contract (`halo_test_support::contracts::idempotency`, the store-level
//! behaviours); DynamoDB requests are counted with an SDK interceptor. Time
//! is controlled with an injected clock and explicit deadlines, never by
//! sleeping.

use halo::durable::StoreError;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use halo::idempotency::store::{Claim, NotStored, Record, Status};
use halo::idempotency::{
    DynamoDbIdempotencyStore, Idempotency, IdempotencyConfig, IdempotencyStore, MemoryIdempotencyStore,
};
use halo::{Ctx, Error};
use halo_test_support::moto::{Moto, unique_name};
use halo_test_support::sdk_requests::RequestCounter;
use halo_test_support::tcp_proxy::TcpProxy;
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;

/// A clock the test moves by hand (epoch milliseconds).
#[derive(Clone)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn new() -> TestClock {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        TestClock(Arc::new(AtomicU64::new(now)))
    }
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
    fn config(&self, name: &str) -> IdempotencyConfig {
        let clock = self.clone();
        IdempotencyConfig::new(name).clock(std::sync::Arc::new(move || clock.now()))
    }
    /// A context whose deadline is `after` from the clock's now.
    fn ctx(&self, after: Duration) -> Ctx {
        Ctx::builder("req").deadline_epoch_ms(self.now() + after.as_millis() as u64).build()
    }
}

/// Counts how often a body really ran.
#[derive(Clone, Default)]
struct Calls(Arc<AtomicU32>);

impl Calls {
    fn body(&self, answer: Value) -> impl Future<Output = Result<Value, Error>> + use<> {
        let calls = self.0.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(answer)
        }
    }
    fn count(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

async fn dynamodb_store() -> (DynamoDbIdempotencyStore, RequestCounter) {
    let counter = RequestCounter::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&Moto::shared().sdk_config().await)
        .interceptor(counter.clone())
        .build();
    let store = DynamoDbIdempotencyStore::new(aws_sdk_dynamodb::Client::from_conf(config), unique_name("idempotency"));
    store.create_table().await.expect("create the table");
    counter.reset();
    (store, counter)
}

/// The store contract on the memory store.
mod memory_store_contract {
    halo_test_support::store_contract_tests!(idempotency, || async {
        std::sync::Arc::new(halo::idempotency::MemoryIdempotencyStore::new())
    });
}

/// The store contract on the DynamoDB store (a table per behaviour).
mod dynamodb_store_contract {
    halo_test_support::store_contract_tests!(idempotency, || async {
        std::sync::Arc::new(super::dynamodb_store().await.0)
    });
}

fn payment(id: &str, amount: u64) -> Value {
    json!({ "body": json!({ "payment_id": id, "amount": amount }).to_string(), "headers": { "x-api-key": "k" } })
}

fn charge_config(clock: &TestClock) -> IdempotencyConfig {
    clock.config("charge").key(["/body/payment_id"]).validate(["/body/amount"])
}

/// Runs each scenario on both stores.
macro_rules! on_both_stores {
    ($($scenario:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(Arc::new(halo::idempotency::MemoryIdempotencyStore::new())).await;
                }
            )*
            use std::sync::Arc;
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(Arc::new(super::dynamodb_store().await.0)).await;
                }
            )*
            use std::sync::Arc;
        }
    };
}

on_both_stores!(
    first_call_then_replay,
    expired_record_runs_again,
    handler_error_releases_the_key,
    payload_mismatch_is_rejected,
    missing_key_is_skipped_or_rejected,
    key_is_stable_under_reordering_and_whitespace,
    concurrent_duplicate_gets_already_in_progress,
    crashed_invocation_blocks_until_its_deadline_only,
    concurrent_duplicate_waits_for_the_result,
    thirty_two_concurrent_duplicates_run_once_per_round,
    thirty_two_concurrent_duplicates_with_wait_all_get_the_result,
    undeserializable_response_fails_without_running_again,
    oversized_response_is_returned_once_and_never_run_again,
    sixteen_concurrent_duplicates_of_an_oversized_response_run_once,
    unserializable_response_is_never_run_again,
    dropped_call_after_the_body_keeps_the_record,
    current_token_is_stable_per_payload,
    local_cache_never_answers_what_the_store_would_not,
    on_replay_adjusts_replays_only,
    on_replay_of_another_shape_fails_without_running_again,
    disabled_runs_every_call_and_stores_nothing,
);

async fn first_call_then_replay(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock));
    let calls = Calls::default();
    let ctx = clock.ctx(Duration::from_secs(30));
    let first =
        charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!({"charged": 1}))).await;
    let again =
        charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!({"charged": 2}))).await;
    assert_eq!(first.unwrap(), json!({"charged": 1}));
    assert_eq!(again.unwrap(), json!({"charged": 1}), "the identical stored response");
    assert_eq!(calls.count(), 1, "the replay did not run the body");

    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap();
    let record = store.get(&key.key).await.unwrap().expect("a record");
    assert_eq!(record.status, Status::Completed);
    assert_eq!(record.expiration, clock.now() / 1000 + 3600, "default expiry: one hour");
    assert_eq!(record.data.as_deref(), Some(r#"{"charged":1}"#));
    assert_eq!(record.validation, key.validation);
    assert!(key.key.starts_with("charge#"));

    // Another payment id is another key.
    let other = charge.run_with_store(&*store, &payment("p-2", 10), Some(&ctx), calls.body(json!(3))).await;
    assert_eq!(other.unwrap(), json!(3));
    assert_eq!(calls.count(), 2);
}

async fn disabled_runs_every_call_and_stores_nothing(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock).local_cache(10).enabled(false));
    let calls = Calls::default();
    let ctx = clock.ctx(Duration::from_secs(30));
    let first = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(1))).await;
    let again = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(2))).await;
    assert_eq!((first.unwrap(), again.unwrap()), (json!(1), json!(2)));
    assert_eq!(calls.count(), 2);
    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap().key;
    assert_eq!(store.get(&key).await.unwrap(), None, "no record was written");
}

/// `Replay` as seen by a hook: `(key, expires_at, from_cache)`.
type SeenReplay = (String, u64, bool);

async fn on_replay_adjusts_replays_only(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let seen: Arc<std::sync::Mutex<Vec<SeenReplay>>> = Arc::default();
    let log = seen.clone();
    let config = charge_config(&clock).local_cache(10).on_replay(move |mut response, replay| {
        log.lock().unwrap().push((replay.key.to_owned(), replay.expires_at, replay.from_cache));
        response["replayed"] = json!(true);
        response
    });
    // Two containers: the first replays from its local cache, the second
    // (cold) from the store.
    let warm = Idempotency::new(config.clone());
    let cold = Idempotency::new(config);
    let calls = Calls::default();
    let ctx = clock.ctx(Duration::from_secs(30));
    let event = payment("p-1", 10);

    let first = warm.run_with_store(&*store, &event, Some(&ctx), calls.body(json!({"charged": 1}))).await.unwrap();
    let from_cache = warm.run_with_store(&*store, &event, Some(&ctx), calls.body(json!({"charged": 2}))).await.unwrap();
    let from_store = cold.run_with_store(&*store, &event, Some(&ctx), calls.body(json!({"charged": 3}))).await.unwrap();

    assert_eq!(first, json!({"charged": 1}), "the first call's response is not hooked");
    assert_eq!(from_cache, json!({"charged": 1, "replayed": true}));
    assert_eq!(from_store, json!({"charged": 1, "replayed": true}));
    assert_eq!(calls.count(), 1);
    let key = warm.key_of(&payment("p-1", 10)).unwrap().unwrap().key;
    let expires_at = clock.now() / 1000 + 3600;
    assert_eq!(*seen.lock().unwrap(), vec![(key.clone(), expires_at, true), (key.clone(), expires_at, false)]);
    let record = store.get(&key).await.unwrap().expect("a record");
    assert_eq!(record.data.as_deref(), Some(r#"{"charged":1}"#), "the stored response is unchanged");
}

async fn on_replay_of_another_shape_fails_without_running_again(store: Arc<dyn IdempotencyStore>) {
    #[derive(serde::Serialize, serde::Deserialize, Debug)]
    struct Charged {
        charged: u32,
    }
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock).on_replay(|_, _| json!("not a Charged")));
    let ctx = clock.ctx(Duration::from_secs(30));
    let runs = Calls::default();
    let body = |runs: &Calls| {
        let runs = runs.clone();
        async move {
            runs.body(json!(null)).await?;
            Ok::<_, Error>(Charged { charged: 1 })
        }
    };
    charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), body(&runs)).await.unwrap();

    let err = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), body(&runs)).await.unwrap_err();

    assert_eq!((err.status(), err.code()), (500, "IdempotencyReplayHook"));
    assert_eq!(runs.count(), 1, "a broken hook never runs the function again");
    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap().key;
    assert_eq!(store.get(&key).await.unwrap().expect("the record stays").status, Status::Completed);
}

async fn expired_record_runs_again(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock).expires_after(Duration::from_secs(60)));
    let calls = Calls::default();
    let ctx = clock.ctx(Duration::from_secs(30));
    charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(1))).await.unwrap();
    clock.advance(Duration::from_secs(60));
    let replay = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(2))).await;
    assert_eq!(replay.unwrap(), json!(1), "still live at exactly its expiration second");
    clock.advance(Duration::from_secs(1));
    let ctx = clock.ctx(Duration::from_secs(30));
    let rerun = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(2))).await;
    assert_eq!(rerun.unwrap(), json!(2), "expired: the body ran again");
    assert_eq!(calls.count(), 2);
}

async fn handler_error_releases_the_key(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock));
    let ctx = clock.ctx(Duration::from_secs(30));
    let failed: Result<Value, Error> = charge
        .run_with_store(&*store, &payment("p-1", 10), Some(&ctx), async { Err(Error::upstream("card network down")) })
        .await;
    assert_eq!(failed.unwrap_err().code(), "UpstreamError", "the body's own error is returned");
    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap();
    assert_eq!(store.get(&key.key).await.unwrap(), None, "the record was deleted");

    let calls = Calls::default();
    let retry = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!("ok"))).await;
    assert_eq!(retry.unwrap(), json!("ok"));
    assert_eq!(calls.count(), 1, "the retry ran");
}

async fn payload_mismatch_is_rejected(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock));
    let calls = Calls::default();
    let ctx = clock.ctx(Duration::from_secs(30));
    charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(1))).await.unwrap();
    let err = charge.run_with_store(&*store, &payment("p-1", 99), Some(&ctx), calls.body(json!(2))).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (422, "PayloadMismatch"));
    assert!(!err.message().contains("10"), "no stored data in the message: {}", err.message());
    assert_eq!(calls.count(), 1);
}

async fn missing_key_is_skipped_or_rejected(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let ctx = clock.ctx(Duration::from_secs(30));
    let no_key = json!({ "body": "{\"amount\": 10}" });
    let calls = Calls::default();
    let lenient = Idempotency::new(charge_config(&clock));
    for _ in 0..2 {
        lenient.run_with_store(&*store, &no_key, Some(&ctx), calls.body(json!("ran"))).await.unwrap();
    }
    assert_eq!(calls.count(), 2, "without a key, idempotency is skipped");

    let strict = Idempotency::new(charge_config(&clock).required(true));
    let null_key = json!({ "body": "{\"payment_id\": null}" });
    for payload in [&no_key, &null_key] {
        let err = strict.run_with_store(&*store, payload, Some(&ctx), calls.body(json!("ran"))).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "IdempotencyKeyMissing"));
    }
    assert_eq!(calls.count(), 2, "a required key that is missing does not run the body");
}

async fn key_is_stable_under_reordering_and_whitespace(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let whole = Idempotency::new(clock.config("whole"));
    let ctx = clock.ctx(Duration::from_secs(30));
    let a: Value = serde_json::from_str(r#"{"order":{"id":"o-1","lines":[1,2]},"amount":10}"#).unwrap();
    let b: Value =
        serde_json::from_str("{\n  \"amount\" : 10 ,\n  \"order\" : {\n    \"lines\" : [ 1, 2 ], \"id\" : \"o-1\" } }")
            .unwrap();
    let calls = Calls::default();
    let first = whole.run_with_store(&*store, &a, Some(&ctx), calls.body(json!(1))).await.unwrap();
    let second = whole.run_with_store(&*store, &b, Some(&ctx), calls.body(json!(2))).await.unwrap();
    assert_eq!((first, second), (json!(1), json!(1)));
    assert_eq!(calls.count(), 1);
    // An API Gateway body with its fields in another order, and a composite key.
    let composite = Idempotency::new(clock.config("composite").key(["/body/payment_id", "/headers/x-api-key"]));
    let x = json!({ "body": "{\"payment_id\":\"p\",\"amount\":1}", "headers": { "x-api-key": "k" } });
    let y = json!({ "headers": { "x-api-key": "k" }, "body": "{ \"amount\": 1,\n \"payment_id\": \"p\" }" });
    assert_eq!(composite.key_of(&x).unwrap(), composite.key_of(&y).unwrap());
    let z = json!({ "body": "{\"payment_id\":\"p\"}", "headers": { "x-api-key": "other" } });
    assert_ne!(composite.key_of(&x).unwrap(), composite.key_of(&z).unwrap());
}

async fn concurrent_duplicate_gets_already_in_progress(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let charge = Arc::new(Idempotency::new(charge_config(&clock)));
    let ctx = clock.ctx(Duration::from_secs(30));
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
    let first = {
        let (charge, store, ctx) = (charge.clone(), store.clone(), ctx.clone());
        tokio::spawn(async move {
            charge
                .run_with_store(&*store, &payment("p-1", 10), Some(&ctx), async move {
                    let _ = started_tx.send(());
                    let _ = released.await;
                    Ok::<_, Error>(json!("first"))
                })
                .await
        })
    };
    started.await.unwrap();
    let calls = Calls::default();
    let err = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(2))).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (409, "AlreadyInProgress"));
    assert!(err.kind().is_retryable() || err.status() == 409);
    release.send(()).unwrap();
    assert_eq!(first.await.unwrap().unwrap(), json!("first"));
    let replay = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(3))).await;
    assert_eq!(replay.unwrap(), json!("first"));
    assert_eq!(calls.count(), 0);
}

async fn crashed_invocation_blocks_until_its_deadline_only(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock));
    // The "killed" invocation: its deadline is 10 s away; it claims the key
    // and never finishes (its future is dropped mid-body, as when Lambda
    // stops the container).
    let charge = Arc::new(charge);
    let doomed = clock.ctx(Duration::from_secs(10));
    let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
    let killed = {
        let (charge, store, doomed) = (charge.clone(), store.clone(), doomed.clone());
        tokio::spawn(async move {
            let body = async move {
                let _ = started_tx.send(());
                std::future::pending::<Result<Value, Error>>().await
            };
            charge.run_with_store(&*store, &payment("p-1", 10), Some(&doomed), body).await
        })
    };
    started.await.unwrap();
    killed.abort();
    assert!(killed.await.unwrap_err().is_cancelled());
    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap();
    let left = store.get(&key.key).await.unwrap().expect("the claim is left behind");
    assert_eq!(left.status, Status::InProgress);
    assert_eq!(left.in_progress_expiration, Some(doomed.deadline_epoch_ms()), "in-progress expiry = the deadline");

    let calls = Calls::default();
    clock.advance(Duration::from_secs(10));
    let ctx = clock.ctx(Duration::from_secs(30));
    let err = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(1))).await.unwrap_err();
    assert_eq!(err.code(), "AlreadyInProgress", "blocked up to and at its deadline");
    clock.advance(Duration::from_millis(1));
    let ctx = clock.ctx(Duration::from_secs(30));
    let after = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(1))).await;
    assert_eq!(after.unwrap(), json!(1), "and not after it");
    assert_eq!(calls.count(), 1);
}

async fn concurrent_duplicate_waits_for_the_result(store: Arc<dyn IdempotencyStore>) {
    let charge = Arc::new(Idempotency::new(
        IdempotencyConfig::new("charge").key(["/body/payment_id"]).wait(Duration::from_secs(10)),
    ));
    let ctx = Ctx::builder("req").timeout(Duration::from_secs(30)).build();
    let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let first = {
        let (charge, store, ctx) = (charge.clone(), store.clone(), ctx.clone());
        tokio::spawn(async move {
            charge
                .run_with_store(&*store, &payment("p-1", 10), Some(&ctx), async move {
                    let _ = started_tx.send(());
                    let _ = released.await;
                    Ok::<_, Error>(json!("first"))
                })
                .await
        })
    };
    started.await.unwrap();
    let calls = Calls::default();
    let waiter = {
        let (charge, store, ctx, calls) = (charge.clone(), store.clone(), ctx.clone(), calls.clone());
        tokio::spawn(async move {
            charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(2))).await
        })
    };
    release.send(()).unwrap();
    assert_eq!(first.await.unwrap().unwrap(), json!("first"));
    assert_eq!(waiter.await.unwrap().unwrap(), json!("first"), "the waiter got the first call's result");
    assert_eq!(calls.count(), 0);
}

/// 32 concurrent invocations with one payload, 20 rounds (a new payment id
/// per round): the body runs exactly once per round.
async fn thirty_two_concurrent(store: Arc<dyn IdempotencyStore>, wait: bool) {
    let mut config = IdempotencyConfig::new("concurrent").key(["/body/payment_id"]).validate(["/body/amount"]);
    if wait {
        config = config.wait(Duration::from_secs(20));
    }
    let charge = Arc::new(Idempotency::new(config));
    for round in 0..20 {
        let calls = Calls::default();
        let barrier = Arc::new(tokio::sync::Barrier::new(32));
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (charge, store, calls, barrier) = (charge.clone(), store.clone(), calls.clone(), barrier.clone());
                tokio::spawn(async move {
                    let ctx = Ctx::builder("req").timeout(Duration::from_secs(60)).build();
                    barrier.wait().await;
                    let body = async move {
                        let result = calls.body(json!({ "round": round })).await;
                        tokio::task::yield_now().await;
                        result
                    };
                    charge.run_with_store(&*store, &payment(&format!("p-{round}"), 10), Some(&ctx), body).await
                })
            })
            .collect();
        let mut replies = Vec::new();
        for task in tasks {
            replies.push(task.await.unwrap());
        }
        assert_eq!(calls.count(), 1, "round {round}: the body ran exactly once");
        for reply in replies {
            match reply {
                Ok(value) => assert_eq!(value, json!({ "round": round })),
                Err(err) if !wait => assert_eq!(err.code(), "AlreadyInProgress", "round {round}"),
                Err(err) => panic!("round {round}: with wait every call gets the result, got {err:?}"),
            }
        }
    }
}

async fn thirty_two_concurrent_duplicates_run_once_per_round(store: Arc<dyn IdempotencyStore>) {
    thirty_two_concurrent(store, false).await;
}

async fn thirty_two_concurrent_duplicates_with_wait_all_get_the_result(store: Arc<dyn IdempotencyStore>) {
    thirty_two_concurrent(store, true).await;
}

async fn undeserializable_response_fails_without_running_again(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock));
    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap();
    // A record of an earlier deployment whose response type was different,
    // and one without any response (written by another tool).
    let stale = Record::in_progress(&key.key, clock.now() / 1000 + 3600, 0, key.validation.clone())
        .completed(r#"{"old_shape":true}"#.into(), clock.now() / 1000 + 3600);
    store.complete(&stale).await.unwrap();

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Receipt {
        id: String,
    }
    let ctx = clock.ctx(Duration::from_secs(30));
    let runs = Calls::default();
    let body = |runs: &Calls| {
        let runs = runs.clone();
        async move {
            runs.body(json!(null)).await?;
            Ok::<_, Error>(Receipt { id: "r-2".into() })
        }
    };
    for _ in 0..2 {
        let err = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), body(&runs)).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (500, "IdempotencyStoredResponseUnreadable"));
        assert_eq!(err.message(), "internal error");
    }
    assert_eq!(runs.count(), 0, "the function already ran once: it is never run again");
    assert_eq!(store.get(&key.key).await.unwrap(), Some(stale.clone()), "the record is kept");

    let mut empty = stale;
    empty.data = None;
    store.complete(&empty).await.unwrap();
    let err = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), body(&runs)).await.unwrap_err();
    assert_eq!(err.code(), "IdempotencyStoredResponseUnreadable");
    assert_eq!(runs.count(), 0);

    // The operator's way out: evict the key.
    store.delete(&key.key).await.unwrap();
    let fresh = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), body(&runs)).await;
    assert_eq!(fresh.unwrap(), Receipt { id: "r-2".into() });
    assert_eq!(runs.count(), 1);
}

/// A body that counts its runs and answers a string of `bytes` bytes.
fn big_body(calls: &Calls, bytes: usize) -> impl Future<Output = Result<String, Error>> + use<> {
    let calls = calls.clone();
    async move {
        calls.body(json!(null)).await?;
        Ok("x".repeat(bytes))
    }
}

async fn oversized_response_is_returned_once_and_never_run_again(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock).max_response_bytes(1024).local_cache(8));
    let ctx = clock.ctx(Duration::from_secs(30));
    let calls = Calls::default();

    let first = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), big_body(&calls, 2048)).await;
    assert_eq!(first.unwrap().len(), 2048, "the first call gets the response it produced");
    for _ in 0..2 {
        let err =
            charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), big_body(&calls, 2048)).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (500, "IdempotencyResponseTooLarge"));
        assert_eq!(err.message(), "internal error");
        assert!(!err.kind().is_retryable());
    }
    assert_eq!(calls.count(), 1, "the side effect ran once");

    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap();
    let record = store.get(&key.key).await.unwrap().expect("the record is kept");
    assert_eq!(record.status, Status::Completed);
    assert_eq!((record.data, record.not_stored), (None, Some(NotStored::TooLarge)));
    assert_eq!(record.expiration, clock.now() / 1000 + 3600, "it holds the key like any completed record");

    // A tampered payload is still a mismatch, and the key runs again only
    // once the record expires.
    let err = charge.run_with_store(&*store, &payment("p-1", 11), Some(&ctx), big_body(&calls, 10)).await.unwrap_err();
    assert_eq!(err.code(), "PayloadMismatch");
    clock.advance(Duration::from_secs(3601));
    let ctx = clock.ctx(Duration::from_secs(30));
    let later = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), big_body(&calls, 10)).await;
    assert_eq!(later.unwrap().len(), 10);
    assert_eq!(calls.count(), 2);
}

async fn sixteen_concurrent_duplicates_of_an_oversized_response_run_once(store: Arc<dyn IdempotencyStore>) {
    for wait in [false, true] {
        let mut config = IdempotencyConfig::new("oversized").key(["/body/payment_id"]).max_response_bytes(1024);
        if wait {
            config = config.wait(Duration::from_secs(20));
        }
        let charge = Arc::new(Idempotency::new(config));
        let calls = Calls::default();
        let barrier = Arc::new(tokio::sync::Barrier::new(16));
        let id = format!("p-{wait}");
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (charge, store, calls, barrier, id) =
                    (charge.clone(), store.clone(), calls.clone(), barrier.clone(), id.clone());
                tokio::spawn(async move {
                    let ctx = Ctx::builder("req").timeout(Duration::from_secs(60)).build();
                    barrier.wait().await;
                    let body = async move {
                        let result = big_body(&calls, 4096).await;
                        tokio::task::yield_now().await;
                        result
                    };
                    charge.run_with_store(&*store, &payment(&id, 10), Some(&ctx), body).await
                })
            })
            .collect();
        let mut answered = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(response) => {
                    assert_eq!(response.len(), 4096);
                    answered += 1;
                }
                Err(err) if wait => assert_eq!(err.code(), "IdempotencyResponseTooLarge", "wait: {err:?}"),
                Err(err) => {
                    assert!(["AlreadyInProgress", "IdempotencyResponseTooLarge"].contains(&err.code()), "{err:?}")
                }
            }
        }
        assert_eq!((calls.count(), answered), (1, 1), "wait={wait}: the body ran once, its caller got the response");
        // Later duplicates all get the stable error.
        let ctx = Ctx::builder("req").timeout(Duration::from_secs(60)).build();
        let err = charge.run_with_store(&*store, &payment(&id, 10), Some(&ctx), big_body(&calls, 1)).await.unwrap_err();
        assert_eq!(err.code(), "IdempotencyResponseTooLarge");
        assert_eq!(calls.count(), 1);
    }
}

async fn unserializable_response_is_never_run_again(store: Arc<dyn IdempotencyStore>) {
    /// A response that fails to serialize (a map with non-string keys).
    #[derive(serde::Serialize, serde::Deserialize, Debug)]
    struct Odd(std::collections::HashMap<(u8, u8), u8>);
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock));
    let ctx = clock.ctx(Duration::from_secs(30));
    let runs = Calls::default();
    let body = |runs: &Calls| {
        let runs = runs.clone();
        async move {
            runs.body(json!(null)).await?;
            Ok::<_, Error>(Odd([((1, 2), 3)].into_iter().collect()))
        }
    };
    let first = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), body(&runs)).await.unwrap();
    assert_eq!(first.0.len(), 1, "the first call gets its response");
    let err = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), body(&runs)).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (500, "IdempotencyResponseNotSerializable"));
    assert_eq!(runs.count(), 1);
    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap().key;
    assert_eq!(store.get(&key).await.unwrap().unwrap().not_stored, Some(NotStored::NotSerializable));
}

/// A store whose `complete` never answers (and says when it was called).
struct HangingComplete {
    inner: Arc<dyn IdempotencyStore>,
    entered: Arc<tokio::sync::Notify>,
}

impl IdempotencyStore for HangingComplete {
    fn claim<'a>(&'a self, record: &'a Record, now_ms: u64) -> halo::BoxFuture<'a, Result<Claim, StoreError>> {
        self.inner.claim(record, now_ms)
    }
    fn complete<'a>(&'a self, _record: &'a Record) -> halo::BoxFuture<'a, Result<(), StoreError>> {
        self.entered.notify_one();
        Box::pin(std::future::pending())
    }
    fn delete<'a>(&'a self, key: &'a str) -> halo::BoxFuture<'a, Result<(), StoreError>> {
        self.inner.delete(key)
    }
    fn get<'a>(&'a self, key: &'a str) -> halo::BoxFuture<'a, Result<Option<Record>, StoreError>> {
        self.inner.get(key)
    }
}

/// The call's future is dropped after the body ran, while its result is
/// being stored (the timeout guard cutting it, a caller giving up): the
/// record stays in progress, so a duplicate does not run the body.
async fn dropped_call_after_the_body_keeps_the_record(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock));
    let ctx = clock.ctx(Duration::from_secs(30));
    let calls = Calls::default();
    let entered = Arc::new(tokio::sync::Notify::new());
    let hanging = HangingComplete { inner: store.clone(), entered: entered.clone() };
    let event = payment("p-1", 10);
    tokio::select! {
        _ = charge.run_with_store(&hanging, &event, Some(&ctx), calls.body(json!(1))) => {
            panic!("the complete never answers")
        }
        () = entered.notified() => {}
    }
    assert_eq!(calls.count(), 1, "the body ran, then the call was dropped");

    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap().key;
    assert_eq!(store.get(&key).await.unwrap().expect("the record is kept").status, Status::InProgress);
    let err = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(2))).await.unwrap_err();
    assert_eq!(err.code(), "AlreadyInProgress");
    assert_eq!(calls.count(), 1, "the duplicate did not run the body");
}

async fn current_token_is_stable_per_payload(store: Arc<dyn IdempotencyStore>) {
    use halo::idempotency::current_token;
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock));
    let ctx = clock.ctx(Duration::from_secs(30));
    let token_of = async |idempotency: &Idempotency, event: &Value| -> String {
        let body = async { Ok::<_, Error>(current_token().expect("a token inside the body")) };
        idempotency.run_with_store(&*store, event, Some(&ctx), body).await.unwrap()
    };
    assert_eq!(current_token(), None, "outside any call");

    let first = token_of(&charge, &payment("p-1", 10)).await;
    // A run of the same payload after the record is gone (released after an
    // error, evicted, expired) gets the same token.
    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap();
    store.delete(&key.key).await.unwrap();
    let again = token_of(&charge, &payment("p-1", 10)).await;
    let other = token_of(&charge, &payment("p-2", 10)).await;
    let refund =
        token_of(&Idempotency::new(clock.config("refund").key(["/body/payment_id"])), &payment("p-1", 10)).await;

    assert_eq!(first, again, "the same payload, the same token");
    assert_eq!(first, key.token());
    assert_ne!(first, other, "another payload, another token");
    assert_ne!(first, refund, "another function, another token");
    assert!(first.starts_with("charge-") && first.len() <= 64, "{first}");
    assert!(first.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'), "header-safe: {first}");
    assert_eq!(current_token(), None, "not after the call");

    // Without idempotency (key absent, turned off) there is no token.
    let none = charge
        .run_with_store(&*store, &json!({}), Some(&ctx), async { Ok::<_, Error>(current_token()) })
        .await
        .unwrap();
    let off = Idempotency::new(charge_config(&clock).enabled(false))
        .run_with_store(&*store, &payment("p-1", 10), Some(&ctx), async { Ok::<_, Error>(current_token()) })
        .await
        .unwrap();
    assert_eq!((none, off), (None, None));
}

/// Makes a store unreachable and reachable again.
struct Outage {
    cut: Box<dyn Fn() + Send + Sync>,
    restore: Box<dyn Fn() + Send + Sync>,
}

/// The store goes away after the body ran: storing the result fails. The
/// record is not released: while the store is down duplicates fail without
/// running the body, once it is back they get `AlreadyInProgress` until the
/// call's deadline, and only after it does a retry run again, with the same
/// token.
async fn failed_complete_keeps_the_record(store: Arc<dyn IdempotencyStore>, outage: Arc<Outage>) {
    use halo::idempotency::current_token;
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock));
    let ctx = clock.ctx(Duration::from_secs(30));
    let tokens = Arc::new(std::sync::Mutex::new(Vec::new()));
    let body = |tokens: &Arc<std::sync::Mutex<Vec<String>>>, cut: bool| {
        let (tokens, outage) = (tokens.clone(), outage.clone());
        async move {
            tokens.lock().unwrap().push(current_token().unwrap());
            if cut {
                (outage.cut)();
            }
            Ok::<_, Error>(json!({ "charged": true }))
        }
    };
    let runs = || tokens.lock().unwrap().len();

    let err = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), body(&tokens, true)).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (503, "IdempotencyResultNotStored"));
    assert!(err.message().contains("processed"), "{}", err.message());
    assert_eq!(runs(), 1);

    let err = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), body(&tokens, false)).await.unwrap_err();
    assert_eq!(err.code(), "IdempotencyStore", "the store is still down");
    assert_eq!(runs(), 1);

    (outage.restore)();
    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap().key;
    let record = store.get(&key).await.unwrap().expect("the record was not released");
    assert_eq!(record.status, Status::InProgress);
    assert_eq!(record.in_progress_expiration, Some(ctx.deadline_epoch_ms()));
    let err = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), body(&tokens, false)).await.unwrap_err();
    assert_eq!(err.code(), "AlreadyInProgress");
    assert_eq!(runs(), 1, "a later duplicate does not run the body");

    // After the call's deadline the lease is over: one retry runs again,
    // with the same downstream token.
    clock.advance(Duration::from_secs(31));
    let ctx = clock.ctx(Duration::from_secs(30));
    let retried = charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), body(&tokens, false)).await;
    assert_eq!(retried.unwrap(), json!({ "charged": true }));
    let tokens = tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0], tokens[1], "the provider sees the same idempotency key");
}

/// A store that fails every request while its backend is down.
struct Unreachable {
    inner: Arc<dyn IdempotencyStore>,
    down: Arc<AtomicBool>,
}

impl Unreachable {
    fn check(&self, operation: &'static str) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::unavailable(operation, "connection refused"))
        } else {
            Ok(())
        }
    }
}

impl IdempotencyStore for Unreachable {
    fn claim<'a>(&'a self, record: &'a Record, now_ms: u64) -> halo::BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(async move {
            self.check("claim")?;
            self.inner.claim(record, now_ms).await
        })
    }
    fn complete<'a>(&'a self, record: &'a Record) -> halo::BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.check("complete")?;
            self.inner.complete(record).await
        })
    }
    fn delete<'a>(&'a self, key: &'a str) -> halo::BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.check("delete")?;
            self.inner.delete(key).await
        })
    }
    fn get<'a>(&'a self, key: &'a str) -> halo::BoxFuture<'a, Result<Option<Record>, StoreError>> {
        Box::pin(async move {
            self.check("get")?;
            self.inner.get(key).await
        })
    }
}

mod failed_complete {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory() {
        let down = Arc::new(AtomicBool::new(false));
        let store = Arc::new(Unreachable { inner: Arc::new(MemoryIdempotencyStore::new()), down: down.clone() });
        let restore = down.clone();
        let outage = Outage {
            cut: Box::new(move || down.store(true, Ordering::SeqCst)),
            restore: Box::new(move || restore.store(false, Ordering::SeqCst)),
        };
        failed_complete_keeps_the_record(store, Arc::new(outage)).await;
    }

    /// moto behind a TCP proxy that cuts the network: DynamoDB is gone for
    /// the function but keeps its items, as in a real outage.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dynamodb() {
        let moto = Moto::shared();
        let proxy = Arc::new(TcpProxy::start(([127, 0, 0, 1], moto.port()).into()).await);
        let retry = aws_sdk_dynamodb::config::retry::RetryConfig::standard()
            .with_max_attempts(2)
            .with_initial_backoff(Duration::from_millis(20));
        let config =
            aws_sdk_dynamodb::config::Builder::from(&halo_test_support::moto::sdk_config(&proxy.endpoint()).await)
                .retry_config(retry)
                .build();
        let store = DynamoDbIdempotencyStore::new(aws_sdk_dynamodb::Client::from_conf(config), unique_name("outage"));
        store.create_table().await.unwrap();
        let (cut, restore) = (proxy.clone(), proxy.clone());
        let outage = Outage { cut: Box::new(move || cut.cut()), restore: Box::new(move || restore.restore()) };
        failed_complete_keeps_the_record(Arc::new(store), Arc::new(outage)).await;
    }
}

async fn local_cache_never_answers_what_the_store_would_not(store: Arc<dyn IdempotencyStore>) {
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock).local_cache(16).expires_after(Duration::from_secs(60)));
    let ctx = clock.ctx(Duration::from_secs(30));
    let calls = Calls::default();
    charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(1))).await.unwrap();
    // Replays come from the cache...
    assert_eq!(
        charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(2))).await.unwrap(),
        json!(1)
    );
    // ...but a tampered payload is still rejected...
    let err = charge.run_with_store(&*store, &payment("p-1", 11), Some(&ctx), calls.body(json!(2))).await.unwrap_err();
    assert_eq!(err.code(), "PayloadMismatch");
    // ...and an expired entry is not served.
    clock.advance(Duration::from_secs(61));
    let ctx = clock.ctx(Duration::from_secs(30));
    assert_eq!(
        charge.run_with_store(&*store, &payment("p-1", 10), Some(&ctx), calls.body(json!(3))).await.unwrap(),
        json!(3)
    );
    assert_eq!(calls.count(), 2);
}

// ---- DynamoDB only: requests per invocation, schema, unreachable store ----

#[tokio::test]
async fn dynamodb_requests_per_invocation() {
    let (store, counter) = dynamodb_store().await;
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock));
    let cached = Idempotency::new(clock.config("cached").key(["/body/payment_id"]).local_cache(8));
    let ctx = clock.ctx(Duration::from_secs(30));
    let calls = Calls::default();

    for (idempotency, label) in [(&charge, "no cache"), (&cached, "local cache")] {
        counter.reset();
        idempotency.run_with_store(&store, &payment("p-1", 10), Some(&ctx), calls.body(json!(1))).await.unwrap();
        assert_eq!(
            counter.by_operation(),
            BTreeMap::from([("PutItem".to_owned(), 2)]),
            "{label}: first call = claim + complete"
        );
        counter.reset();
        idempotency.run_with_store(&store, &payment("p-1", 10), Some(&ctx), calls.body(json!(2))).await.unwrap();
        let expected = if label == "no cache" { 1 } else { 0 };
        assert_eq!(counter.total(), expected, "{label}: replay requests {:?}", counter.by_operation());
        assert_eq!(counter.count("GetItem"), 0, "{label}: no second read");
    }
    assert_eq!(calls.count(), 2);

    counter.reset();
    let failed: Result<Value, Error> =
        charge.run_with_store(&store, &payment("p-9", 1), Some(&ctx), async { Err(Error::conflict("declined")) }).await;
    assert!(failed.is_err());
    assert_eq!(counter.by_operation(), BTreeMap::from([("DeleteItem".to_owned(), 1), ("PutItem".to_owned(), 1)]));
}

#[tokio::test]
async fn dynamodb_record_has_the_powertools_schema() {
    let (store, _) = dynamodb_store().await;
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock));
    let ctx = clock.ctx(Duration::from_secs(30));
    charge
        .run_with_store(&store, &payment("p-1", 10), Some(&ctx), async { Ok::<_, Error>(json!({"ok": true})) })
        .await
        .unwrap();
    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap();
    let item = store
        .client()
        .get_item()
        .table_name(store.table())
        .key("id", AttributeValue::S(key.key.clone()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["status"], AttributeValue::S("COMPLETED".into()));
    assert_eq!(item["data"], AttributeValue::S(r#"{"ok":true}"#.into()));
    assert_eq!(item["expiration"], AttributeValue::N((clock.now() / 1000 + 3600).to_string()));
    assert_eq!(item["validation"], AttributeValue::S(key.validation.unwrap()));
    assert!(!item.contains_key("halo_not_stored"));

    // A response too large to store: COMPLETED, no data, halo's marker.
    let small = Idempotency::new(charge_config(&clock).max_response_bytes(8));
    small
        .run_with_store(&store, &payment("p-2", 10), Some(&ctx), async { Ok::<_, Error>("a long response".to_owned()) })
        .await
        .unwrap();
    let key = small.key_of(&payment("p-2", 10)).unwrap().unwrap().key;
    let item = store
        .client()
        .get_item()
        .table_name(store.table())
        .key("id", AttributeValue::S(key))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["status"], AttributeValue::S("COMPLETED".into()));
    assert_eq!(item["halo_not_stored"], AttributeValue::S("too_large".into()));
    assert!(!item.contains_key("data") && !item.contains_key("in_progress_expiration"), "{item:?}");
    let describe = store.client().describe_time_to_live().table_name(store.table()).send().await.unwrap();
    assert_eq!(describe.time_to_live_description.unwrap().attribute_name.as_deref(), Some("expiration"));
}

#[tokio::test]
async fn dynamodb_with_sort_key_and_custom_attribute_names() {
    let moto = Moto::shared();
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let names = halo::idempotency::AttributeNames {
        key: "pk".into(),
        expiration: "ttl".into(),
        in_progress_expiration: "deadline".into(),
        status: "state".into(),
        data: "response".into(),
        validation: "hash".into(),
        not_stored: "unstored".into(),
        owner: "writer".into(),
    };
    let store = DynamoDbIdempotencyStore::new(client, unique_name("shared"))
        .attribute_names(names)
        .sort_key("sk", "idempotency#charge");
    store.create_table().await.unwrap();
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock));
    let ctx = clock.ctx(Duration::from_secs(30));
    let calls = Calls::default();
    for _ in 0..2 {
        let reply = charge.run_with_store(&store, &payment("p-1", 10), Some(&ctx), calls.body(json!(1))).await;
        assert_eq!(reply.unwrap(), json!(1));
    }
    assert_eq!(calls.count(), 1);
    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap();
    let item = store
        .client()
        .get_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S("idempotency#charge".into()))
        .key("sk", AttributeValue::S(key.key))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["state"], AttributeValue::S("COMPLETED".into()));
    assert!(item.contains_key("ttl") && item.contains_key("response") && item.contains_key("hash"));
}

#[tokio::test]
async fn unreachable_store_is_a_503_and_the_body_does_not_run() {
    let moto = Moto::start();
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let store = DynamoDbIdempotencyStore::new(client, "gone");
    store.create_table().await.unwrap();
    moto.stop();

    let lines = halo::log::CapturedLines::default();
    let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(lines.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);

    let charge = Idempotency::new(IdempotencyConfig::new("charge").key(["/body/payment_id"]));
    let calls = Calls::default();
    let ctx = Ctx::for_test();
    let err = charge.run_with_store(&store, &payment("p-1", 10), Some(&ctx), calls.body(json!(1))).await.unwrap_err();
    assert_eq!((err.status(), err.code()), (503, "IdempotencyStore"));
    assert!(!err.message().contains("127.0.0.1") && !err.message().contains("PutItem"), "{}", err.message());
    assert!(err.source_chain().contains("PutItem"), "the cause is kept for the logs");
    assert_eq!(calls.count(), 0, "the body did not run");
    let line =
        lines.json().into_iter().find(|l| l["idempotency_outcome"] == "store_error").expect("a store_error line");
    assert!(line["idempotency_key"].as_str().unwrap().starts_with("charge#"));
}

#[tokio::test]
async fn refused_request_is_a_503_and_the_body_does_not_run() {
    // A DynamoDB error answer (here ResourceNotFoundException, as for a
    // throttled or forbidden request) is an outage for the caller, not a
    // claim: the body must not run and the cause stays out of the message.
    let client = aws_sdk_dynamodb::Client::new(&Moto::shared().sdk_config().await);
    let store = DynamoDbIdempotencyStore::new(client, unique_name("never-created"));
    let charge = Idempotency::new(IdempotencyConfig::new("charge").key(["/body/payment_id"]));
    let calls = Calls::default();
    let ctx = Ctx::for_test();

    let err = charge.run_with_store(&store, &payment("p-1", 10), Some(&ctx), calls.body(json!(1))).await.unwrap_err();

    assert_eq!((err.status(), err.code()), (503, "IdempotencyStore"));
    assert!(!err.message().contains("ResourceNotFound"), "{}", err.message());
    assert!(err.source_chain().contains("ResourceNotFound"), "the cause is kept for the logs: {}", err.source_chain());
    assert_eq!(calls.count(), 0, "the body did not run");
}

#[tokio::test]
async fn every_call_logs_its_key_and_outcome() {
    let lines = halo::log::CapturedLines::default();
    let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(lines.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);
    let clock = TestClock::new();
    let charge = Idempotency::new(charge_config(&clock).expires_after(Duration::from_secs(1)));
    let store = MemoryIdempotencyStore::new();
    let ctx = clock.ctx(Duration::from_secs(30));
    let calls = Calls::default();
    let run =
        async |amount| charge.run_with_store(&store, &payment("p-1", amount), Some(&ctx), calls.body(json!(1))).await;
    run(10).await.unwrap();
    run(10).await.unwrap();
    run(11).await.unwrap_err();
    clock.advance(Duration::from_secs(5));
    let ctx2 = clock.ctx(Duration::from_secs(30));
    charge.run_with_store(&store, &payment("p-1", 10), Some(&ctx2), calls.body(json!(1))).await.unwrap();
    charge.run_with_store(&store, &json!({}), Some(&ctx2), calls.body(json!(1))).await.unwrap();
    let outcomes: Vec<Value> = lines
        .json()
        .into_iter()
        .filter(|l| l["message"] == "idempotency")
        .map(|l| l["idempotency_outcome"].clone())
        .collect();
    assert_eq!(
        outcomes,
        vec![json!("claimed"), json!("replayed"), json!("mismatch"), json!("expired"), json!("skipped")]
    );
    let key = charge.key_of(&payment("p-1", 10)).unwrap().unwrap().key;
    assert!(
        lines
            .json()
            .iter()
            .filter(|l| l["idempotency_outcome"] == "claimed")
            .all(|l| l["idempotency_key"] == key.as_str())
    );
}

#[tokio::test]
async fn evict_makes_a_key_run_again() {
    let store = MemoryIdempotencyStore::new();
    let charge = Idempotency::new(IdempotencyConfig::new("charge").key(["/body/payment_id"]).local_cache(4))
        .with_store(store.clone());
    let calls = Calls::default();
    let ctx = Ctx::for_test();
    charge.run(&payment("p-1", 1), Some(&ctx), calls.body(json!(1))).await.unwrap();
    let key = charge.key_of(&payment("p-1", 1)).unwrap().unwrap().key;
    charge.evict(&key).await.unwrap();
    assert!(store.is_empty());
    assert_eq!(charge.run(&payment("p-1", 1), Some(&ctx), calls.body(json!(2))).await.unwrap(), json!(2));
}
