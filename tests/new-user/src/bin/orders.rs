//! README "Batch processing with partial failures": an SQS consumer whose
//! failed records are retried alone.

use halo::batch::{BatchOptions, BatchResponse, Sqs, SqsRecord};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Order { id: String, quantity: u32 }

async fn ship(order: &Order) -> Result<(), halo::Error> {
    if order.quantity == 0 {
        return Err(halo::Error::unprocessable("nothing to ship"));
    }
    tracing::info!(order_id = %order.id, "shipped");
    Ok(())
}

async fn fulfil(order: SqsRecord<Order>) -> Result<(), halo::Error> {
    ship(&order.body).await
}

#[halo::handler]
async fn handler(batch: Sqs<Order>, _ctx: &halo::Ctx) -> Result<BatchResponse, halo::Error> {
    batch.process(&BatchOptions::default().concurrency(10), fulfil).await
}
