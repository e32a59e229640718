//! `#[halo::idempotent]` above `#[halo::handler(init = ...)]`, store from
//! state. The generated `main` sits in a module so this binary's own `main`
//! (which trybuild runs) only calls the handler.

mod app {
    pub struct State {
        pub store: halo::idempotency::MemoryIdempotencyStore,
    }

    pub async fn init() -> Result<State, halo::durable::StoreError> {
        halo::idempotency::init().await?;
        Ok(State { store: halo::idempotency::MemoryIdempotencyStore::new() })
    }

    #[halo::idempotent(name = "orders", required = true, store = state.store)]
    #[halo::handler(init = init)]
    pub async fn handler(order: serde_json::Value, _ctx: &halo::Ctx, state: &State) -> Result<String, halo::Error> {
        Ok(order.to_string())
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let state = runtime.block_on(app::init()).unwrap();
    let order = serde_json::json!({ "id": "o-1" });
    let out = runtime.block_on(app::handler(order, &halo::Ctx::for_test(), &state)).unwrap();
    assert_eq!(out, r#"{"id":"o-1"}"#);
}
