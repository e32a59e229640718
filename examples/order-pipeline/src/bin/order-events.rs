//! `OrderShipped` events from EventBridge, invoked asynchronously: a failed
//! invocation is retried by Lambda (`MaximumRetryAttempts`), dropped after
//! `MaximumEventAgeInSeconds`, and sent to the on-failure destination.
//! The correlation id comes from `detail["x-correlation-id"]`.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Shipped {
    tracking_id: String,
    carrier: String,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(rename = "detail-type")]
    detail_type: String,
    detail: Shipped,
}

#[halo::handler]
async fn handler(event: Event, _ctx: &halo::Ctx) -> Result<(), halo::Error> {
    if event.detail_type != "OrderShipped" {
        return Err(halo::Error::bad_request(format!("unexpected event type `{}`", event.detail_type)));
    }
    if event.detail.carrier.is_empty() {
        return Err(halo::Error::unprocessable("`carrier` is empty"));
    }
    tracing::info!(tracking_id = %event.detail.tracking_id, carrier = %event.detail.carrier, "customer notified");
    Ok(())
}
