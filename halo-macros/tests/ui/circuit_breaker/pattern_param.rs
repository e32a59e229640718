#[halo::circuit_breaker(name = "payments")]
async fn charge((account, amount): (String, u64)) -> Result<String, halo::Error> {
    Ok(format!("{account}:{amount}"))
}

fn main() {}
