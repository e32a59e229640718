//! A handler whose binary uses two stores from the environment, with no
//! init of its own: `#[halo::idempotent]` on a function the handler calls
//! (not on the handler) and a `#[halo::saga_step]`. For the tests that
//! inside Lambda a missing `HALO_IDEMPOTENCY_TABLE` or `HALO_SAGA_TABLE`
//! fails the container's init, though no code of the user's asks for it.

use halo::saga::{Saga, StepCtx};

#[halo::idempotent(name = "fixture-charge", key = ["/id"])]
async fn charge(event: serde_json::Value) -> Result<serde_json::Value, halo::Error> {
    Ok(serde_json::json!({ "charged": event["id"] }))
}

#[halo::saga_step]
async fn reserve(_ctx: &StepCtx, id: String) -> Result<String, halo::Error> {
    Ok(format!("reserved {id}"))
}

#[halo::handler]
async fn handler(event: serde_json::Value, _ctx: &halo::Ctx) -> Result<serde_json::Value, halo::Error> {
    let id = event["id"].as_str().unwrap_or_default().to_owned();
    let log = halo::saga::log_from_env().await?;
    let reserved = Saga::<String>::new("fixture").step(reserve).run(&*log, &id, id.clone()).await?;
    let mut charged = charge(event).await?;
    charged["reserved"] = serde_json::json!(reserved);
    Ok(charged)
}
