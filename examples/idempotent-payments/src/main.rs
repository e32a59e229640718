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
//! `PAYMENT_PROVIDER_URL` names the payment provider, called with the call's
//! idempotency token as its `Idempotency-Key` (without it the charge is only
//! logged).

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use halo::idempotent;
use serde::{Deserialize, Serialize};
use serde_json::error::Category;

/// The largest amount this example accepts, in minor units.
const MAX_AMOUNT: u64 = 1_000_000;

/// The payment provider's base URL; without it the charge is only logged.
const PROVIDER_ENV: &str = "PAYMENT_PROVIDER_URL";

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

/// The payment provider: `POST {PAYMENT_PROVIDER_URL}/charges`, which
/// charges once per `Idempotency-Key` and answers a repeated key with the
/// first charge.
struct Provider {
    client: halo::http::Client,
    base_url: String,
}

impl Provider {
    async fn charge(&self, token: &str, charge_id: &str, charge: &ChargeRequest) -> Result<(), halo::Error> {
        let body = serde_json::json!({ "charge_id": charge_id, "amount": charge.amount, "currency": charge.currency });
        let response = self
            .client
            .post(format!("{}/charges", self.base_url.trim_end_matches('/')))
            .header("idempotency-key", token)
            .json(&body)?
            // The provider deduplicates by key, so a POST may be retried.
            .retry_non_idempotent()
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(halo::Error::upstream("the payment provider refused the charge")
                .with_source(format!("POST /charges: status {}", response.status())));
        }
        Ok(())
    }
}

/// Per-container state: the payment provider, if one is configured.
struct State {
    provider: Option<Provider>,
}

type InitError = Box<dyn std::error::Error + Send + Sync>;

/// Builds the provider client when `PAYMENT_PROVIDER_URL` is set. halo
/// resolves the idempotency store itself after this init (the handler's
/// `#[idempotent]` names no store): DynamoDB when `HALO_IDEMPOTENCY_TABLE`
/// is set, the in-memory store in a local run, and an init error inside
/// Lambda without a table.
async fn init() -> Result<State, InitError> {
    let provider = match std::env::var(PROVIDER_ENV).ok().filter(|url| !url.trim().is_empty()) {
        Some(base_url) => Some(Provider { client: halo::http::Client::new()?, base_url }),
        None => None,
    };
    Ok(State { provider })
}

/// Charges the card once per `payment_id`.
#[halo::handler(init = init)]
#[idempotent(name = "charge", key = ["/body/payment_id"], validate = ["/body/amount"], required = true, wait = "2s")]
async fn handler(
    request: ApiGatewayProxyRequest,
    ctx: &halo::Ctx,
    state: &State,
) -> Result<halo::JsonResponse, halo::Error> {
    let charge = parse_charge(request.body.as_deref().unwrap_or_default())?;
    if charge.amount == 0 || charge.amount > MAX_AMOUNT {
        return Err(halo::Error::unprocessable(format!("`amount` must be between 1 and {MAX_AMOUNT}")));
    }
    // The call's idempotency token is the same on every retry of this
    // payment_id, even after a container died mid-call: the provider
    // deduplicates on it and the charge id derived from it never changes.
    // (It is absent only with idempotency turned off.)
    let token = halo::idempotency::current_token().unwrap_or_else(|| ctx.request_id().to_owned());
    let charge_id = format!("ch_{token}");
    if let Some(provider) = &state.provider {
        provider.charge(&token, &charge_id, &charge).await?;
    }
    tracing::info!(payment_id = %charge.payment_id, amount = charge.amount, charge_id = %charge_id, "card charged");
    let receipt = Receipt {
        payment_id: &charge.payment_id,
        charge_id,
        amount: charge.amount,
        currency: &charge.currency,
        status: "succeeded",
    };
    halo::JsonResponse::new(201, &receipt)
}

/// The fields of a charge request, for error messages.
const FIELDS: [&str; 3] = ["payment_id", "amount", "currency"];

/// Parses the body. The error message names at most a field of
/// [`ChargeRequest`], never the caller's text (serde's messages quote the
/// offending value).
fn parse_charge(body: &str) -> Result<ChargeRequest, halo::Error> {
    let invalid = |message: String| halo::Error::bad_request(message).with_code("InvalidCharge");
    let not_json = || invalid("the body is not valid JSON".to_owned());
    let mut de = serde_json::Deserializer::from_str(body);
    let charge: ChargeRequest = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.classify() != Category::Data {
            return not_json();
        }
        let reason = inner.to_string();
        let field = FIELDS.iter().find(|field| path == **field);
        let missing = FIELDS.iter().find(|field| reason.starts_with(&format!("missing field `{field}`")));
        invalid(match (field, missing) {
            (Some(field), _) => format!("the body is not a charge request: `{field}` has the wrong type or value"),
            (None, Some(field)) => format!("the body is not a charge request: `{field}` is missing"),
            (None, None) => {
                "the body is not a charge request: an object with `payment_id`, `amount` and `currency`".to_owned()
            }
        })
    })?;
    de.end().map_err(|_| not_json())?;
    Ok(charge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(file: &str) -> ApiGatewayProxyRequest {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events").join(file);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn receipt(response: &halo::JsonResponse) -> serde_json::Value {
        serde_json::from_str(response.body()).unwrap()
    }

    // Unit tests run on the in-memory store (no table configured, not in
    // Lambda) and without a payment provider.
    const LOCAL: State = State { provider: None };

    #[tokio::test]
    async fn a_retry_gets_the_same_receipt_and_a_tampered_amount_is_rejected() {
        let first = handler(event("charge.json"), &halo::Ctx::builder("req-1").build(), &LOCAL).await.unwrap();
        let retry = handler(event("charge-retry.json"), &halo::Ctx::builder("req-2").build(), &LOCAL).await.unwrap();
        assert_eq!(first.status(), 201);
        assert_eq!(receipt(&first), receipt(&retry), "the same charge, not a second one");
        let key = halo::idempotency::key_for("charge", &serde_json::json!("pay_7Hq2"));
        let token = halo::idempotency::token_for(&key);
        assert_eq!(receipt(&first)["charge_id"], format!("ch_{token}"), "derived from the idempotency token");
        let err = handler(event("charge-tampered.json"), &halo::Ctx::for_test(), &LOCAL).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (422, "PayloadMismatch"));
    }

    #[tokio::test]
    async fn a_request_without_payment_id_is_rejected() {
        let err = handler(event("charge-no-id.json"), &halo::Ctx::for_test(), &LOCAL).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "IdempotencyKeyMissing"));
    }

    #[test]
    fn invalid_bodies_name_the_field_never_the_callers_text() {
        let cases = [
            (
                r#"{"payment_id": "p", "amount": "<img src=x onerror=alert(1)>", "currency": "EUR"}"#,
                "`amount` has the wrong type or value",
            ),
            (
                r#"{"payment_id": {"<script>": 1}, "amount": 5, "currency": "EUR"}"#,
                "`payment_id` has the wrong type or value",
            ),
            (r#"{"payment_id": "<script>alert(1)</script>", "amount": 5}"#, "`currency` is missing"),
            (r#""<script>alert(1)</script>""#, "an object with `payment_id`"),
            (r#"{"payment_id": "p", "amount": 5, "currency": "EUR"} <script>"#, "the body is not valid JSON"),
            ("<script>alert(1)</script>", "the body is not valid JSON"),
            (r#"{"payment_id": "p", "amount": -7, "currency": "EUR"}"#, "`amount` has the wrong type or value"),
        ];
        for (body, expected) in cases {
            let err = parse_charge(body).unwrap_err();
            assert_eq!((err.status(), err.code()), (400, "InvalidCharge"), "{body}");
            assert!(err.message().contains(expected), "{body}: {}", err.message());
            for hostile in ["<script>", "<img", "alert", "-7", "onerror"] {
                assert!(!err.message().contains(hostile), "{body}: {}", err.message());
            }
        }
        assert_eq!(parse_charge(r#"{"payment_id": "p", "amount": 5, "currency": "EUR"}"#).unwrap().amount, 5);
    }
}
