//! A guarded function that takes the handler's state and context by
//! reference: the state is built by `init`, is not `Clone`, and reaches
//! the fallback as the same reference; a `&mut` parameter is lent to the
//! call and then handed to the fallback.

mod app {
    /// Built once by `init`; deliberately not `Clone`.
    pub struct Services {
        pub prices: std::collections::HashMap<String, u64>,
        pub fallback_price: u64,
    }

    pub async fn init() -> Result<Services, halo::Error> {
        Ok(Services { prices: [("sku-1".to_owned(), 7)].into(), fallback_price: 1 })
    }

    #[halo::circuit_breaker(name = "prices", consecutive_failures = 2, fallback = cached_price)]
    pub async fn price(services: &Services, ctx: &halo::Ctx, sku: String) -> Result<u64, halo::Error> {
        let _ = ctx.request_id();
        services.prices.get(&sku).copied().ok_or_else(|| halo::Error::upstream("pricing answered 503"))
    }

    async fn cached_price(services: &Services, _ctx: &halo::Ctx, _sku: String) -> Result<u64, halo::Error> {
        Ok(services.fallback_price)
    }

    #[halo::circuit_breaker(name = "counter", fallback = count_locally)]
    pub async fn count(counter: &mut u64) -> Result<u64, halo::Error> {
        *counter += 1;
        Err(halo::Error::upstream("counter answered 503"))
    }

    async fn count_locally(counter: &mut u64) -> Result<u64, halo::Error> {
        *counter += 10;
        Ok(*counter)
    }

    #[halo::handler(init = init)]
    pub async fn handler(sku: String, ctx: &halo::Ctx, services: &Services) -> Result<u64, halo::Error> {
        price(services, ctx, sku).await
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let services = runtime.block_on(app::init()).unwrap();
    let ctx = halo::Ctx::for_test();
    assert_eq!(runtime.block_on(app::handler("sku-1".into(), &ctx, &services)).unwrap(), 7);
    assert_eq!(runtime.block_on(app::handler("sku-2".into(), &ctx, &services)).unwrap(), 1, "the fallback");
    let mut counter = 0;
    assert_eq!(runtime.block_on(app::count(&mut counter)).unwrap(), 11, "the call, then the fallback");
    assert_eq!(counter, 11);
}
