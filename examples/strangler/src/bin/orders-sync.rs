//! orders-sync: the anti-corruption layer back to the legacy service.
//! Each order the new service wrote (a message of the sync queue) is
//! created in the legacy service once: the call is idempotent on the
//! write's id, and its idempotency token is the legacy call's
//! `Idempotency-Key`, so a redelivered message, or a retry after a lost
//! answer, creates nothing more.

use halo::batch::{BatchOptions, BatchResponse, Sqs, SqsRecord};
use serde::{Deserialize, Serialize};
use strangler::orders::OrderWritten;

/// The legacy service's orders API.
#[derive(Debug)]
struct LegacyOrders {
    client: halo::http::Client,
    url: String,
}

/// What the legacy service answered.
#[derive(Debug, Serialize, Deserialize)]
struct Synced {
    status: u16,
}

/// Creates `written.order` in the legacy service, once per write.
#[halo::idempotent(name = "sync-order", payload = written, key = ["/write_id"])]
async fn sync(written: OrderWritten, legacy: &LegacyOrders) -> Result<Synced, halo::Error> {
    let token = halo::idempotency::current_token().unwrap_or_else(|| written.write_id.clone());
    let response = legacy
        .client
        .post(format!("{}/orders", legacy.url))
        .header("idempotency-key", &token)
        .json(&written.order)?
        // The legacy service deduplicates on the key: a retry is safe.
        .retry_non_idempotent()
        .send()
        .await?;
    let status = response.status().as_u16();
    if !response.status().is_success() {
        return Err(
            halo::Error::upstream("the legacy service refused the order").with_source(format!("status {status}"))
        );
    }
    tracing::info!(order_id = %written.order.id, write_id = %written.write_id, status, "order synced to legacy");
    Ok(Synced { status })
}

async fn init() -> Result<LegacyOrders, halo::Error> {
    let url = std::env::var("LEGACY_URL")
        .map_err(|_| halo::Error::internal("LEGACY_URL must name the legacy service's base URL"))?;
    Ok(LegacyOrders { client: halo::http::Client::new()?, url: url.trim_end_matches('/').to_owned() })
}

#[halo::handler(init = init)]
async fn handler(
    batch: Sqs<OrderWritten>,
    _ctx: &halo::Ctx,
    legacy: &LegacyOrders,
) -> Result<BatchResponse, halo::Error> {
    batch
        .process(&BatchOptions::default(), |record: SqsRecord<OrderWritten>| async move {
            sync(record.body, legacy).await.map(|_| ())
        })
        .await
}
