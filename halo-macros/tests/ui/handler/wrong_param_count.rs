#[halo::handler]
async fn handler(event: String) -> Result<String, halo::Error> {
    Ok(event)
}
