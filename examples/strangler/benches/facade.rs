//! The strangler façade's added latency over a direct call on loopback:
//! the same `GET` sent to the legacy service directly and through the
//! façade (served by halo's `serve`, forwarding with halo's client),
//! interleaved in one run; and a migrated route through the façade, for
//! which the legacy service gets no request.
//!
//! `cargo bench -p strangler --bench facade` measures 1,000 requests per
//! case and prints one JSON line per case; as a test (`cargo test`) it
//! measures 20 and checks the request counts only.
//!
//! Every request opens its own connection (`connection: close`), to the
//! legacy service as to the façade; the façade keeps its connections to
//! the legacy service open.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use halo::breaker::{BreakerPolicy, CircuitBreaker};
use halo::params::LiveConfig;
use halo::strangler::{Legacy, RouteMode, Routing, Strangler};
use halo_test_support::legacy_stub::{LegacyStub, send};
use halo_test_support::quantile_us;
use serde_json::json;

async fn timed(port: u16, target: &str) -> Duration {
    let started = Instant::now();
    let answer = send(port, "GET", target, &[], b"").await;
    let took = started.elapsed();
    assert_eq!(answer.status, 200, "{target}");
    took
}

fn main() {
    let requests: usize = if std::env::args().any(|a| a == "--bench") { 1000 } else { 20 };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let legacy = LegacyStub::start();
        let routing = Routing::new().route("GET /migrated/{id}", RouteMode::New);
        let breaker = CircuitBreaker::new("bench-legacy", BreakerPolicy::default());
        let new_service = Router::new().route("/migrated/{id}", get(|| async { "{\"id\": \"o-1\"}" }));
        let facade = Strangler::new(Legacy::new(&legacy.url()).unwrap().breaker(breaker), LiveConfig::fixed(routing))
            .wrap(new_service);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(halo::http::serve(facade, listener));
        // Warm both paths (the façade's pooled connection included).
        for _ in 0..10 {
            timed(legacy.port(), "/orders/o-1").await;
            timed(port, "/orders/o-1").await;
        }

        let (mut direct, mut forwarded, mut migrated) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..requests {
            direct.push(timed(legacy.port(), "/orders/o-1").await);
            forwarded.push(timed(port, "/orders/o-1").await);
            migrated.push(timed(port, "/migrated/o-1").await);
        }
        assert_eq!(legacy.requests_to("/migrated/o-1").await, 0, "a migrated route sends legacy nothing");
        assert_eq!(legacy.requests_to("/orders/o-1").await, 2 * (requests as u64 + 10));
        for samples in [&mut direct, &mut forwarded, &mut migrated] {
            samples.sort();
        }
        for (case, samples, legacy_requests) in [
            ("direct to legacy", &direct, requests),
            ("through the façade, forwarded", &forwarded, requests),
            ("through the façade, migrated route", &migrated, 0),
        ] {
            let line = json!({
                "case": case,
                "requests": samples.len(),
                "p50_us": quantile_us(samples, 0.5),
                "p99_us": quantile_us(samples, 0.99),
                "legacy_requests": legacy_requests,
            });
            println!("{line}");
        }
        let added = json!({
            "case": "added by the façade",
            "p50_us": quantile_us(&forwarded, 0.5) as i128 - quantile_us(&direct, 0.5) as i128,
            "p99_us": quantile_us(&forwarded, 0.99) as i128 - quantile_us(&direct, 0.99) as i128,
        });
        println!("{added}");
    });
}
