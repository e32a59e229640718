#[halo::handler(timeout = 3)]
async fn handler(event: String, _ctx: &halo::Ctx) -> Result<String, halo::Error> {
    Ok(event)
}
