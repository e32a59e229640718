#[halo::circuit_breaker(name = "payments", failure_rate = 50)]
async fn charge(amount: u64) -> Result<u64, halo::Error> {
    Ok(amount)
}

fn main() {}
