//! README "A handler": the same handler without the macro, with its own `main`
//! (the guide's `docs/handler.md`, "Without the macro", has the form with
//! `init` and options).

use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Order { id: String, amount_cents: u64 }

#[derive(Serialize)]
struct Receipt { id: String, status: &'static str }

async fn handler(order: Order, ctx: &halo::Ctx) -> Result<Receipt, halo::Error> {
    if order.amount_cents == 0 {
        return Err(halo::Error::unprocessable("amount must be positive"));
    }
    tracing::info!(order_id = %order.id, remaining_ms = ctx.remaining().as_millis() as u64, "accepted");
    Ok(Receipt { id: order.id, status: "accepted" })
}

fn main() -> std::process::ExitCode {
    // A current-thread runtime, or a multi-thread one on Lambda Managed
    // Instances (AWS_LAMBDA_MAX_CONCURRENCY above 1).
    halo::platform::block_on(halo::run(handler))
}
