//! `#[halo::idempotent]` above `#[halo::handler(init = ...)]`, store from state.

struct State {
    store: halo::idempotency::MemoryStore,
}

async fn init() -> Result<State, halo::idempotency::StoreError> {
    halo::idempotency::init().await?;
    Ok(State { store: halo::idempotency::MemoryStore::new() })
}

#[halo::idempotent(name = "orders", required = true, store = state.store)]
#[halo::handler(init = init)]
async fn handler(order: serde_json::Value, _ctx: &halo::Ctx, state: &State) -> Result<String, halo::Error> {
    Ok(order.to_string())
}
