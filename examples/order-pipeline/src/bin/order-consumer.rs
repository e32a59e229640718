//! The orders queue's consumer: fulfils each order of the batch and
//! reports only the failed ones (`ReportBatchItemFailures`), so SQS
//! delivers just those again, and after `maxReceiveCount` moves them to
//! the dead-letter queue.
//!
//! Up to 10 orders run at once. An order for the SKU `POISON` always fails
//! (to show the DLQ path); a body that is not an order fails alone.

use halo::batch::{BatchOptions, BatchResponse, Sqs, SqsRecord};
use order_pipeline::order::Order;

async fn fulfil(record: SqsRecord<Order>) -> Result<(), halo::Error> {
    let order = record.body;
    order.validate()?;
    if order.sku == "POISON" {
        return Err(halo::Error::unprocessable("this product cannot be shipped").with_code("Unshippable"));
    }
    tracing::info!(tracking_id = %order.tracking_id, sku = %order.sku, receive_count = record.message.attributes.get("ApproximateReceiveCount").map(String::as_str), "order fulfilled");
    Ok(())
}

#[halo::handler]
async fn handler(batch: Sqs<Order>, _ctx: &halo::Ctx) -> Result<BatchResponse, halo::Error> {
    batch.process(&BatchOptions::default().concurrency(10), fulfil).await
}
