//! The strangler façade in front of a legacy service written apart from
//! halo (Python's standard library, on loopback), served by halo's `serve`
//! over real HTTP: every request the façade forwards reaches the legacy
//! service as a direct request would (methods, encoded paths, repeated
//! query keys and headers, cookies, binary and 1 MB bodies) and its answer
//! comes back as it went (status, redirects, 5xx, each `set-cookie`,
//! binary bodies); a route moved by a parameter change on SSM (moto) after
//! the refresh, no restart; a failing or stopped legacy service opens the
//! breaker, after which it gets no request.
#![cfg(all(feature = "axum", feature = "http-client", feature = "ssm"))]

use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use halo::breaker::{BreakerPolicy, CircuitBreaker};
use halo::params::{LiveConfig, Params, SsmSource};
use halo::strangler::{Legacy, RouteMode, Routing, Strangler};
use halo_test_support::legacy_stub::{LegacyStub, RawAnswer, send};
use halo_test_support::moto::{Moto, put_string_parameter, unique_name};
use serde_json::{Value, json};

/// The new service: its version of one legacy route.
fn new_service() -> Router {
    async fn order(Path(id): Path<String>) -> axum::Json<Value> {
        axum::Json(json!({"id": id, "total": 10, "status": "open", "source": "new"}))
    }
    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "late"
    }
    Router::new()
        .route("/orders/{id}", get(order))
        .route("/echo/routed", get(|| async { "new" }))
        .route("/slow", get(slow))
}

/// The façade around the new service, served on a free loopback port.
async fn serve(facade: Router) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(halo::http::serve(facade, listener));
    port
}

fn breaker(name: &str) -> CircuitBreaker {
    let policy =
        BreakerPolicy::default().consecutive_failures(3).open_for(Duration::from_secs(60), Duration::from_secs(60));
    CircuitBreaker::new(name, policy)
}

async fn facade(legacy: &LegacyStub, routing: Routing, breaker_name: &str) -> u16 {
    let legacy = Legacy::new(&legacy.url()).unwrap().breaker(breaker(breaker_name));
    serve(Strangler::new(legacy, LiveConfig::fixed(routing)).wrap(new_service())).await
}

/// A request: method, target, headers, body.
type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Vec<u8>);

fn values<'a>(headers: &'a Value, name: &str) -> Vec<&'a str> {
    headers.as_array().unwrap().iter().filter(|h| h[0] == name).map(|h| h[1].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_request_reaches_the_legacy_service_as_a_direct_one_and_its_answer_comes_back_as_it_went() {
    let legacy = LegacyStub::start();
    let port = facade(&legacy, Routing::new(), "fidelity").await;

    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let megabyte = format!("{{\"data\": \"{}\"}}", "x".repeat(1024 * 1024)).into_bytes();
    let cases: [Case<'_>; 7] = [
        (
            "GET",
            "/echo/a%2Fb%20c/%E2%9C%93?tag=a&tag=b&tag=&q=%26x%3D1",
            vec![("cookie", "session=1"), ("cookie", "theme=dark"), ("accept", "*/*"), ("x-tag", "a"), ("x-tag", "b")],
            Vec::new(),
        ),
        ("POST", "/echo/upload", vec![("content-type", "application/octet-stream")], binary.clone()),
        ("PUT", "/echo/big", vec![("content-type", "application/json")], megabyte),
        ("PATCH", "/echo/p?x=1", vec![("content-type", "text/plain; charset=utf-8")], "é€😀".as_bytes().to_vec()),
        ("DELETE", "/echo/d", vec![("authorization", "Bearer t")], Vec::new()),
        ("OPTIONS", "/echo/o", vec![("origin", "https://shop.example.com")], Vec::new()),
        // A route of the new router switched to legacy (the default).
        ("GET", "/echo/routed?via=route", vec![], Vec::new()),
    ];
    for (method, target, headers, body) in cases {
        let mut sent = headers.clone();
        sent.extend([
            ("x-correlation-id", "fidelity-1"),
            ("keep-alive", "timeout=5"),
            ("connection", "x-hop"),
            ("x-hop", "s"),
        ]);
        let direct = send(legacy.port(), method, target, &headers, &body).await;
        let via = send(port, method, target, &sent, &body).await;
        let (d, v) = (direct.json(), via.json());
        assert_eq!(via.status, direct.status, "{method} {target}");
        assert_eq!((&v["method"], &v["target"]), (&d["method"], &d["target"]), "{method} {target}");
        assert_eq!(v["body"], d["body"], "{method} {target}: the body arrives byte for byte");
        for (name, _) in &headers {
            assert_eq!(values(&v["headers"], name), values(&d["headers"], name), "{method} {target}: `{name}`");
        }
        for hop in ["keep-alive", "x-hop", "transfer-encoding"] {
            assert!(values(&v["headers"], hop).is_empty(), "{method} {target}: `{hop}` is not forwarded");
        }
        assert_eq!(values(&v["headers"], "x-correlation-id"), ["fidelity-1"], "the caller's correlation id");
        assert_eq!(values(&v["headers"], "x-forwarded-host"), [format!("127.0.0.1:{port}")]);
        assert_eq!(via.header_values("set-cookie"), direct.header_values("set-cookie"), "each set-cookie");
        assert_eq!(via.header_values("x-legacy"), ["yes"]);
    }

    let direct = send(legacy.port(), "GET", "/binary?size=1048576", &[], b"").await;
    let via = send(port, "GET", "/binary?size=1048576", &[], b"").await;
    assert_eq!((via.status, via.body.len()), (200, 1024 * 1024));
    assert_eq!(via.body, direct.body, "a binary answer comes back byte for byte");
    assert_eq!(via.header_values("content-type"), ["application/octet-stream"]);

    let redirect = send(port, "GET", "/redirect", &[], b"").await;
    assert_eq!((redirect.status, redirect.header_values("location")), (302, vec!["/elsewhere"]), "not followed");
    let failed = send(port, "GET", "/fail", &[], b"").await;
    assert_eq!((failed.status, failed.body.as_slice()), (500, b"legacy broke".as_slice()), "the legacy 500 as it went");
    let missing = send(port, "GET", "/nowhere", &[], b"").await;
    assert_eq!((missing.status, missing.json()), (404, json!({"error": "no such legacy resource"})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrated_route_is_served_by_the_new_handler_and_the_legacy_service_gets_no_request() {
    let legacy = LegacyStub::start();
    let routing = Routing::new().route("GET /orders/{id}", RouteMode::New);
    let port = facade(&legacy, routing, "migrated").await;
    for i in 0..20 {
        let answer = send(port, "GET", &format!("/orders/o-{i}"), &[], b"").await;
        assert_eq!((answer.status, &answer.json()["source"]), (200, &json!("new")));
    }
    assert_eq!(legacy.requests_to("/orders/o-0").await, 0);
    // Another method of the same path is not migrated.
    let put = send(port, "PUT", "/orders/o-1", &[], b"{}").await;
    assert_eq!((put.status, legacy.requests_to("/orders/o-1").await), (404, 1), "PUT went to legacy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_moves_and_moves_back_with_a_parameter_change_after_the_refresh() {
    let legacy = LegacyStub::start();
    let moto = Moto::shared();
    let ssm = aws_sdk_ssm::Client::new(&moto.sdk_config().await);
    let path = format!("/{}", unique_name("strangler"));
    let set = |routes: Value| {
        let (ssm, name) = (ssm.clone(), format!("{path}/routes"));
        async move { put_string_parameter(&ssm, &name, &routes.to_string()).await }
    };
    set(json!({})).await;
    let routing = Params::new(SsmSource::new(ssm.clone())).load::<Routing>(&path).await.unwrap();
    let legacy_url = Legacy::new(&legacy.url()).unwrap().breaker(breaker("moves"));
    let port = serve(Strangler::new(legacy_url, routing.clone()).wrap(new_service())).await;
    let source = |answer: RawAnswer| answer.json()["source"].clone();

    assert_eq!(source(send(port, "GET", "/orders/o-1", &[], b"").await), Value::Null, "from legacy");
    set(json!({"GET /orders/{id}": "new"})).await;
    routing.refresh().await.unwrap();
    assert_eq!(source(send(port, "GET", "/orders/o-1", &[], b"").await), "new", "moved without a restart");
    set(json!({"/orders/{id}": "legacy"})).await;
    routing.refresh().await.unwrap();
    assert_eq!(source(send(port, "GET", "/orders/o-1", &[], b"").await), Value::Null, "moved back");
    assert_eq!(legacy.requests_to("/orders/o-1").await, 2);

    // A mode halo does not know keeps the routing it has.
    set(json!({"GET /orders/{id}": "newest"})).await;
    assert!(routing.refresh().await.is_err());
    assert_eq!(source(send(port, "GET", "/orders/o-1", &[], b"").await), Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_legacy_service_opens_the_breaker_and_then_gets_no_request() {
    let legacy = LegacyStub::start();
    let port = facade(&legacy, Routing::new(), "failing").await;
    for _ in 0..3 {
        assert_eq!(send(port, "GET", "/fail", &[], b"").await.status, 500);
    }
    let refused = send(port, "GET", "/fail", &[("x-correlation-id", "open-1")], b"").await;
    assert_eq!(refused.status, 503);
    assert_eq!(refused.json()["error"]["code"], "CircuitOpen");
    assert_eq!(refused.json()["error"]["trace_id"], "open-1");
    let other = send(port, "GET", "/echo/x", &[], b"").await;
    assert_eq!(other.status, 503, "the breaker guards the whole legacy service");
    assert_eq!(legacy.requests_to("/fail").await, 3, "no request while the breaker is open");
    assert_eq!(legacy.requests_to("/echo/x").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_legacy_service_is_a_502_with_the_trace_id_then_an_open_breaker() {
    let mut legacy = LegacyStub::start();
    let routing = Routing::new().route("GET /orders/{id}", RouteMode::New);
    let port = facade(&legacy, routing, "stopped").await;
    legacy.stop();
    for i in 0..3 {
        let answer = send(port, "GET", "/echo/x", &[("x-correlation-id", "down-1")], b"").await;
        assert_eq!(answer.status, 502, "attempt {i}");
        assert_eq!(answer.json()["error"]["code"], "UpstreamError");
        assert_eq!(answer.json()["error"]["trace_id"], "down-1");
        assert!(!answer.json().to_string().contains("127.0.0.1"), "no internal text: {:?}", answer.json());
    }
    assert_eq!(send(port, "GET", "/echo/x", &[], b"").await.json()["error"]["code"], "CircuitOpen");
    let migrated = send(port, "GET", "/orders/o-1", &[], b"").await;
    assert_eq!((migrated.status, &migrated.json()["source"]), (200, &json!("new")), "migrated routes still answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadowed_route_answers_as_the_legacy_service_within_the_shadow_wait() {
    let legacy = LegacyStub::start();
    let routing = Routing::new().route("/orders/{id}", RouteMode::Shadow).route("GET /slow", RouteMode::Shadow);
    let legacy_system = Legacy::new(&legacy.url()).unwrap().breaker(breaker("shadowed"));
    let wait = Duration::from_millis(200);
    let facade = Strangler::new(legacy_system, LiveConfig::fixed(routing)).shadow_wait(wait).wrap(new_service());
    let port = serve(facade).await;

    // The new handler's answer differs (`source`): the caller gets legacy's.
    let direct = send(legacy.port(), "GET", "/orders/o-1", &[], b"").await;
    let shadowed = send(port, "GET", "/orders/o-1", &[], b"").await;
    assert_eq!((shadowed.status, shadowed.json()), (direct.status, direct.json()));
    assert_eq!(legacy.requests_to("/orders/o-1").await, 2, "the shadowed request went to legacy");

    // A new handler that takes 5 s: the legacy answer (100 ms) waits at
    // most the shadow wait for it.
    let started = std::time::Instant::now();
    let answer = send(port, "GET", "/slow?ms=100", &[], b"").await;
    let took = started.elapsed();
    assert_eq!((answer.status, answer.json()), (200, json!({"slow": true})));
    assert!(took < Duration::from_millis(100) + wait + Duration::from_millis(700), "took {took:?}");
}
