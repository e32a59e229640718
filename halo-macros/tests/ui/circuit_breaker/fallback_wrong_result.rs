#[halo::circuit_breaker(name = "payments", fallback = charge_later)]
async fn charge(amount: u64) -> Result<u64, halo::Error> {
    Ok(amount)
}

// The fallback must return what the guarded function returns.
async fn charge_later(_amount: u64) -> Result<String, halo::Error> {
    Ok("later".into())
}

fn main() {}
