//! The guide's `docs/idempotency.md` (its attributes are also in README
//! "A tour"): a charge that runs once per `payment_id`.

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use serde::Deserialize;

#[derive(Deserialize)]
struct Charge { payment_id: String, amount: u64 }

struct State { currency: String }

async fn init() -> Result<State, halo::Error> {
    Ok(State { currency: "EUR".to_owned() })
}

#[halo::handler(init = init)]
#[halo::idempotent(name = "charge", key = ["/body/payment_id"], validate = ["/body/amount"], wait = "2s")]
async fn handler(request: ApiGatewayProxyRequest, ctx: &halo::Ctx, state: &State)
    -> Result<halo::JsonResponse, halo::Error> {
    let charge: Charge = halo::decode_body(request.body.as_deref().unwrap_or_default())?;
    let token = halo::idempotency::current_token().unwrap_or_else(|| ctx.request_id().to_owned());
    tracing::info!(payment_id = %charge.payment_id, amount = charge.amount, "card charged");
    let receipt = serde_json::json!({
        "payment_id": charge.payment_id,
        "charge_id": format!("ch_{token}"),
        "amount": charge.amount,
        "currency": state.currency,
    });
    halo::JsonResponse::new(201, &receipt)
}
