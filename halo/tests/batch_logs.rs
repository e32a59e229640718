//! Each record of a batch logs with its own correlation id and message id,
//! and no record's ids leak into another's lines. Alone in its test binary:
//! tracing caches callsite interest per process, so a test without a
//! subscriber running in parallel could hide these lines.

use std::time::Duration;

use halo::batch::{BatchOptions, Sqs, SqsRecord};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug, Deserialize)]
struct Order {
    order_id: String,
    #[serde(default = "one")]
    quantity: u32,
}

fn one() -> u32 {
    1
}

fn sqs_event(bodies: &[&str]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            json!({
                "messageId": format!("m-{i}"),
                "body": body,
                "messageAttributes": { "x-correlation-id": { "stringValue": format!("corr-{i}"), "dataType": "String" } },
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders",
            })
        })
        .collect();
    json!({ "Records": records })
}

async fn process(record: SqsRecord<Order>) -> Result<(), halo::Error> {
    tracing::info!(order_id = %record.body.order_id, "processing order");
    if record.body.quantity == 0 { Err(halo::Error::unprocessable("empty order")) } else { Ok(()) }
}

#[tokio::test]
async fn each_record_logs_with_its_own_correlation_id_only() {
    let lines = halo::log::CapturedLines::default();
    let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(lines.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);
    let ctx = halo::Ctx::builder("batch-request").timeout(Duration::from_secs(30)).build();
    ctx.set_correlation_id("the-batch");

    let bodies = [r#"{"order_id":"o-0"}"#, r#"{"order_id":"o-1","quantity":0}"#, r#"{"order_id":"o-2"}"#];
    let batch: Sqs<Order> = serde_json::from_value(sqs_event(&bodies)).unwrap();
    let response = ctx.scope(batch.process(&BatchOptions::default().concurrency(3), process)).await.unwrap();
    assert_eq!(response.failed_ids(), ["m-1"]);

    let lines = lines.json();
    for i in 0..3 {
        let order = format!("o-{i}");
        let line = lines.iter().find(|l| l["message"] == "processing order" && l["order_id"] == order).unwrap();
        assert_eq!(line["correlation_id"], format!("corr-{i}"), "{line}");
        assert_eq!(line["message_id"], format!("m-{i}"));
        assert_eq!(line["function_request_id"], "batch-request");
    }
    // The failure is logged on the failed record's own line, with its ids.
    let failed: Vec<&Value> = lines.iter().filter(|l| l["message"] == "record failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0]["correlation_id"].as_str(), failed[0]["message_id"].as_str()), (Some("corr-1"), Some("m-1")));
    assert_eq!(failed[0]["error_code"], "Unprocessable");
    // No record's id leaks into another record's lines or the batch's.
    for line in &lines {
        if let (Some(id), Some(corr)) = (line["message_id"].as_str(), line["correlation_id"].as_str()) {
            assert_eq!(corr, format!("corr-{}", &id[2..]), "{line}");
        }
    }
    let summary = lines.iter().find(|l| l["message"] == "batch processed").unwrap();
    assert_eq!((summary["correlation_id"].as_str(), summary.get("message_id")), (Some("the-batch"), None));
}
