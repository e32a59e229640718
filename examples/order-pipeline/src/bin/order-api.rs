//! `POST /orders`: validates the order, enqueues it and answers `202` with
//! a tracking id. The consumer does the slow work at its own pace.
//!
//! `ORDERS_QUEUE_URL` names the queue. Without it, outside Lambda, the
//! message is only logged (a local run needs no AWS account); inside Lambda
//! its absence fails the init.

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::HeaderValue;
use aws_sdk_sqs::types::MessageAttributeValue;
use order_pipeline::order::Order;
use serde_json::json;

/// Where accepted orders go.
enum Queue {
    Sqs { client: aws_sdk_sqs::Client, url: String },
    LogOnly,
}

async fn init() -> Result<Queue, String> {
    match std::env::var("ORDERS_QUEUE_URL") {
        Ok(url) if !url.trim().is_empty() => {
            Ok(Queue::Sqs { client: aws_sdk_sqs::Client::new(&halo::platform::sdk_config().await), url })
        }
        _ if halo::platform::in_lambda() => Err("ORDERS_QUEUE_URL must name the orders queue".into()),
        _ => {
            tracing::info!("local run without ORDERS_QUEUE_URL: accepted orders are only logged");
            Ok(Queue::LogOnly)
        }
    }
}

#[halo::handler(init = init)]
async fn handler(
    request: ApiGatewayProxyRequest,
    ctx: &halo::Ctx,
    queue: &Queue,
) -> Result<ApiGatewayProxyResponse, halo::Error> {
    let body = request.body.as_deref().unwrap_or_default();
    // The error names the field, never what the caller sent.
    let mut order: Order = halo::decode_body(body).map_err(|e| e.with_code("InvalidOrder"))?;
    order.validate()?;
    order.tracking_id = format!("ord-{}", ctx.request_id());
    let message = serde_json::to_string(&order)?;
    match queue {
        Queue::Sqs { client, url } => {
            let mut send = client.send_message().queue_url(url).message_body(message);
            // The correlation id and sampling decision travel with the order.
            for (name, value) in halo::correlation::propagate::message_attributes() {
                let attribute = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(value)
                    .build()
                    .map_err(halo::Error::internal)?;
                send = send.message_attributes(name, attribute);
            }
            send.send().await.map_err(|e| halo::Error::unavailable("the order queue is unavailable").with_source(e))?;
        }
        Queue::LogOnly => tracing::info!(order = %message, "order accepted (not sent: no queue configured)"),
    }
    tracing::info!(tracking_id = %order.tracking_id, sku = %order.sku, "order accepted");
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = 202;
    response.headers.insert("content-type", HeaderValue::from_static("application/json"));
    response.body = Some(Body::Text(json!({ "tracking_id": order.tracking_id }).to_string()));
    Ok(response)
}
