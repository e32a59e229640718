// A syntax error while editing: rustc's error is the only one. The
// function is kept as written, so its caller below is not reported.
#[halo::circuit_breaker(name = "payments", fallback = charge_later)]
async fn charge(amount: u64) -> Result<u64, halo::Error> {
    let doubled = amount * ;
    Ok(doubled)
}

async fn charge_later(amount: u64) -> Result<u64, halo::Error> {
    Ok(amount)
}

async fn checkout(amount: u64) -> Result<u64, halo::Error> {
    let charged = charge(amount).await?;
    Ok(charged + 1)
}

fn main() {
    let _ = checkout(5);
}
