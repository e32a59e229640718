//! Snippets of README.md ("A tour") and of the guide that are not a whole
//! handler: outgoing calls with correlation headers, a circuit breaker with
//! its fallback.

use std::time::Duration;

use halo::correlation::propagate;
use serde_json::Value;

/// README "A tour" and the guide's `docs/correlation.md`: carrying the
/// correlation id to what this function calls.
pub fn propagate_everywhere(mut detail: Value, mut payload: Value) -> (Value, Value, usize, usize) {
    let headers = propagate::http_headers();              // x-correlation-id, debug-log-enabled, x-user-agent
    let attributes = propagate::message_attributes();     // SQS / SNS message attributes
    propagate::into_event_detail(&mut detail);            // EventBridge detail
    propagate::into_invoke_payload(&mut payload);         // Lambda invoke payload
    (detail, payload, headers.len(), attributes.len())
}

/// README "A tour" and the guide's `docs/timeouts.md` ("The HTTP client").
pub async fn quote_status(base: &str, id: &str) -> Result<u16, halo::Error> {
    let client = halo::http::Client::builder().max_attempts(3).attempt_timeout(Duration::from_secs(2)).build()?;
    let response = client.get(format!("{base}/quotes/{id}")).send().await?; // a reqwest::Response
    Ok(response.status().as_u16())
}

/// A part of an answer, live or a degraded stand-in.
#[derive(Debug, serde::Serialize)]
pub struct Part { pub live: bool, pub value: Value }

/// README "A tour" and the guide's `docs/circuit-breakers.md`.
#[halo::circuit_breaker(name = "payments", consecutive_failures = 5, open_for = "10s", fallback = payment_unknown)]
pub async fn payment(invoice_id: String) -> Result<Part, halo::Error> {
    if invoice_id.is_empty() {
        return Err(halo::Error::upstream("the payment service failed"));
    }
    Ok(Part { live: true, value: serde_json::json!({ "invoice": invoice_id, "status": "paid" }) })
}

async fn payment_unknown(invoice_id: String) -> Result<Part, halo::Error> {
    Ok(Part { live: false, value: serde_json::json!({ "invoice": invoice_id, "status": "unknown" }) })
}
