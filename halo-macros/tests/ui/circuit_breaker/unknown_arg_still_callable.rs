// A typo in the arguments: the one error is the typo's; `charge` is kept,
// so its callers still compile.
#[halo::circuit_breaker(name = "payments", open_for = "5s", retries = 3)]
async fn charge(amount: u64) -> Result<u64, halo::Error> {
    Ok(amount)
}

async fn checkout(amount: u64) -> Result<u64, halo::Error> {
    let charged = charge(amount).await?;
    Ok(charged + 1)
}

fn main() {
    let _ = checkout(5);
}
