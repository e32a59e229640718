#[halo::idempotent]
async fn charge((id, amount): (String, u64)) -> Result<String, halo::Error> {
    Ok(format!("{id}{amount}"))
}

fn main() {}
