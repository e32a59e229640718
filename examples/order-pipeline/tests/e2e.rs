//! order-pipeline against moto's SQS over loopback: the compiled API
//! enqueues orders with their correlation ids; messages received from the
//! real queue, in the Lambda SQS event shape, go through the compiled
//! consumer over a loopback Runtime API; the batch response lists exactly
//! the failed messages; the successes are deleted; redelivery until
//! `maxReceiveCount` moves the poison messages to the dead-letter queue.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::moto::{Moto, unique_name};
use halo_test_support::runtime_api::RuntimeApi;
use serde_json::{Value, json};

const API: &str = env!("CARGO_BIN_EXE_order-api");
const CONSUMER: &str = env!("CARGO_BIN_EXE_order-consumer");
const TIMEOUT: Duration = Duration::from_secs(20);
const MAX_RECEIVE_COUNT: u32 = 2;

struct Queues {
    client: aws_sdk_sqs::Client,
    url: String,
    arn: String,
    dlq_url: String,
}

/// An orders queue whose messages are visible again at once after a
/// receive (visibility timeout 0, so redelivery needs no waiting) and move
/// to a dead-letter queue after `MAX_RECEIVE_COUNT` receives.
async fn queues(moto: &Moto) -> Queues {
    let client = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let name = unique_name("orders");
    let dlq_url = client.create_queue().queue_name(format!("{name}-dlq")).send().await.unwrap().queue_url.unwrap();
    let dlq_arn = queue_arn(&client, &dlq_url).await;
    let redrive = json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT.to_string() });
    let url = client
        .create_queue()
        .queue_name(&name)
        .attributes(QueueAttributeName::VisibilityTimeout, "0")
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = queue_arn(&client, &url).await;
    Queues { client, url, arn, dlq_url }
}

async fn queue_arn(client: &aws_sdk_sqs::Client, url: &str) -> String {
    let attributes = client.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::QueueArn).send();
    attributes.await.unwrap().attributes.unwrap()[&QueueAttributeName::QueueArn].clone()
}

/// Receives the visible messages (one call of at most 10, as Lambda's
/// poller does: with a visibility timeout of 0 a second call would receive
/// the same messages again).
async fn receive_batch(client: &aws_sdk_sqs::Client, url: &str) -> Vec<Message> {
    receive(client, url, 1).await
}

/// Receives every visible message, in up to `calls` calls.
async fn receive(client: &aws_sdk_sqs::Client, url: &str, calls: usize) -> Vec<Message> {
    let mut messages = Vec::new();
    for _ in 0..calls {
        let received = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        let batch = received.messages.unwrap_or_default();
        if batch.is_empty() {
            break;
        }
        messages.extend(batch);
    }
    messages
}

/// The messages as Lambda's SQS event source hands them to a function.
fn sqs_event(messages: &[Message], queue_arn: &str) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: HashMap<String, String> =
                m.attributes.clone().unwrap_or_default().into_iter().map(|(k, v)| (k.as_str().to_owned(), v)).collect();
            let message_attributes: HashMap<String, Value> = m
                .message_attributes
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, json!({ "stringValue": v.string_value, "dataType": v.data_type })))
                .collect();
            json!({
                "messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body,
                "attributes": attributes, "messageAttributes": message_attributes, "md5OfBody": m.md5_of_body,
                "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
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
    let queues = queues(moto).await;

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
    let consumer = FunctionProcess::start(Path::new(CONSUMER), &consumer_api, &as_refs(&moto.env()));
    let mut failed_per_round = Vec::new();
    let mut poison_ids = BTreeSet::new();
    for _round in 0..=MAX_RECEIVE_COUNT + 1 {
        let messages = receive_batch(&queues.client, &queues.url).await;
        if messages.is_empty() {
            break;
        }
        let outcome = consumer_api.invoke(&sqs_event(&messages, &queues.arn), TIMEOUT).await;
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
        for message in messages.iter().filter(|m| !failed.contains(m.message_id.as_deref().unwrap())) {
            let handle = message.receipt_handle.clone().unwrap();
            queues.client.delete_message().queue_url(&queues.url).receipt_handle(handle).send().await.unwrap();
        }
    }
    let lines = parse_json_lines(&consumer.stop());

    assert_eq!(failed_per_round, vec![2; MAX_RECEIVE_COUNT as usize], "delivered maxReceiveCount times, then moved");
    assert!(receive_batch(&queues.client, &queues.url).await.is_empty(), "the queue is drained");
    let in_dlq: BTreeSet<String> =
        receive(&queues.client, &queues.dlq_url, 5).await.into_iter().map(|m| m.message_id.unwrap()).collect();
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
}

#[tokio::test]
async fn inside_lambda_the_api_needs_its_queue() {
    let api = RuntimeApi::start().await;
    let mut function = FunctionProcess::start(Path::new(API), &api, &[]);
    let errors = api.wait_for_init_errors(Duration::from_secs(10)).await;
    assert_eq!(errors.len(), 1);
    assert!(errors[0]["errorMessage"].as_str().unwrap().contains("ORDERS_QUEUE_URL"), "{errors:?}");
    assert!(function.wait_exit(Duration::from_secs(10)).await, "the process exits");
}
