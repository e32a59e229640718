//! idempotent-payments: a "charge" API on halo that charges once per
//! `payment_id`, however many times API Gateway, a client retry or Lambda's
//! at-least-once delivery sends the request.
//!
//! `POST /charges` with `{"payment_id": "...", "amount": 1299, "currency": "EUR"}`
//! answers `201` with a receipt. A duplicate gets the **same** receipt (same
//! `charge_id`) without charging again; the same `payment_id` with another
//! `amount` is rejected with `422 PayloadMismatch`; a duplicate that arrives
//! while the first is still running waits up to 2 s for its result.
//!
//! Run it locally (in-memory idempotency store, no AWS account):
//!
//! ```text
//! cargo run -p idempotent-payments -- invoke examples/idempotent-payments/events/charge.json
//! ```
//!
//! In Lambda, `HALO_IDEMPOTENCY_TABLE` names the DynamoDB table (see
//! `template.yaml`); without it the container's init fails with a clear
//! error instead of silently using a per-container memory store.

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::HeaderValue;
use halo::idempotent;
use serde::{Deserialize, Serialize};

/// The largest amount this example accepts, in minor units.
const MAX_AMOUNT: u64 = 1_000_000;

#[derive(Debug, Deserialize)]
struct ChargeRequest {
    payment_id: String,
    amount: u64,
    currency: String,
}

#[derive(Debug, Serialize)]
struct Receipt<'a> {
    payment_id: &'a str,
    charge_id: String,
    amount: u64,
    currency: &'a str,
    status: &'static str,
}

/// Per-container state: nothing but the proof that the idempotency store is
/// configured.
struct State;

/// Resolves the idempotency store once per container: DynamoDB when
/// `HALO_IDEMPOTENCY_TABLE` is set, the in-memory store in a local run, and
/// an init error inside Lambda without a table.
async fn init() -> Result<State, halo::idempotency::StoreError> {
    halo::idempotency::init().await?;
    Ok(State)
}

/// Charges the card once per `payment_id`.
#[halo::handler(init = init)]
#[idempotent(name = "charge", key = ["/body/payment_id"], validate = ["/body/amount"], required = true, wait = "2s")]
async fn handler(
    request: ApiGatewayProxyRequest,
    ctx: &halo::Ctx,
    _state: &State,
) -> Result<ApiGatewayProxyResponse, halo::Error> {
    let body = request.body.as_deref().unwrap_or_default();
    let charge: ChargeRequest = serde_json::from_str(body).map_err(|e| {
        halo::Error::bad_request(format!("the body is not a charge request: {e}")).with_code("InvalidCharge")
    })?;
    if charge.amount == 0 || charge.amount > MAX_AMOUNT {
        return Err(halo::Error::unprocessable(format!("`amount` must be between 1 and {MAX_AMOUNT}")));
    }
    // The side effect that must happen once: here, a log line standing for
    // the call to the payment provider.
    let charge_id = format!("ch_{}", ctx.request_id());
    tracing::info!(payment_id = %charge.payment_id, amount = charge.amount, charge_id = %charge_id, "card charged");
    let receipt = Receipt {
        payment_id: &charge.payment_id,
        charge_id,
        amount: charge.amount,
        currency: &charge.currency,
        status: "succeeded",
    };
    json_response(201, &receipt)
}

fn json_response<T: Serialize>(status: i64, body: &T) -> Result<ApiGatewayProxyResponse, halo::Error> {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.headers.insert("content-type", HeaderValue::from_static("application/json"));
    response.body = Some(Body::Text(serde_json::to_string(body)?));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(file: &str) -> ApiGatewayProxyRequest {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events").join(file);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn receipt(response: &ApiGatewayProxyResponse) -> serde_json::Value {
        match &response.body {
            Some(Body::Text(text)) => serde_json::from_str(text).unwrap(),
            other => panic!("unexpected body {other:?}"),
        }
    }

    // Unit tests run on the in-memory store (no table configured, not in Lambda).

    #[tokio::test]
    async fn a_retry_gets_the_same_receipt_and_a_tampered_amount_is_rejected() {
        let first = handler(event("charge.json"), &halo::Ctx::builder("req-1").build(), &State).await.unwrap();
        let retry = handler(event("charge-retry.json"), &halo::Ctx::builder("req-2").build(), &State).await.unwrap();
        assert_eq!(first.status_code, 201);
        assert_eq!(receipt(&first), receipt(&retry), "the same charge, not a second one");
        assert_eq!(receipt(&first)["charge_id"], "ch_req-1");
        let err = handler(event("charge-tampered.json"), &halo::Ctx::for_test(), &State).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (422, "PayloadMismatch"));
    }

    #[tokio::test]
    async fn a_request_without_payment_id_is_rejected() {
        let err = handler(event("charge-no-id.json"), &halo::Ctx::for_test(), &State).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "IdempotencyKeyMissing"));
    }
}
