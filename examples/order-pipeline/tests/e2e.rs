//! order-pipeline against moto's SQS over loopback: the compiled API
//! enqueues orders with their correlation ids; messages received from the
//! real queue, in the Lambda SQS event shape, go through the compiled
//! consumer over a loopback Runtime API; the batch response lists exactly
//! the failed messages; the successes are deleted; redelivery until
//! `maxReceiveCount` moves the poison messages to the dead-letter queue.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use aws_sdk_sqs::types::Message;
use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::moto::Moto;
use halo_test_support::runtime_api::RuntimeApi;
use halo_test_support::sqs::{Queues, lambda_event};
use serde_json::{Value, json};

const API: &str = env!("CARGO_BIN_EXE_order-api");
const CONSUMER: &str = env!("CARGO_BIN_EXE_order-consumer");
const TIMEOUT: Duration = Duration::from_secs(20);
const MAX_RECEIVE_COUNT: u32 = 2;

/// Every visible message of the dead-letter queue, in up to `calls` calls.
async fn receive_dead(queues: &Queues, calls: usize) -> Vec<Message> {
    let mut messages = Vec::new();
    for _ in 0..calls {
        let batch = queues.receive_dead().await;
        if batch.is_empty() {
            break;
        }
        messages.extend(batch);
    }
    messages
}

fn order_request(sku: &str, correlation_id: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("events/create-order.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["body"] = json!({ "sku": sku, "quantity": 1 }).to_string().into();
    event["headers"]["x-correlation-id"] = correlation_id.into();
    event["multiValueHeaders"]["x-correlation-id"] = json!([correlation_id]);
    event
}

fn env_with(moto: &Moto, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = moto.env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

fn as_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_batch_failures_then_poison_messages_reach_the_dead_letter_queue() {
    let moto = Moto::shared();
    let queues = Queues::create(moto, "orders", MAX_RECEIVE_COUNT).await;

    // The API enqueues three good orders and a poison one, each with its
    // caller's correlation id; a malformed message arrives from elsewhere.
    let api = RuntimeApi::start().await;
    let api_env = env_with(moto, &[("ORDERS_QUEUE_URL", &queues.url)]);
    let api_function = FunctionProcess::start(Path::new(API), &api, &as_refs(&api_env));
    for (sku, correlation_id) in [("BOOK", "corr-a"), ("LAMP", "corr-b"), ("POISON", "corr-p"), ("DESK", "corr-c")] {
        let accepted = api.invoke(&order_request(sku, correlation_id), TIMEOUT).await;
        assert_eq!(accepted.body["statusCode"], 202, "{:?}", accepted.body);
    }
    api_function.stop();
    queues.client.send_message().queue_url(&queues.url).message_body("not an order").send().await.unwrap();

    let consumer_api = RuntimeApi::start().await;
    let consumer_env = env_with(moto, &[("HALO_METRICS_NAMESPACE", "OrderPipeline"), ("HALO_METRICS_BUILTIN", "true")]);
    let consumer = FunctionProcess::start(Path::new(CONSUMER), &consumer_api, &as_refs(&consumer_env));
    let mut failed_per_round = Vec::new();
    let mut poison_ids = BTreeSet::new();
    for _round in 0..=MAX_RECEIVE_COUNT + 1 {
        let messages = queues.receive().await;
        if messages.is_empty() {
            break;
        }
        let outcome = consumer_api.invoke(&lambda_event(&messages, &queues.arn), TIMEOUT).await;
        let failed: BTreeSet<String> = if outcome.success {
            outcome.body["batchItemFailures"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
                .collect()
        } else {
            // Every record failed: the invocation fails as a whole and Lambda
            // returns the whole batch to the queue.
            assert_eq!(outcome.body["errorType"], "BatchFailed", "{:?}", outcome.body);
            messages.iter().map(|m| m.message_id.clone().unwrap()).collect()
        };
        // Exactly the poison and the malformed message fail.
        let expected: BTreeSet<String> = messages
            .iter()
            .filter(|m| {
                matches!(m.body.as_deref(), Some("not an order")) || m.body.as_deref().unwrap().contains("POISON")
            })
            .map(|m| m.message_id.clone().unwrap())
            .collect();
        assert_eq!(failed, expected);
        poison_ids.extend(failed.iter().cloned());
        failed_per_round.push(failed.len());
        // What Lambda does with a partial failure: delete the successes.
        let succeeded: Vec<Message> =
            messages.iter().filter(|m| !failed.contains(m.message_id.as_deref().unwrap())).cloned().collect();
        queues.delete(&queues.url, &succeeded).await;
    }
    let (stdout, stderr) = consumer.stop_with_stdout();
    let lines = parse_json_lines(&stderr);

    assert_eq!(failed_per_round, vec![2; MAX_RECEIVE_COUNT as usize], "delivered maxReceiveCount times, then moved");
    assert!(queues.receive().await.is_empty(), "the queue is drained");
    let in_dlq: BTreeSet<String> = receive_dead(&queues, 5).await.into_iter().map(|m| m.message_id.unwrap()).collect();
    assert_eq!(in_dlq, poison_ids, "the poison messages are in the dead-letter queue");

    // Each order was fulfilled once, logged with the correlation id its API
    // call carried; the poison order's failure carries its own.
    let fulfilled: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "order fulfilled")
        .map(|l| l["correlation_id"].as_str().unwrap())
        .collect();
    assert_eq!(fulfilled.iter().copied().collect::<BTreeSet<_>>(), BTreeSet::from(["corr-a", "corr-b", "corr-c"]));
    assert_eq!(fulfilled.len(), 3);
    let poison_failures: Vec<&Value> =
        lines.iter().filter(|l| l["message"] == "record failed" && l["error_code"] == "Unshippable").collect();
    assert_eq!(poison_failures.len(), MAX_RECEIVE_COUNT as usize);
    assert!(poison_failures.iter().all(|l| l["correlation_id"] == "corr-p"));
    let malformed: Vec<&Value> =
        lines.iter().filter(|l| l["message"] == "record failed" && l["error_code"] == "InvalidRecord").collect();
    assert_eq!(malformed.len(), MAX_RECEIVE_COUNT as usize);
    assert!(!lines.iter().any(|l| l.to_string().contains("not an order")), "a malformed body is never logged");

    // Metrics, as CloudWatch would read them off stdout: every line valid
    // EMF; 3 orders fulfilled; each failed delivery counted by halo; one
    // cold start.
    let emf: Vec<Value> = stdout.iter().map(|line| halo_test_support::emf::validate_line(line).unwrap()).collect();
    let sum = |metric: &str| -> f64 {
        emf.iter()
            .map(|line| match &line[metric] {
                Value::Array(values) => values.iter().filter_map(Value::as_f64).sum(),
                value => value.as_f64().unwrap_or(0.0),
            })
            .sum()
    };
    assert_eq!(sum("OrdersFulfilled"), 3.0);
    assert_eq!(sum("BatchRecordFailed"), f64::from(2 * MAX_RECEIVE_COUNT));
    assert_eq!(sum("ColdStart"), 1.0);
    for line in &emf {
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "OrderPipeline");
        assert!(line["function_request_id"].is_string() || line.get("ColdStart").is_some());
    }
    let fulfilled_in = emf.iter().filter(|l| l.get("OrdersFulfilled").is_some()).count();
    assert!(
        fulfilled_in >= 1 && fulfilled_in <= MAX_RECEIVE_COUNT as usize,
        "one line per invocation that fulfilled orders"
    );
}

#[tokio::test]
async fn inside_lambda_the_api_needs_its_queue() {
    assert_init_fails_naming(API, "ORDERS_QUEUE_URL").await;
}

/// Started inside Lambda with no variable of its own, `binary` reports one
/// init error naming `variable`, and exits.
async fn assert_init_fails_naming(binary: &str, variable: &str) {
    let api = RuntimeApi::start().await;
    let mut function = FunctionProcess::start(Path::new(binary), &api, &[]);
    let errors = api.wait_for_init_errors(Duration::from_secs(10)).await;
    assert_eq!(errors.len(), 1);
    assert!(errors[0]["errorMessage"].as_str().unwrap().contains(variable), "{errors:?}");
    assert!(function.wait_exit(Duration::from_secs(10)).await, "the process exits");
}

#[tokio::test]
async fn inside_lambda_the_consumer_needs_its_metrics_namespace() {
    // `#[halo::handler(metrics)]`: metrics are required, so a missing
    // namespace fails the init instead of losing every metric.
    assert_init_fails_naming(CONSUMER, "HALO_METRICS_NAMESPACE").await;
}

/// A random X-Ray trace header and its trace id in OTel's hex form.
fn xray_header(parent: &str) -> (String, String) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let hex = format!("{:032x}", u128::from(std::process::id()) << 96 | (nanos & ((1 << 96) - 1)));
    (format!("Root=1-{}-{};Parent={parent};Sampled=1", &hex[..8], &hex[8..]), hex)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consumer_s_record_span_links_to_the_api_call_that_sent_the_order() {
    let moto = Moto::shared();
    let queues = Queues::create(moto, "traced", MAX_RECEIVE_COUNT).await;
    let collector = halo_test_support::otlp::OtlpReceiver::start();
    let otel = [("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint())];

    let api = RuntimeApi::start().await;
    let mut api_env = env_with(moto, &[("ORDERS_QUEUE_URL", &queues.url)]);
    api_env.extend(otel.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let api_function = FunctionProcess::start(Path::new(API), &api, &as_refs(&api_env));
    let (api_xray, api_trace) = xray_header("1111111111111111");
    let accepted = api
        .invoke_with_headers(&order_request("BOOK", "corr-traced"), TIMEOUT, &[("Lambda-Runtime-Trace-Id", &api_xray)])
        .await;
    assert_eq!(accepted.body["statusCode"], 202, "{:?}", accepted.body);
    let api_spans = collector.wait_until(TIMEOUT, |spans| spans.iter().any(|s| s.trace_id == api_trace)).await;
    api_function.stop();
    let api_root =
        api_spans.iter().find(|s| s.trace_id == api_trace && s.parent_span_id == "1111111111111111").unwrap();

    let mut consumer_env = env_with(moto, &[("HALO_METRICS_NAMESPACE", "OrderPipeline")]);
    consumer_env.extend(otel.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let consumer_api = RuntimeApi::start().await;
    let consumer = FunctionProcess::start(Path::new(CONSUMER), &consumer_api, &as_refs(&consumer_env));
    let messages = queues.receive().await;
    assert_eq!(messages.len(), 1);
    let (consumer_xray, consumer_trace) = xray_header("2222222222222222");
    let outcome = consumer_api
        .invoke_with_headers(
            &lambda_event(&messages, &queues.arn),
            TIMEOUT,
            &[("Lambda-Runtime-Trace-Id", &consumer_xray)],
        )
        .await;
    assert!(outcome.success, "{:?}", outcome.body);
    let spans = collector
        .wait_until(TIMEOUT, |spans| spans.iter().any(|s| s.trace_id == consumer_trace && s.name == "batch.record"))
        .await;
    consumer.stop();
    let record = spans.iter().find(|s| s.trace_id == consumer_trace && s.name == "batch.record").unwrap();
    assert_eq!(
        record.links,
        vec![(api_trace.clone(), api_root.span_id.clone())],
        "linked to the API invocation that sent it"
    );
    assert_eq!(record.attribute("messaging.message.id"), messages[0].message_id.as_deref());
}

/// Hostile request bodies (an unknown key, a wrong type in each field, a
/// hostile nested object, broken JSON, text that is not JSON): no error
/// response carries the caller's text back.
#[test]
fn no_error_response_carries_the_callers_text() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_order-api"));
    let errors =
        halo_test_support::hostile_bodies::assert_no_caller_text_in_errors(dir, binary, "events/create-order.json");
    assert!(errors >= 3, "the hostile bodies were refused: {errors} error responses");
}

const STREAM: &str = env!("CARGO_BIN_EXE_order-stream");
const EVENTS: &str = env!("CARGO_BIN_EXE_order-events");

/// Streams and pipelines: changes written to a real table, read from its
/// stream through the DynamoDB Streams API as Lambda's poller reads them,
/// handed to the compiled consumer. It stops at the first change it cannot
/// handle and reports that record alone, so Lambda retries from it and
/// the changes before it are not replayed; the batch after it succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_consumer_checkpoints_at_the_first_change_it_cannot_handle() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use halo_test_support::streams::{StreamReader, create_streamed_table, lambda_event};

    let moto = Moto::shared();
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let table = halo_test_support::moto::unique_name("orders");
    let stream_arn = create_streamed_table(&client, &table, "order_id").await;
    for (order_id, status) in [("ord-1", "NEW"), ("ord-2", "PAID"), ("ord-3", "BROKEN"), ("ord-4", "NEW")] {
        let item =
            [("order_id", order_id), ("status", status)].map(|(k, v)| (k.to_owned(), AttributeValue::S(v.into())));
        client.put_item().table_name(&table).set_item(Some(item.into())).send().await.unwrap();
    }
    let records = StreamReader::new(moto, &stream_arn).await.read().await;
    assert_eq!(records.len(), 4);
    let sequence = |i: usize| records[i]["dynamodb"]["SequenceNumber"].as_str().unwrap().to_owned();

    let api = RuntimeApi::start().await;
    let consumer = FunctionProcess::start(Path::new(STREAM), &api, &[]);
    let first = api.invoke(&lambda_event(&records), TIMEOUT).await;
    assert!(first.success, "{:?}", first.body);
    assert_eq!(first.body["batchItemFailures"], json!([{ "itemIdentifier": sequence(2) }]), "the BROKEN order");
    // After the retries, the on-failure destination takes it; the stream
    // goes on from the record after it.
    let rest = api.invoke(&lambda_event(&records[3..]), TIMEOUT).await;
    assert_eq!(rest.body["batchItemFailures"], json!([]));
    let lines = parse_json_lines(&consumer.stop());
    let handled: Vec<&str> =
        lines.iter().filter(|l| l["message"] == "order changed").map(|l| l["order_id"].as_str().unwrap()).collect();
    assert_eq!(handled, ["ord-1", "ord-2", "ord-4"], "in order, each once, none after the failure in its batch");
}

/// Pub/sub: an `OrderShipped` event as an EventBridge rule delivers it to
/// a subscriber, handled with the correlation id its publisher put in the
/// detail; an event the subscriber cannot handle fails the invocation (so
/// Lambda retries it and then sends it to the on-failure destination).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_bridge_subscriber_handles_an_event_with_its_publisher_s_correlation_id() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("events/order-shipped.json");
    let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let api = RuntimeApi::start().await;
    let subscriber = FunctionProcess::start(Path::new(EVENTS), &api, &[]);
    let handled = api.invoke(&event, TIMEOUT).await;
    assert!(handled.success, "{:?}", handled.body);
    let mut no_carrier = event.clone();
    no_carrier["detail"]["carrier"] = "".into();
    let refused = api.invoke(&no_carrier, TIMEOUT).await;
    assert!(!refused.success);
    assert_eq!(refused.body["errorType"], "Unprocessable", "{:?}", refused.body);
    let lines = parse_json_lines(&subscriber.stop());
    let notified: Vec<&Value> = lines.iter().filter(|l| l["message"] == "customer notified").collect();
    assert_eq!(notified.len(), 1);
    assert_eq!(notified[0]["correlation_id"], "order-demo-1");
    assert_eq!(notified[0]["tracking_id"], "ord-1");
}
