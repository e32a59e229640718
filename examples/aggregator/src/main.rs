//! `GET /invoices/{id}`: the customer, the order lines and the payment
//! status, fetched concurrently within the invocation's time budget. A
//! service that fails or whose breaker is open is replaced by its
//! fallback, and the answer lists it under `degraded`.
//!
//! ```text
//! cargo run -p aggregator -- invoke examples/aggregator/events/get-invoice.json
//! ```

use aggregator::services::{self, Part, Services};
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::HeaderValue;
use serde_json::json;

/// The HTTP client and the services' URLs, once per container.
async fn init() -> Result<Services, halo::Error> {
    Services::from_env()
}

#[halo::handler(init = init)]
async fn handler(
    request: ApiGatewayProxyRequest,
    _ctx: &halo::Ctx,
    services: &Services,
) -> Result<ApiGatewayProxyResponse, halo::Error> {
    let id = request.path_parameters.get("id").cloned().unwrap_or_default();
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(halo::Error::bad_request("the invoice id is 1 to 64 characters of A-Z a-z 0-9 -"));
    }
    let (customer, lines, payment) = futures_util::future::join3(
        services::customer(services, id.clone()),
        services::lines(services, id.clone()),
        services::payment(services, id.clone()),
    )
    .await;
    let parts: [(&str, Part); 3] = [("customer", customer?), ("lines", lines?), ("payment", payment?)];
    let degraded: Vec<&str> = parts.iter().filter(|(_, p)| p.degraded).map(|(name, _)| *name).collect();
    if !degraded.is_empty() {
        tracing::warn!(invoice_id = %id, degraded = ?degraded, "invoice served with fallbacks");
    }
    let [(_, customer), (_, lines), (_, payment)] = parts;
    let body = json!({
        "invoice_id": id,
        "customer": customer.data,
        "lines": lines.data,
        "payment": payment.data,
        "degraded": degraded,
    });
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = 200;
    response.headers.insert("content-type", HeaderValue::from_static("application/json"));
    response.body = Some(Body::Text(body.to_string()));
    Ok(response)
}
