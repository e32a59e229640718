#[halo::circuit_breaker(name = "payments", fallback = charge_later)]
async fn charge(amount: u64) -> Result<u64, halo::Error> {
    Ok(amount)
}

// The fallback must take the same parameters: here a `String`, not a `u64`.
async fn charge_later(account: String) -> Result<u64, halo::Error> {
    Ok(account.len() as u64)
}

fn main() {}
