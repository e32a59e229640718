//! The generated `main` sits in a module so this test binary's own `main`
//! (which trybuild runs) does nothing.
mod app {
    #[derive(serde::Deserialize)]
    pub struct Order {
        pub id: String,
    }

    #[halo::handler]
    pub async fn handler(order: Order, ctx: &halo::Ctx) -> Result<String, halo::Error> {
        Ok(format!("{} in {}", order.id, ctx.request_id()))
    }
}

fn main() {
    // The handler stays an ordinary async fn that tests can call.
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let out = runtime.block_on(app::handler(app::Order { id: "o-1".into() }, &halo::Ctx::for_test())).unwrap();
    assert_eq!(out, "o-1 in test-request");
}
