#[halo::circuit_breaker(name = "payments", retries = 3)]
async fn charge(amount: u64) -> Result<u64, halo::Error> {
    Ok(amount)
}

fn main() {}
