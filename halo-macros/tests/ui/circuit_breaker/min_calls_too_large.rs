#[halo::circuit_breaker(name = "payments", failure_rate = 0.5, min_calls = 4294967296)]
async fn charge(amount: u64) -> Result<u64, halo::Error> {
    Ok(amount)
}

fn main() {}
