// A syntax error while editing: rustc's error is the only one. The
// function is kept as written, so its caller below is not reported.
#[halo::idempotent(key = ["/id"])]
async fn charge(event: serde_json::Value) -> Result<String, halo::Error> {
    let id = event["id"].as_str().unwrap_or_default() +;
    Ok(id.to_owned())
}

async fn caller() -> Result<String, halo::Error> {
    charge(serde_json::json!({ "id": "o-1" })).await
}

fn main() {
    let _ = caller();
}
