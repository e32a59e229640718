#[halo::idempotent(payload = request)]
async fn charge(event: serde_json::Value, _ctx: &halo::Ctx) -> Result<String, halo::Error> {
    Ok(event.to_string())
}

fn main() {}
