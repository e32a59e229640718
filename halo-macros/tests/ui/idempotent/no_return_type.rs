#[halo::idempotent]
async fn charge(event: serde_json::Value) {
    let _ = event;
}

fn main() {}
