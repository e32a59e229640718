//! The orders queue's consumer: fulfils each order of the batch and
//! reports only the failed ones (`ReportBatchItemFailures`), so SQS
//! delivers just those again, and after `maxReceiveCount` moves them to
//! the dead-letter queue.
//!
//! Up to 10 orders run at once. An order for the SKU `POISON` always fails
//! (to show the DLQ path); a body that is not an order fails alone.
//!
//! Metrics (CloudWatch EMF, namespace `HALO_METRICS_NAMESPACE`): each
//! fulfilled order counts `OrdersFulfilled` and records its
//! `OrderQuantity`; with `HALO_METRICS_BUILTIN=true` halo counts every
//! failed record as `BatchRecordFailed` (the template alarms on it).

use halo::batch::{BatchOptions, BatchResponse, Sqs, SqsRecord};
use halo::metrics::{self, Unit};
use order_pipeline::order::Order;

async fn fulfil(record: SqsRecord<Order>) -> Result<(), halo::Error> {
    let order = record.body;
    order.validate()?;
    if order.sku == "POISON" {
        return Err(halo::Error::unprocessable("this product cannot be shipped").with_code("Unshippable"));
    }
    tracing::info!(tracking_id = %order.tracking_id, sku = %order.sku, receive_count = record.message.attributes.get("ApproximateReceiveCount").map(String::as_str), "order fulfilled");
    metrics::add_metric("OrdersFulfilled", Unit::Count, 1.0)?;
    metrics::add_metric("OrderQuantity", Unit::Count, f64::from(order.quantity))?;
    Ok(())
}

#[halo::handler(metrics)]
async fn handler(batch: Sqs<Order>, _ctx: &halo::Ctx) -> Result<BatchResponse, halo::Error> {
    batch.process(&BatchOptions::default().concurrency(10), fulfil).await
}
