//! Per-request overhead of halo's stack around an axum `Router` on Lambda,
//! over a bare lambda_http-style adapter, on the same API Gateway HTTP API
//! event and the same route.
//!
//! `cargo bench -p halo-lambda --features axum --bench http_router`
//!
//! - `bare`: the event into an `http::Request` (`lambda_http`), the router,
//!   the body collected, the HTTP API response encoded: what
//!   `lambda_http::run(router)` does per event, minus the Runtime API;
//! - `halo`: the same through halo's stack (`halo::http::run`): context,
//!   correlation id and sampling, `x-correlation-id` response header,
//!   timeout guard, panic catching, error log, the access log line (to a
//!   sink), the JSON error shaping middleware and the 404 fallback.

#[path = "support/logger.rs"]
mod logger;

use std::hint::black_box;
use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use http_body_util::BodyExt;
use serde_json::json;
use tower::{Service, ServiceExt};

const EVENT: &str = include_str!("../tests/events/apigw-v2.json");

async fn order(Path(id): Path<String>) -> axum::Json<serde_json::Value> {
    axum::Json(json!({ "id": id, "status": "shipped" }))
}

fn router() -> Router {
    Router::new().route("/orders/{id}", get(order))
}

fn bench(c: &mut Criterion) {
    logger::install_logger();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let _runtime = runtime.enter();
    let mut group = c.benchmark_group("http_router");

    let bare = router();
    group.bench_function("bare", |b| {
        b.iter(|| {
            let request = lambda_http::request::from_str(black_box(EVENT)).unwrap();
            let (parts, body) = request.into_parts();
            let body = match body {
                lambda_http::Body::Text(text) => axum::body::Body::from(text),
                _ => axum::body::Body::empty(),
            };
            let response =
                bare.clone().oneshot(http::Request::from_parts(parts, body)).now_or_never().unwrap().unwrap();
            let (parts, body) = response.into_parts();
            let bytes = body.collect().now_or_never().unwrap().unwrap().to_bytes();
            let headers: serde_json::Map<String, serde_json::Value> =
                parts.headers.iter().map(|(k, v)| (k.as_str().to_owned(), json!(v.to_str().unwrap_or("")))).collect();
            let out = json!({
                "statusCode": parts.status.as_u16(),
                "headers": headers,
                "body": String::from_utf8_lossy(&bytes),
                "isBase64Encoded": false,
            });
            black_box(serde_json::to_vec(&out).unwrap())
        })
    });

    let function = Arc::new(halo::FunctionInfo::for_test());
    let options = halo::Options::from_env();
    let service = halo::test_support::HandlerService::with_state(
        halo::test_support::with_halo_layers(router()),
        halo::test_support::handle_event,
    );
    let stack = halo::test_support::stack(service, &options);
    group.bench_function("halo", |b| {
        b.iter(|| {
            let payload = black_box(EVENT).to_owned();
            let ctx = halo::Ctx::builder("8f7c7a0e-2a5e-4c1b-9d7e-0b7f6b1c2d3e")
                .deadline_epoch_ms(u64::MAX / 2)
                .function(function.clone())
                .build();
            let mut service = stack.clone();
            let response = service.ready().now_or_never().unwrap().unwrap().call(halo::Invocation::new(payload, ctx));
            black_box(serde_json::to_vec(&response.now_or_never().unwrap().unwrap()).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
