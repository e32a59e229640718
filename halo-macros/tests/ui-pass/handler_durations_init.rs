//! `timeout_margin` with `init`, and its `timeout_margin_ms` alias on a
//! second handler, each in its own module with its own `main`.
mod with_init {
    pub struct State;

    pub async fn init() -> Result<State, std::io::Error> {
        Ok(State)
    }

    #[halo::handler(init = init, timeout_margin = "1s")]
    pub async fn handler(event: String, _ctx: &halo::Ctx, _state: &State) -> Result<String, halo::Error> {
        Ok(event)
    }
}

mod with_alias {
    #[halo::handler(timeout_margin_ms = 250)]
    pub async fn handler(event: String, _ctx: &halo::Ctx) -> Result<String, halo::Error> {
        Ok(event)
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let ctx = halo::Ctx::for_test();
    assert_eq!(runtime.block_on(with_init::handler("a".into(), &ctx, &with_init::State)).unwrap(), "a");
    assert_eq!(runtime.block_on(with_alias::handler("b".into(), &ctx)).unwrap(), "b");
}
