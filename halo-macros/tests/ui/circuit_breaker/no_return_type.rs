#[halo::circuit_breaker(name = "payments")]
async fn charge(amount: u64) {
    let _ = amount;
}

fn main() {}
