//! orders-facade: the orders API's one interface while it moves from the
//! legacy service to the new one, route by route.
//!
//! The new service's routes are `GET /orders/{id}` and `POST /orders`;
//! where each request goes is the routing under `ROUTING_PATH` (SSM in
//! Lambda, `HALO_PARAM_ROUTES` in a local run), refreshed every
//! `HALO_PARAMS_MAX_AGE`; every other request goes to `LEGACY_URL`. An
//! order the new service creates is published on `SYNC_QUEUE_URL` for
//! `orders-sync` to write to the legacy service.
//!
//! ```text
//! LEGACY_URL=http://127.0.0.1:8081 HALO_PARAM_ROUTES='{"POST /orders":"new"}' \
//!     cargo run -p strangler --bin orders-facade -- serve --port 3000
//! ```

use std::sync::Arc;

use aws_sdk_sqs::types::MessageAttributeValue;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use halo::breaker::{BreakerPolicy, CircuitBreaker};
use halo::http::{Created, IdempotentJson};
use halo::params::Params;
use halo::strangler::{Legacy, Routing, Strangler};
use strangler::orders::{NewOrder, Order, OrderWritten, Orders};

/// Where the new service's writes go for the legacy service.
#[derive(Debug)]
enum SyncQueue {
    Sqs {
        client: aws_sdk_sqs::Client,
        url: String,
    },
    /// A local run without a queue: the write is logged.
    LogOnly,
}

#[derive(Clone)]
struct App {
    orders: Arc<Orders>,
    sync: Arc<SyncQueue>,
}

impl App {
    /// Publishes `written` with the request's correlation id.
    async fn publish(&self, written: &OrderWritten) -> Result<(), halo::Error> {
        let message = serde_json::to_string(written)?;
        match &*self.sync {
            SyncQueue::Sqs { client, url } => {
                let mut send = client.send_message().queue_url(url).message_body(message);
                for (name, value) in halo::correlation::propagate::message_attributes() {
                    let attribute = MessageAttributeValue::builder()
                        .data_type("String")
                        .string_value(value)
                        .build()
                        .map_err(halo::Error::internal)?;
                    send = send.message_attributes(name, attribute);
                }
                send.send().await.map_err(|e| {
                    halo::Error::unavailable("the sync queue is unavailable; retry later").with_source(e)
                })?;
            }
            SyncQueue::LogOnly => {
                tracing::info!(write_id = %written.write_id, "order written (no sync queue configured)")
            }
        }
        Ok(())
    }
}

async fn get_order(State(app): State<App>, Path(id): Path<String>) -> Result<Json<Order>, halo::Error> {
    app.orders.get(&id).await?.map(Json).ok_or_else(|| halo::Error::not_found("no such order"))
}

/// Creates an order in the new service and publishes it for the legacy
/// one. With an `Idempotency-Key`, a retry gets the first answer; the
/// order's id and the write's id are the request's idempotency token, the
/// same on every retry, so a retry after a failed publish writes the same
/// order and publishes the same write.
#[halo::idempotent(name = "create-order", payload = request, key = ["/key"], validate = ["/body"])]
async fn create_order(
    State(app): State<App>,
    ctx: halo::Ctx,
    request: IdempotentJson<NewOrder>,
) -> Result<Created<Order>, halo::Error> {
    let token = halo::idempotency::current_token().unwrap_or_else(|| ctx.request_id().to_owned());
    let order = request.body.into_order(format!("o-{token}"))?;
    app.orders.put(&order).await?;
    app.publish(&OrderWritten { write_id: token, order: order.clone() }).await?;
    Ok(Created(order))
}

/// Once per container: the new service's router inside the façade.
async fn init() -> Result<Router, halo::Error> {
    let legacy_url = std::env::var("LEGACY_URL")
        .map_err(|_| halo::Error::internal("LEGACY_URL must name the legacy service's base URL"))?;
    let routing_path = std::env::var("ROUTING_PATH").unwrap_or_else(|_| "/halo-examples/strangler".to_owned());
    let routing = Params::from_env().await?.load::<Routing>(&routing_path).await?;
    let sync = match std::env::var("SYNC_QUEUE_URL") {
        Ok(url) if !url.trim().is_empty() => {
            SyncQueue::Sqs { client: aws_sdk_sqs::Client::new(&halo::platform::sdk_config().await), url }
        }
        _ if halo::platform::in_lambda() => {
            return Err(halo::Error::internal("SYNC_QUEUE_URL must name the queue of writes for the legacy service"));
        }
        _ => SyncQueue::LogOnly,
    };
    let app = App { orders: Arc::new(Orders::from_env().await?), sync: Arc::new(sync) };
    let new_service =
        Router::new().route("/orders", post(create_order)).route("/orders/{id}", get(get_order)).with_state(app);
    let breaker = CircuitBreaker::from_env("legacy", BreakerPolicy::default()).await;
    let legacy = Legacy::new(&legacy_url)?.breaker(breaker);
    Ok(Strangler::new(legacy, routing).wrap(new_service))
}

fn main() -> std::process::ExitCode {
    halo::platform::block_on(halo::http::run_with_init(init()))
}
