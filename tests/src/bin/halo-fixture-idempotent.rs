//! An idempotent handler on the default store, with no init of its own:
//! for the test that inside Lambda a missing `HALO_IDEMPOTENCY_TABLE`
//! fails the container's init without the user calling
//! `halo::idempotency::init()`.

#[halo::handler]
#[halo::idempotent(name = "fixture-charge", key = ["/id"])]
async fn handler(event: serde_json::Value, _ctx: &halo::Ctx) -> Result<serde_json::Value, halo::Error> {
    Ok(serde_json::json!({ "charged": event["id"] }))
}
