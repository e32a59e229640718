//! Fan-out / fan-in on DynamoDB and SQS, against moto over loopback: the
//! store contract on `DynamoDbFanoutStore` (a table per behaviour), and the
//! pipeline's scenarios with real queues (receive, delete, redelivery and
//! the dead-letter queue after `maxReceiveCount`).

use std::sync::Arc;

use halo::fanout::{DynamoDbFanoutStore, SqsDispatcher};
use halo_test_support::moto::{Moto, unique_name};
use halo_test_support::pipeline::{MAX_RECEIVES, Rig, SqsQueue};
use halo_test_support::sqs::Queues;

async fn dynamodb_store() -> Arc<DynamoDbFanoutStore> {
    let client = aws_sdk_dynamodb::Client::new(&Moto::shared().sdk_config().await);
    let store = DynamoDbFanoutStore::new(client, unique_name("fanout"));
    store.create_table().await.expect("create the fan-out table");
    Arc::new(store)
}

halo_test_support::store_contract_tests!(fanout, dynamodb_store);

async fn moto_rig() -> Rig<SqsQueue> {
    let queues = Queues::create(Moto::shared(), "parts", MAX_RECEIVES).await;
    let dispatcher = SqsDispatcher::new(queues.client.clone(), queues.url.clone());
    Rig { store: dynamodb_store().await, dispatcher: Arc::new(dispatcher), queue: Arc::new(SqsQueue { queues }) }
}

halo_test_support::fanout_pipeline_tests!(moto_rig);

/// The figures of BENCHMARKS.md's fan-out section: DynamoDB requests on a
/// part's success path and for the fan-in, counted on the wire, and the
/// time from the last part's completion (its work returned) to the
/// fan-in's start, against moto.
///
/// `cargo test -p halo-lambda --features full --test fanout_moto fanout_figures -- --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_figures() {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use halo::batch::{BatchOptions, Sqs};
    use halo::fanout::{FanIn, Fanout, NewJob, Part};
    use halo_test_support::sdk_requests::RequestCounter;
    use halo_test_support::sqs::lambda_event;

    let config = Moto::shared().sdk_config().await;
    let (dynamodb, sqs) = (RequestCounter::default(), RequestCounter::default());
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config).interceptor(dynamodb.clone()).build(),
    );
    let store = DynamoDbFanoutStore::new(client, unique_name("fanout-figures"));
    store.create_table().await.unwrap();
    let queues = Queues::create(Moto::shared(), "figures", MAX_RECEIVES).await;
    let sqs_client =
        aws_sdk_sqs::Client::from_conf(aws_sdk_sqs::config::Builder::from(&config).interceptor(sqs.clone()).build());
    let fanout = Fanout::new("figures", Arc::new(store))
        .dispatcher(Arc::new(SqsDispatcher::new(sqs_client, queues.url.clone())));

    let work_done: Mutex<HashMap<String, Instant>> = Mutex::default();
    let fan_in_started: Mutex<HashMap<String, (Instant, usize)>> = Mutex::default();
    let work = |part: Part<u64>| {
        let done = &work_done;
        async move {
            done.lock().unwrap().insert(part.job_id, Instant::now());
            Ok::<u64, halo::Error>(part.body * 2)
        }
    };
    let fan_in = |fan_in: FanIn<(), u64>| {
        let started = &fan_in_started;
        async move {
            started.lock().unwrap().insert(fan_in.job_id, (Instant::now(), fan_in.results.len()));
            Ok::<(), halo::Error>(())
        }
    };
    let drain = || async {
        loop {
            let messages = queues.receive().await;
            if messages.is_empty() {
                return;
            }
            let batch: Sqs<u64> = serde_json::from_value(lambda_event(&messages, &queues.arn)).unwrap();
            let response = fanout.process(batch, &BatchOptions::default(), work, fan_in).await.unwrap();
            assert!(response.is_success());
            queues.delete(&queues.url, &messages).await;
        }
    };

    // One job of 100 parts, each delivered once.
    let parts: Vec<u64> = (0..100).collect();
    fanout.start(NewJob::new("figures-100", ()), &parts).await.unwrap();
    let start_requests = (dynamodb.by_operation(), sqs.count("SendMessageBatch"));
    assert_eq!(start_requests.0.get("PutItem"), Some(&1), "{start_requests:?}");
    assert_eq!(start_requests.0.get("UpdateItem"), Some(&1), "marked dispatched: {start_requests:?}");
    assert_eq!(start_requests.1, 10, "10 SendMessageBatch of 10");
    dynamodb.reset();
    drain().await;
    assert_eq!(fan_in_started.lock().unwrap()["figures-100"].1, 100, "the fan-in had every result");
    let worker_requests = dynamodb.by_operation();
    // 100 parts: one conditional UpdateItem each; the fan-in: the claim and
    // the end; no read.
    assert_eq!(worker_requests.get("UpdateItem"), Some(&102), "{worker_requests:?}");
    assert_eq!(dynamodb.total(), 102, "no read, no other request: {worker_requests:?}");

    // The fan-in's latency: 30 jobs of 10 parts, one at a time.
    let mut latencies = Vec::new();
    for job in 0..30 {
        let job_id = format!("latency-{job}");
        fanout.start(NewJob::new(&job_id, ()), &parts[..10]).await.unwrap();
        drain().await;
        let done = work_done.lock().unwrap()[&job_id];
        let (started, results) = fan_in_started.lock().unwrap()[&job_id];
        assert_eq!(results, 10);
        latencies.push(started.duration_since(done));
    }
    latencies.sort();
    let (median, p90) = (latencies[latencies.len() / 2], latencies[latencies.len() * 9 / 10]);
    assert!(median < Duration::from_secs(1), "{latencies:?}");
    // The floor: one request to moto (a consistent read of a job).
    let mut floor = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        fanout.status("latency-0").await.unwrap().unwrap();
        floor.push(started.elapsed());
    }
    floor.sort();
    println!(
        "fanout figures: start of 100 parts = 1 PutItem + 10 SendMessageBatch + 1 UpdateItem; \
         per part (success path) = 1 UpdateItem, 0 reads; fan-in = 1 conditional UpdateItem (claim, returns every result) + 1 UpdateItem (end); \
         last part's work done -> fan-in start: median {:.2} ms, p90 {:.2} ms over {} jobs \
         (one GetItem to moto: median {:.2} ms)",
        median.as_secs_f64() * 1000.0,
        p90.as_secs_f64() * 1000.0,
        latencies.len(),
        floor[floor.len() / 2].as_secs_f64() * 1000.0,
    );
}

/// SQS takes 256 KB per `SendMessageBatch`: four parts of 100 KB go in
/// two batches, and all arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_parts_are_sent_in_batches_under_256_kb() {
    use halo::fanout::{Fanout, NewJob};
    use halo_test_support::sdk_requests::RequestCounter;

    let config = Moto::shared().sdk_config().await;
    let counter = RequestCounter::default();
    let queues = Queues::create(Moto::shared(), "large-parts", MAX_RECEIVES).await;
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&config).interceptor(counter.clone()).build(),
    );
    let fanout =
        Fanout::new("large", dynamodb_store().await).dispatcher(Arc::new(SqsDispatcher::new(sqs, queues.url.clone())));
    let parts: Vec<String> = (0..4).map(|i| i.to_string().repeat(100 * 1024)).collect();
    fanout.start(NewJob::new("job-large", ()), &parts).await.expect("the parts are sent");
    assert_eq!(counter.count("SendMessageBatch"), 2);
    let mut received = 0;
    loop {
        let messages = queues.receive().await;
        if messages.is_empty() {
            break;
        }
        received += messages.len();
        queues.delete(&queues.url, &messages).await;
    }
    assert_eq!(received, 4);
    let too_large =
        fanout.start(NewJob::new("job-huge", ()), &["x".repeat(300 * 1024)]).await.expect_err("over 256 KB");
    assert_eq!(halo::IntoError::into_error(too_large).code(), "InvalidJob");
}
