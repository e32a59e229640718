fn mark(response: String) -> String {
    response
}

#[halo::idempotent(key = ["/id"], on_replay = mark)]
async fn charge(event: serde_json::Value) -> Result<String, halo::Error> {
    Ok(event.to_string())
}

fn main() {}
