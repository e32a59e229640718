#[derive(serde::Serialize)]
struct Receipt {
    id: String,
}

#[halo::idempotent]
async fn charge(event: serde_json::Value) -> Result<Receipt, halo::Error> {
    Ok(Receipt { id: event.to_string() })
}

fn main() {}
