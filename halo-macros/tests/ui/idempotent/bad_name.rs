#[halo::idempotent(name = "pay#ments")]
async fn charge(event: serde_json::Value) -> Result<String, halo::Error> {
    Ok(event.to_string())
}

fn main() {}
