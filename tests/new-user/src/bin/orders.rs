//! README "A tour" and the guide's `docs/batch.md`: an SQS consumer whose
//! failed records are retried alone, and which counts what it ships
//! (`docs/metrics.md`).

use halo::batch::{BatchOptions, BatchResponse, Sqs, SqsRecord};
use halo::metrics::{self, Unit};
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
    ship(&order.body).await?;
    metrics::add_metric("OrdersShipped", Unit::Count, 1.0)?;
    metrics::add_metric("ItemsShipped", Unit::Count, f64::from(order.body.quantity))?;
    Ok(())
}

#[halo::handler(metrics)]
async fn handler(batch: Sqs<Order>, _ctx: &halo::Ctx) -> Result<BatchResponse, halo::Error> {
    batch.process(&BatchOptions::default().concurrency(10), fulfil).await
}
