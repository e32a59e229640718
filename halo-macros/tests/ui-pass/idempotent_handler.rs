//! `#[halo::idempotent]` under `#[halo::handler]`. The generated `main` sits
//! in a module so this test binary's own `main` (which trybuild runs) only
//! calls the handler, which stays an ordinary async fn.

mod app {
    use halo::idempotent;

    #[derive(serde::Serialize, serde::Deserialize)]
    pub struct Charge {
        pub payment_id: String,
        pub amount: u64,
    }

    #[halo::handler]
    #[idempotent(key = ["/payment_id"], validate = ["/amount"], wait = "500ms", local_cache = 100, expires_after = "1d")]
    pub async fn handler(charge: Charge, _ctx: &halo::Ctx) -> Result<Charge, halo::Error> {
        Ok(charge)
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let charge = app::Charge { payment_id: "p-1".into(), amount: 5 };
    let out = runtime.block_on(app::handler(charge, &halo::Ctx::for_test())).unwrap();
    assert_eq!((out.payment_id.as_str(), out.amount), ("p-1", 5));
}
