//! Cold start of a halo handler whose init builds what a real one does: an
//! outgoing HTTP client and a DynamoDB-backed idempotency store (the
//! shared AWS configuration and DynamoDB client). Nothing is sent: the
//! measurement ends at the first Runtime API poll.

struct State {
    _client: Option<halo::http::Client>,
    _store: Option<std::sync::Arc<dyn halo::idempotency::IdempotencyStore>>,
}

/// `COLD_START_PARTS=http` or `=store` builds only that part (to see what
/// each costs); unset, both.
async fn init() -> Result<State, halo::Error> {
    let parts = std::env::var("COLD_START_PARTS").unwrap_or_default();
    let client = if parts != "store" { Some(halo::http::Client::new()?) } else { None };
    let store = if parts != "http" { Some(halo::idempotency::store_from_env().await?) } else { None };
    Ok(State { _client: client, _store: store })
}

#[halo::handler(init = init)]
async fn handler(event: serde_json::Value, _ctx: &halo::Ctx, _state: &State) -> Result<serde_json::Value, halo::Error> {
    Ok(event)
}
