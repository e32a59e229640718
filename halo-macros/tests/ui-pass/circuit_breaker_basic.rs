//! Every argument of `#[halo::circuit_breaker]`, with a fallback taking
//! references and owned values.

#[derive(Clone)]
pub struct Client;

#[halo::circuit_breaker(
    name = "payments",
    consecutive_failures = 5,
    failure_rate = 0.5,
    window = "30s",
    min_calls = 20,
    open_for = "5s",
    max_open_for = "5m",
    half_open_probes = 2,
    close_after = 2,
    half_open_timeout = "30s",
    refresh = "2s",
    fallback = charge_later
)]
pub async fn charge(client: &Client, account: String, amount: u64) -> Result<String, halo::Error> {
    let _ = client;
    Ok(format!("{account}:{amount}"))
}

async fn charge_later(_client: &Client, account: String, _amount: u64) -> Result<String, halo::Error> {
    Ok(format!("{account}:queued"))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let out = runtime.block_on(charge(&Client, "acct-1".into(), 5)).unwrap();
    assert_eq!(out, "acct-1:5");
}
