#[halo::handler(timeout_margin = "500ms", timeout_margin_ms = 500)]
async fn handler(event: String, _ctx: &halo::Ctx) -> Result<String, halo::Error> {
    Ok(event)
}
