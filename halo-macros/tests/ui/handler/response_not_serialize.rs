struct Receipt;

#[halo::handler]
async fn handler(_event: String, _ctx: &halo::Ctx) -> Result<Receipt, halo::Error> {
    Ok(Receipt)
}
