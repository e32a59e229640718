#[halo::handler(metrics = "Orders")]
async fn handler(event: String, _ctx: &halo::Ctx) -> Result<String, halo::Error> {
    Ok(event)
}
