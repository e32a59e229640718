#[halo::handler]
async fn handler(event: String, ctx: halo::Ctx) -> Result<String, halo::Error> {
    let _ = ctx;
    Ok(event)
}
