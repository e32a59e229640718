//! The README snippets compiled into the new user's library, called.

use halo_new_user::{payment, propagate_everywhere};

#[tokio::test(flavor = "current_thread")]
async fn the_breaker_opens_after_five_failures_and_the_fallback_answers() {
    assert!(payment("inv-1".into()).await.expect("live").live);
    for _ in 0..5 {
        let part = payment(String::new()).await;
        assert!(part.map(|p| !p.live).unwrap_or(true), "a failure is the error or the fallback");
    }
    let part = payment("inv-1".into()).await.expect("the fallback answers while open");
    assert!(!part.live, "open: the fallback's degraded part");
}

#[tokio::test(flavor = "current_thread")]
async fn propagation_carries_the_invocation_correlation_id() {
    let ctx = halo::Ctx::for_test();
    ctx.set_correlation_id("corr-42");
    let (detail, payload, headers, attributes) =
        ctx.scope(async { propagate_everywhere(serde_json::json!({}), serde_json::json!({})) }).await;
    assert!(detail.to_string().contains("corr-42"), "{detail}");
    assert!(payload.to_string().contains("corr-42"), "{payload}");
    assert!(headers > 0 && attributes > 0);

    let (detail, _, headers, _) = propagate_everywhere(serde_json::json!({}), serde_json::json!({}));
    assert_eq!((detail, headers), (serde_json::json!({}), 0), "outside an invocation there is nothing to carry");
}
