//! halo's outgoing HTTP client against real loopback servers: retries with
//! backoff on 5xx, the per-attempt timeout and the invocation's budget, and
//! correlation headers on every attempt.

use std::time::{Duration, Instant};

use halo_test_support::http_stub::HttpStub;

/// A stub whose `n`-th answer is `reply(n)` (`None`: hang), and its URL.
async fn stub(reply: fn(usize) -> Option<(u16, &'static str)>) -> (HttpStub, String) {
    let stub = HttpStub::start(move |n, _| reply(n).map(|(status, body)| (status, body.to_owned()))).await;
    let url = stub.url("/resource");
    (stub, url)
}

fn invocation(timeout: Duration) -> halo::Ctx {
    let ctx = halo::Ctx::builder("req-1").timeout(timeout).timeout_margin(Duration::from_millis(200)).build();
    let mut correlation = halo::correlation::Correlation::new("corr-http-1");
    correlation.debug = true;
    ctx.set_correlation(correlation);
    ctx
}

fn client() -> halo::http::Client {
    halo::http::Client::builder()
        .max_attempts(4)
        .attempt_timeout(Duration::from_millis(300))
        .backoff(Duration::from_millis(40), Duration::from_millis(200))
        .build()
        .unwrap()
}

#[tokio::test]
async fn retries_5xx_with_backoff_then_succeeds_and_carries_the_correlation_headers() {
    let (stub, url) = stub(|n| Some(if n <= 2 { (503, "busy") } else { (200, "ok") })).await;
    let ctx = invocation(Duration::from_secs(5));
    let response = ctx.scope(client().get(&url).send()).await.expect("the third attempt succeeds");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
    assert_eq!(stub.count(), 3);
    for request in stub.requests() {
        assert_eq!(request.header("x-correlation-id").as_deref(), Some("corr-http-1"), "{}", request.head);
        assert_eq!(request.header("debug-log-enabled").as_deref(), Some("true"), "{}", request.head);
        assert!(request.header("x-user-agent").is_some(), "{}", request.head);
    }
    // Full jitter: each wait is at most its ceiling (40 ms, then 80 ms), plus scheduling slack.
    let gaps = stub.gaps();
    assert!(gaps[0] <= Duration::from_millis(40 + 60), "{gaps:?}");
    assert!(gaps[1] <= Duration::from_millis(80 + 60), "{gaps:?}");
}

#[tokio::test]
async fn gives_up_after_the_attempt_limit_with_an_upstream_error() {
    let (stub, url) = stub(|_| Some((500, "down"))).await;
    let err = invocation(Duration::from_secs(5)).scope(client().get(&url).send()).await.unwrap_err();
    assert_eq!(err.status(), 502);
    assert_eq!(stub.count(), 4);
    assert!(err.source_chain().contains("last status 500"), "{}", err.source_chain());
}

#[tokio::test]
async fn does_not_retry_a_post_unless_asked() {
    let (stub, url) = stub(|_| Some((503, "busy"))).await;
    let ctx = invocation(Duration::from_secs(5));
    let err =
        ctx.clone().scope(client().post(&url).json(&serde_json::json!({"a": 1})).unwrap().send()).await.unwrap_err();
    assert_eq!(err.status(), 502);
    assert_eq!(stub.count(), 1);
    let _ = ctx.scope(client().post(&url).retry_non_idempotent().send()).await;
    assert_eq!(stub.count(), 5, "1 + 4 attempts when retries are allowed");
}

#[tokio::test]
async fn four_xx_answers_are_returned_not_retried() {
    let (stub, url) = stub(|_| Some((404, "nope"))).await;
    let response = invocation(Duration::from_secs(5)).scope(client().get(&url).send()).await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn a_hanging_server_times_out_within_the_invocation_budget() {
    let (stub, url) = stub(|_| None).await;
    // 1 s to the deadline, 200 ms margin: 800 ms of budget for 4 attempts of 300 ms.
    let ctx = invocation(Duration::from_secs(1));
    let started = Instant::now();
    let err = ctx.scope(client().get(&url).send()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.status(), 504);
    assert!(elapsed <= Duration::from_millis(800 + 100), "stopped at the budget: {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(550), "at least two attempts ran: {elapsed:?}");
    let attempts = stub.count();
    assert!((2..=3).contains(&attempts), "attempts bounded by the budget, got {attempts}");
}

#[tokio::test]
async fn outside_an_invocation_there_is_no_budget_and_no_correlation_header() {
    let (stub, url) = stub(|_| Some((200, "ok"))).await;
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(stub.requests()[0].header("x-correlation-id").is_none());
}

/// The TLS set-up is made once per process: after the first client, a new
/// one costs microseconds (the figure the docs promise is under 0.5 ms),
/// and every client still works.
#[tokio::test]
async fn a_second_client_is_cheap_and_works() {
    let _first = halo::http::Client::new().unwrap();
    let started = Instant::now();
    let clients: Vec<_> = (0..100).map(|_| halo::http::Client::new().unwrap()).collect();
    let each = started.elapsed() / 100;
    assert!(each < Duration::from_micros(500), "{each:?} per client");
    let (stub, url) = stub(|_| Some((200, "{}"))).await;
    for client in &clients[..3] {
        assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    }
    assert_eq!(stub.count(), 3);
}
