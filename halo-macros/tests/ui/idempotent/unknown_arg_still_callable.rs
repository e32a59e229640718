// A typo in the arguments: the one error is the typo's; `charge` is kept,
// so its callers still compile.
#[halo::idempotent(key = ["/id"], expire_after = "1h")]
async fn charge(event: serde_json::Value) -> Result<String, halo::Error> {
    Ok(event.to_string())
}

async fn checkout() -> Result<String, halo::Error> {
    charge(serde_json::json!({ "id": 1 })).await
}

fn main() {
    let _ = checkout();
}
