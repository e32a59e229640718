//! A service author's tower layer (`Options::layer`) runs inside halo's
//! stack: the invocation's context is set when it sees the request, and
//! layers added first run outermost.

use std::sync::{Arc, Mutex};

use halo::test_support::HandlerService;
use halo::{Ctx, Error, Invocation, InvocationService, Options};
use tower::layer::layer_fn;
use tower::{Service, ServiceExt};

async fn echo(event: serde_json::Value, _: &Ctx) -> Result<serde_json::Value, Error> {
    Ok(event)
}

/// A layer that records its name and whether a current context is set.
fn recording(
    name: &'static str,
    seen: Arc<Mutex<Vec<String>>>,
) -> impl tower::Layer<InvocationService, Service = InvocationService> + Send + Sync + 'static {
    layer_fn(move |inner: InvocationService| {
        let seen = Arc::clone(&seen);
        InvocationService::new(inner.map_request(move |inv: Invocation| {
            let current = Ctx::current().map(|ctx| ctx.request_id().to_owned()).unwrap_or_default();
            seen.lock().unwrap().push(format!("{name}:{current}"));
            inv
        }))
    })
}

#[test]
fn layers_run_in_the_order_added_with_the_context_set() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let options =
        Options::from_env().layer(recording("outer", Arc::clone(&seen))).layer(recording("inner", Arc::clone(&seen)));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let response = runtime.block_on(async {
        let mut stack = halo::test_support::stack(HandlerService::new(echo), &options);
        let invocation = Invocation::new(r#"{"n":1}"#, Ctx::builder("req-7").build());
        stack.ready().await.unwrap().call(invocation).await.unwrap()
    });
    assert_eq!(response.get(), r#"{"n":1}"#);
    assert_eq!(*seen.lock().unwrap(), ["outer:req-7", "inner:req-7"]);
}
