//! Batch processing with partial failures for SQS, Kinesis and DynamoDB
//! Streams.
//!
//! Lambda hands a function a batch of records; when one record fails, the
//! function should report just that record (`batchItemFailures`, with
//! `ReportBatchItemFailures` enabled on the event source mapping) so the
//! others are not delivered again. halo runs a per-record async fn over
//! the batch and builds that response:
//!
//! - every record runs with its **own correlation id** (from its
//!   `x-correlation-id` message attribute, else generated) and the
//!   `message_id` on every log line it writes;
//! - a record whose body does not deserialize into your type fails alone
//!   (logged with its message id, without its content), never the batch;
//! - **standard SQS** records may run concurrently
//!   ([`BatchOptions::concurrency`]); **FIFO SQS** stops at the first
//!   failure and reports it and every later record, so order is kept;
//! - **Kinesis** and **DynamoDB Streams** stop at the first failure and
//!   report its sequence number: Lambda checkpoints before it and retries
//!   from there;
//! - when **every** record fails the invocation fails as a whole
//!   ([`BatchOptions::fail_when_all_fail`], on by default), so the event
//!   source's retry and backoff apply.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use halo::batch::{BatchOptions, Sqs, SqsRecord};
//!
//! #[derive(serde::Deserialize)]
//! struct Order { id: String, quantity: u32 }
//!
//! async fn process(order: SqsRecord<Order>) -> Result<(), halo::Error> {
//!     if order.body.quantity == 0 {
//!         return Err(halo::Error::unprocessable("empty order"));
//!     }
//!     tracing::info!(order_id = %order.body.id, "order processed");
//!     Ok(())
//! }
//!
//! let event = serde_json::json!({ "Records": [
//!     { "messageId": "m-1", "body": r#"{"id":"o-1","quantity":2}"#, "eventSource": "aws:sqs" },
//!     { "messageId": "m-2", "body": r#"{"id":"o-2","quantity":0}"#, "eventSource": "aws:sqs" },
//!     { "messageId": "m-3", "body": "not json", "eventSource": "aws:sqs" },
//! ]});
//! let batch: Sqs<Order> = serde_json::from_value(event).unwrap();
//! let response = batch.process(&BatchOptions::default(), process).await.unwrap();
//! assert_eq!(response.failed_ids(), ["m-2", "m-3"]);
//! # });
//! ```
//!
//! In a handler, the batch is the event and the response is what Lambda
//! reads:
//!
//! ```no_run
//! # #[derive(serde::Deserialize)] struct Order { id: String }
//! # async fn process(order: halo::batch::SqsRecord<Order>) -> Result<(), halo::Error> { Ok(()) }
//! use halo::batch::{BatchOptions, BatchResponse, Sqs};
//!
//! #[halo::handler]
//! async fn handler(batch: Sqs<Order>, _ctx: &halo::Ctx) -> Result<BatchResponse, halo::Error> {
//!     batch.process(&BatchOptions::default().concurrency(8), process).await
//! }
//! ```

mod data;
mod options;
mod record;
mod response;
mod sqs;
mod stream;

pub use data::{RawData, RecordData};
pub use options::BatchOptions;
pub use response::{BatchResponse, ItemFailure};
pub use sqs::{Sqs, SqsRecord};
pub use stream::{DynamoDbStream, Kinesis, KinesisRecord};
