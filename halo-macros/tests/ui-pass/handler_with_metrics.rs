//! `metrics` alone requires metrics; `metrics = false` turns them off. The
//! generated `main`s sit in modules so this test binary's own `main`
//! (which trybuild runs) only calls the handlers.
mod required {
    use halo::metrics::{self, Unit};

    #[halo::handler(metrics, timeout_margin = "300ms")]
    pub async fn handler(event: String, _ctx: &halo::Ctx) -> Result<String, halo::Error> {
        metrics::add_metric("Greetings", Unit::Count, 1.0)?;
        Ok(event)
    }
}

mod off {
    #[halo::handler(metrics = false)]
    pub async fn handler(event: String, _ctx: &halo::Ctx) -> Result<String, halo::Error> {
        Ok(event)
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(runtime.block_on(required::handler("e".into(), &halo::Ctx::for_test())).unwrap(), "e");
    assert_eq!(runtime.block_on(off::handler("f".into(), &halo::Ctx::for_test())).unwrap(), "f");
}
