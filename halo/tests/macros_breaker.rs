//! `#[halo::circuit_breaker]` at run time: the fallback answers for
//! downstream failures and an open circuit, not for the caller's own
//! errors. (Its compile-time behaviour is in halo-macros' UI tests.)

use std::sync::atomic::{AtomicU32, Ordering};

use tracing_subscriber::layer::SubscriberExt;

static CALLS: AtomicU32 = AtomicU32::new(0);

#[halo::circuit_breaker(name = "inventory-test", consecutive_failures = 2, open_for = "1h", fallback = stock_unknown)]
async fn stock(sku: String, fail: bool) -> Result<i64, halo::Error> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    if sku.is_empty() {
        return Err(halo::Error::bad_request("empty sku"));
    }
    if fail { Err(halo::Error::upstream("inventory answered 503")) } else { Ok(7) }
}

/// -1 for an open circuit, the failure's status (negated) otherwise.
async fn stock_unknown(_sku: String, _fail: bool) -> Result<i64, halo::Error> {
    match halo::breaker::FallbackReason::current() {
        Some(halo::breaker::FallbackReason::CircuitOpen { retry_after }) => {
            assert!(retry_after.is_some());
            Ok(-1)
        }
        Some(halo::breaker::FallbackReason::Failure { status, code }) => {
            assert_eq!(code, "UpstreamError");
            Ok(-i64::from(status))
        }
        _ => Ok(0),
    }
}

#[tokio::test]
async fn the_fallback_answers_failures_and_an_open_circuit_but_not_caller_errors() {
    assert_eq!(stock("sku-1".into(), false).await.unwrap(), 7);
    let err = stock(String::new(), false).await.unwrap_err();
    assert_eq!(err.code(), "BadRequest", "a 4xx is the caller's, not the downstream's: no fallback");
    let lines = halo::log::CapturedLines::default();
    let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(lines.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);
    assert_eq!(stock("sku-1".into(), true).await.unwrap(), -502, "a failure gets the fallback, which sees why");
    assert_eq!(stock("sku-1".into(), true).await.unwrap(), -502);
    let counted: Vec<_> =
        lines.json().into_iter().filter(|l| l["message"] == "circuit breaker counted a failure").collect();
    assert_eq!(counted.len(), 2, "each counted failure is a WARN line");
    for line in &counted {
        assert_eq!(
            (&line["level"], &line["breaker"], &line["status"]),
            (&"WARN".into(), &"inventory-test".into(), &502.into())
        );
        assert!(!line.to_string().contains("answered 503"), "never the error's text");
    }
    let before = CALLS.load(Ordering::SeqCst);
    // Open now: the fallback answers without calling the function.
    assert_eq!(stock("sku-1".into(), false).await.unwrap(), -1, "an open circuit, seen by the fallback");
    assert_eq!(CALLS.load(Ordering::SeqCst), before, "an open circuit does not run the body");
}

/// The handler's state, built by its `init`: not `Clone`, and lent to the
/// guarded function and its fallback.
struct Services {
    quotes: std::sync::Mutex<Vec<String>>,
    cached: i64,
}

#[halo::circuit_breaker(name = "quotes-test", consecutive_failures = 1, open_for = "1h", fallback = cached_quote)]
async fn quote(services: &Services, ctx: &halo::Ctx, sku: String) -> Result<i64, halo::Error> {
    services.quotes.lock().unwrap().push(format!("{}:{sku}", ctx.request_id()));
    if sku == "down" { Err(halo::Error::upstream("quotes answered 503")) } else { Ok(10) }
}

async fn cached_quote(services: &Services, ctx: &halo::Ctx, sku: String) -> Result<i64, halo::Error> {
    services.quotes.lock().unwrap().push(format!("{}:{sku}:fallback", ctx.request_id()));
    Ok(services.cached)
}

#[tokio::test]
async fn a_guarded_function_takes_the_state_and_context_by_reference_and_so_does_its_fallback() {
    let services = Services { quotes: std::sync::Mutex::new(Vec::new()), cached: 3 };
    let ctx = halo::Ctx::for_test();
    let id = ctx.request_id().to_owned();
    assert_eq!(quote(&services, &ctx, "sku-1".into()).await.unwrap(), 10);
    assert_eq!(quote(&services, &ctx, "down".into()).await.unwrap(), 3, "the failure gets the fallback");
    assert_eq!(quote(&services, &ctx, "sku-1".into()).await.unwrap(), 3, "open: only the fallback runs");
    assert_eq!(
        *services.quotes.lock().unwrap(),
        [format!("{id}:sku-1"), format!("{id}:down"), format!("{id}:down:fallback"), format!("{id}:sku-1:fallback")]
    );
}
