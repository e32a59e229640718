#[halo::idempotent(key = ["/id", "body.order_id"])]
async fn charge(event: serde_json::Value) -> Result<String, halo::Error> {
    Ok(event.to_string())
}

fn main() {}
