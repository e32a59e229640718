#[halo::circuit_breaker(name = "payments", window = "30s")]
async fn charge(amount: u64) -> Result<u64, halo::Error> {
    Ok(amount)
}

fn main() {}
