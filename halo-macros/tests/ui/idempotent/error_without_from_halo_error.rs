#[derive(Debug)]
struct MyError;

#[halo::idempotent]
async fn charge(event: serde_json::Value) -> Result<String, MyError> {
    Ok(event.to_string())
}

fn main() {}
