//! Batch processing on realistic SQS, Kinesis and DynamoDB Streams events:
//! exactly the failing records are reported, FIFO queues and streams stop at
//! the first failure, standard queues run concurrently and process every
//! record once; retries and idempotency compose with records. (Per-record
//! log lines are checked in `batch_logs.rs`, alone in its process, because
//! tracing caches callsite interest across the threads of one process.)

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::dynamodb::EventRecord;
use halo::batch::{BatchOptions, DynamoDbStream, Kinesis, KinesisRecord, Sqs, SqsRecord};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize, serde::Serialize)]
struct Order {
    order_id: String,
    #[serde(default = "one")]
    quantity: u32,
}

fn one() -> u32 {
    1
}

fn event(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/events").join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// An SQS event of `bodies`, message ids `m-0`, `m-1`, …; `fifo` adds the
/// FIFO attributes.
fn sqs_event(bodies: &[&str], fifo: bool) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let mut attributes = json!({ "ApproximateReceiveCount": "1", "SentTimestamp": "1732417200000" });
            if fifo {
                attributes["MessageGroupId"] = "group-1".into();
                attributes["SequenceNumber"] = format!("188500000000000000{i:02}").into();
            }
            json!({
                "messageId": format!("m-{i}"),
                "receiptHandle": format!("handle-{i}"),
                "body": body,
                "attributes": attributes,
                "messageAttributes": { "x-correlation-id": { "stringValue": format!("corr-{i}"), "dataType": "String" } },
                "eventSource": "aws:sqs",
                "eventSourceARN": if fifo { "arn:aws:sqs:us-east-1:123456789012:orders.fifo" } else { "arn:aws:sqs:us-east-1:123456789012:orders" },
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Records which orders ran, and fails those with quantity 0.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    async fn sqs(&self, record: SqsRecord<Order>) -> Result<(), halo::Error> {
        self.check(&record.body)
    }

    fn check(&self, order: &Order) -> Result<(), halo::Error> {
        self.0.lock().unwrap().push(order.order_id.clone());
        tracing::info!(order_id = %order.order_id, "processing order");
        if order.quantity == 0 { Err(halo::Error::unprocessable("empty order")) } else { Ok(()) }
    }

    fn orders(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn a_standard_batch_reports_exactly_the_failed_and_malformed_records() {
    let batch: Sqs<Order> = serde_json::from_value(event("sqs.json")).unwrap();
    assert!(!batch.is_fifo());
    let seen = Seen::default();
    let response = batch.process(&BatchOptions::default(), |r| seen.sqs(r)).await.unwrap();
    assert!(response.is_success(), "{response:?}");

    let bodies = [
        r#"{"order_id":"o-0","quantity":1}"#,
        r#"{"order_id":"o-1","quantity":0}"#,
        "{not json",
        r#"{"order_id":"o-3","quantity":"many"}"#,
        r#"{"order_id":"o-4"}"#,
    ];
    let batch: Sqs<Order> = serde_json::from_value(sqs_event(&bodies, false)).unwrap();
    let seen = Seen::default();
    let response = batch.process(&BatchOptions::default(), |r| seen.sqs(r)).await.unwrap();
    assert_eq!(response.failed_ids(), ["m-1", "m-2", "m-3"]);
    assert_eq!(seen.orders(), ["o-0", "o-1", "o-4"], "malformed bodies never reach the handler");
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(
        json,
        json!({ "batchItemFailures": [
            { "itemIdentifier": "m-1" }, { "itemIdentifier": "m-2" }, { "itemIdentifier": "m-3" }
        ]})
    );
}

#[tokio::test]
async fn a_fifo_batch_stops_at_the_first_failure_and_reports_every_later_record() {
    let bodies = [
        r#"{"order_id":"o-0"}"#,
        r#"{"order_id":"o-1","quantity":0}"#,
        r#"{"order_id":"o-2"}"#,
        r#"{"order_id":"o-3"}"#,
    ];
    let batch: Sqs<Order> = serde_json::from_value(sqs_event(&bodies, true)).unwrap();
    assert!(batch.is_fifo());
    let seen = Seen::default();
    let response = batch.process(&BatchOptions::default().concurrency(8), |r| seen.sqs(r)).await.unwrap();
    assert_eq!(response.failed_ids(), ["m-1", "m-2", "m-3"]);
    assert_eq!(seen.orders(), ["o-0", "o-1"], "nothing after the failure ran");
}

#[tokio::test]
async fn a_standard_batch_runs_concurrently_and_processes_every_record_once() {
    const N: usize = 10;
    let bodies: Vec<String> = (0..N).map(|i| format!(r#"{{"order_id":"o-{i}"}}"#)).collect();
    let bodies: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let batch: Sqs<Order> = serde_json::from_value(sqs_event(&bodies, false)).unwrap();
    // Every record waits until all N are in flight: this completes only if
    // they run concurrently.
    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let counts: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let process = |record: SqsRecord<Order>| {
        let (barrier, counts) = (barrier.clone(), counts.clone());
        async move {
            barrier.wait().await;
            *counts.lock().unwrap().entry(record.body.order_id).or_default() += 1;
            Ok::<(), halo::Error>(())
        }
    };
    let options = BatchOptions::default().concurrency(N);
    let run = batch.process(&options, process);
    let response = tokio::time::timeout(Duration::from_secs(30), run).await.expect("records ran concurrently").unwrap();
    assert!(response.is_success());
    let counts = counts.lock().unwrap();
    assert_eq!(counts.len(), N);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
}

#[tokio::test]
async fn a_batch_whose_records_all_fail_fails_the_invocation_unless_configured_otherwise() {
    let bodies = [r#"{"order_id":"o-0","quantity":0}"#, "nope"];
    let seen = Seen::default();
    let batch: Sqs<Order> = serde_json::from_value(sqs_event(&bodies, false)).unwrap();
    let err = batch.process(&BatchOptions::default(), |r| seen.sqs(r)).await.unwrap_err();
    assert_eq!((err.code(), err.status()), ("BatchFailed", 500));

    let batch: Sqs<Order> = serde_json::from_value(sqs_event(&bodies, false)).unwrap();
    let options = BatchOptions::default().fail_when_all_fail(false);
    let response = batch.process(&options, |r| seen.sqs(r)).await.unwrap();
    assert_eq!(response.failed_ids(), ["m-0", "m-1"]);
}

#[tokio::test]
async fn a_kinesis_batch_checkpoints_at_the_first_failure() {
    let batch: Kinesis<Order> = serde_json::from_value(event("kinesis.json")).unwrap();
    let seen = Seen::default();
    let process = |record: KinesisRecord<Order>| {
        let seen = seen.clone();
        async move { seen.check(&record.data) }
    };
    let response = batch.process(&BatchOptions::default(), process).await.unwrap();
    assert_eq!(response.failed_ids(), ["49590338271490256608559692540925702759324208523137515618"]);
    assert_eq!(seen.orders(), ["o-1", "o-2"], "the record after the checkpoint did not run");
}

#[tokio::test]
async fn a_dynamodb_stream_batch_checkpoints_at_the_first_failure() {
    let batch: DynamoDbStream = serde_json::from_value(event("dynamodb-stream.json")).unwrap();
    assert_eq!(batch.records().len(), 3);
    let seen = Seen::default();
    let process = |record: EventRecord| {
        let seen = seen.clone();
        async move {
            let image = &record.change.new_image;
            let text = |name: &str| serde_json::to_value(image.get(name)).unwrap();
            let order_id = text("order_id")["S"].as_str().unwrap_or_default().to_owned();
            let quantity = text("quantity")["N"].as_str().and_then(|n| n.parse().ok()).unwrap_or(0);
            seen.check(&Order { order_id, quantity })
        }
    };
    let response = batch.process(&BatchOptions::default(), process).await.unwrap();
    assert_eq!(response.failed_ids(), ["111100000000000000000002"]);
    assert_eq!(seen.orders(), ["o-1", "o-2"]);
}

#[tokio::test]
async fn retryable_failures_are_retried_in_place_with_the_shared_backoff() {
    let bodies = [r#"{"order_id":"o-0"}"#, r#"{"order_id":"o-1","quantity":0}"#];
    let batch: Sqs<Order> = serde_json::from_value(sqs_event(&bodies, false)).unwrap();
    let attempts: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let process = |record: SqsRecord<Order>| {
        let attempts = attempts.clone();
        async move {
            let n = {
                let mut attempts = attempts.lock().unwrap();
                let n = attempts.entry(record.body.order_id.clone()).or_default();
                *n += 1;
                *n
            };
            match (record.body.quantity, n) {
                (0, _) => Err(halo::Error::unprocessable("empty order")), // not retryable
                (_, 1 | 2) => Err(halo::Error::unavailable("warehouse busy")), // retryable
                _ => Ok(()),
            }
        }
    };
    let policy = halo::retry::Backoff::new(3).initial_delay(Duration::from_millis(1));
    let response = batch.process(&BatchOptions::default().retry(policy), process).await.unwrap();
    assert_eq!(response.failed_ids(), ["m-1"]);
    let attempts = attempts.lock().unwrap();
    assert_eq!((attempts["o-0"], attempts["o-1"]), (3, 1));
}

static FULFILLED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
static FULFILMENTS: std::sync::LazyLock<halo::idempotency::MemoryIdempotencyStore> =
    std::sync::LazyLock::new(halo::idempotency::MemoryIdempotencyStore::new);

/// The side effect, once per order id however often the message comes.
#[halo::idempotent(name = "fulfil", key = ["/order_id"], store = *FULFILMENTS)]
async fn fulfil_once(order: Order) -> Result<(), halo::Error> {
    FULFILLED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    tracing::info!(order_id = %order.order_id, "fulfilled");
    Ok(())
}

#[tokio::test]
async fn an_idempotent_record_function_does_not_repeat_its_side_effect_on_redelivery() {
    let bodies = [r#"{"order_id":"i-0"}"#, r#"{"order_id":"i-1"}"#, r#"{"order_id":"i-0"}"#];
    for _delivery in 0..2 {
        let batch: Sqs<Order> = serde_json::from_value(sqs_event(&bodies, false)).unwrap();
        let response =
            batch.process(&BatchOptions::default(), |r: SqsRecord<Order>| fulfil_once(r.body)).await.unwrap();
        assert!(response.is_success());
    }
    assert_eq!(FULFILLED.load(std::sync::atomic::Ordering::SeqCst), 2, "i-0 and i-1, once each");
}
