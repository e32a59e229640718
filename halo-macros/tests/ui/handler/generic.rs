#[halo::handler]
async fn handler<E: serde::de::DeserializeOwned>(_event: E, _ctx: &halo::Ctx) -> Result<String, halo::Error> {
    Ok(String::new())
}
