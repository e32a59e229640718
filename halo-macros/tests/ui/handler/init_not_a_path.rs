#[halo::handler(init = "init")]
async fn handler(event: String, _ctx: &halo::Ctx) -> Result<String, halo::Error> {
    Ok(event)
}
