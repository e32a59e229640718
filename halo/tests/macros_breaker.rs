//! `#[halo::circuit_breaker]` at run time: the fallback answers for
//! downstream failures and an open circuit, not for the caller's own
//! errors. (Its compile-time behaviour is in halo-macros' UI tests.)

use std::sync::atomic::{AtomicU32, Ordering};

static CALLS: AtomicU32 = AtomicU32::new(0);

#[halo::circuit_breaker(name = "inventory-test", consecutive_failures = 2, open_for = "1h", fallback = stock_unknown)]
async fn stock(sku: String, fail: bool) -> Result<i64, halo::Error> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    if sku.is_empty() {
        return Err(halo::Error::bad_request("empty sku"));
    }
    if fail { Err(halo::Error::upstream("inventory answered 503")) } else { Ok(7) }
}

async fn stock_unknown(_sku: String, _fail: bool) -> Result<i64, halo::Error> {
    Ok(-1)
}

#[tokio::test]
async fn the_fallback_answers_failures_and_an_open_circuit_but_not_caller_errors() {
    assert_eq!(stock("sku-1".into(), false).await.unwrap(), 7);
    let err = stock(String::new(), false).await.unwrap_err();
    assert_eq!(err.code(), "BadRequest", "a 4xx is the caller's, not the downstream's: no fallback");
    assert_eq!(stock("sku-1".into(), true).await.unwrap(), -1, "a failure gets the fallback");
    assert_eq!(stock("sku-1".into(), true).await.unwrap(), -1);
    let before = CALLS.load(Ordering::SeqCst);
    // Open now: the fallback answers without calling the function.
    assert_eq!(stock("sku-1".into(), false).await.unwrap(), -1);
    assert_eq!(CALLS.load(Ordering::SeqCst), before, "an open circuit does not run the body");
}
