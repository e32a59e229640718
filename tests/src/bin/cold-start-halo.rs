//! Cold start of a hello world on halo: `#[halo::handler]`, no init.

#[halo::handler]
async fn handler(event: serde_json::Value, _ctx: &halo::Ctx) -> Result<serde_json::Value, halo::Error> {
    Ok(event)
}
