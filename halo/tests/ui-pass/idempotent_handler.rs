//! `#[halo::idempotent]` under `#[halo::handler]`, with and without init.

use halo::idempotent;

#[derive(serde::Serialize, serde::Deserialize)]
struct Charge {
    payment_id: String,
    amount: u64,
}

#[halo::handler]
#[idempotent(key = ["/payment_id"], validate = ["/amount"], wait = "500ms", local_cache = 100, expires_after = "1d")]
async fn handler(charge: Charge, _ctx: &halo::Ctx) -> Result<Charge, halo::Error> {
    Ok(charge)
}
