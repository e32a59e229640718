//! `timeout_margin` as a duration string. The generated `main` sits in a
//! module so this test binary's own `main` (which trybuild runs) only calls
//! the handler.
mod app {
    #[halo::handler(timeout_margin = "500ms")]
    pub async fn handler(event: String, _ctx: &halo::Ctx) -> Result<String, halo::Error> {
        Ok(event)
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(runtime.block_on(app::handler("e".into(), &halo::Ctx::for_test())).unwrap(), "e");
}
