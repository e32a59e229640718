//! Batch processing overhead per record and the concurrency speed-up.
//!
//! `cargo bench -p halo-lambda --bench batch`
//!
//! - `sqs/direct/N`: the user's work alone: decode each record's JSON body
//!   and call the per-record fn (a no-op);
//! - `sqs/halo/N`: `Sqs::process` on the same batch inside an invocation
//!   context: per-record correlation id (validated), child context, log
//!   key, scope, outcome collection and the `batchItemFailures` response,
//!   plus the batch summary log line (to a sink).
//!
//! Overhead per record = (halo − direct) / N, for N = 10 and 10,000.
//!
//! - `io_bound/concurrency_C`: 100 records that each wait 1 ms (an I/O
//!   call), processed with concurrency 1 and 10.

use std::hint::black_box;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use halo::batch::{BatchOptions, Sqs, SqsRecord};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

#[derive(serde::Deserialize)]
struct Order {
    #[allow(dead_code)]
    order_id: String,
    quantity: u32,
}

fn event(n: usize) -> SqsEvent {
    let records: Vec<_> = (0..n)
        .map(|i| {
            json!({
                "messageId": format!("059f36b4-87a3-44ab-83d2-{i:012}"),
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
                "body": format!(r#"{{"order_id":"o-{i}","quantity":{}}}"#, 1 + i % 5),
                "attributes": { "ApproximateReceiveCount": "1", "SentTimestamp": "1732417200000" },
                "messageAttributes": { "x-correlation-id": { "stringValue": format!("corr-{i}"), "dataType": "String" } },
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

async fn work_on(order: Order, message_id: String) -> Result<(), halo::Error> {
    black_box((order.quantity, message_id));
    Ok(())
}

async fn work(order: SqsRecord<Order>) -> Result<(), halo::Error> {
    work_on(order.body, order.message_id).await
}

fn overhead(c: &mut Criterion) {
    let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(std::io::sink));
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ctx = halo::Ctx::builder("bench-request").timeout(Duration::from_secs(3600)).build();
    ctx.set_correlation_id("bench-batch");
    let mut group = c.benchmark_group("sqs");
    for n in [10usize, 10_000] {
        let batch = event(n);
        group.bench_with_input(BenchmarkId::new("direct", n), &n, |b, _| {
            b.iter_batched(
                || batch.clone(),
                |event| {
                    runtime.block_on(async {
                        for message in event.records {
                            let body: Order = serde_json::from_str(message.body.as_deref().unwrap()).unwrap();
                            let id = message.message_id.clone().unwrap();
                            black_box(&message);
                            work_on(body, id).await.unwrap();
                        }
                    })
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_with_input(BenchmarkId::new("halo", n), &n, |b, _| {
            b.iter_batched(
                || Sqs::<Order>::from(batch.clone()),
                |sqs| {
                    let response = runtime.block_on(ctx.clone().scope(sqs.process(&BatchOptions::default(), work)));
                    black_box(response.unwrap())
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();

    let mut group = c.benchmark_group("io_bound");
    group.sample_size(10);
    let batch = event(100);
    async fn io(_order: SqsRecord<Order>) -> Result<(), halo::Error> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok(())
    }
    for concurrency in [1usize, 10] {
        group.bench_function(format!("concurrency_{concurrency}"), |b| {
            b.iter_batched(
                || Sqs::<Order>::from(batch.clone()),
                |sqs| runtime.block_on(sqs.process(&BatchOptions::default().concurrency(concurrency), io)).unwrap(),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
