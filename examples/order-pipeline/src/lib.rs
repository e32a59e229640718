//! order-pipeline: the "serverless failure modes" architecture on halo.
//!
//! - `order-api` (API Gateway): validates an order, enqueues it with the
//!   correlation id in its message attributes, answers `202` with a
//!   tracking id (queue-based load leveling);
//! - `order-consumer` (SQS, `ReportBatchItemFailures`): fulfils each order;
//!   a failed order is reported alone and, after `maxReceiveCount`
//!   deliveries, lands in the dead-letter queue;
//! - `order-stream` (DynamoDB Streams): reacts to order changes in order,
//!   checkpointing at the first failure;
//! - `order-events` (EventBridge, asynchronous): handles `OrderShipped`
//!   events, with retries, a maximum event age and an on-failure
//!   destination.

pub mod order;
