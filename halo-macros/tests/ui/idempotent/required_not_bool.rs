#[halo::idempotent(key = ["/id"], required = "yes")]
async fn charge(event: serde_json::Value) -> Result<String, halo::Error> {
    Ok(event.to_string())
}

fn main() {}
