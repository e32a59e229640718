//! Per-invocation overhead of halo's stack over a bare lambda_runtime-style
//! service, on the same API Gateway event and the same handler work.
//!
//! `cargo bench -p halo --bench overhead`
//!
//! - `bare`: decode the event bytes into `ApiGatewayProxyRequest`, run the
//!   handler, encode the response (what `lambda_runtime::run` with a
//!   `service_fn` does per event, minus the HTTP to the Runtime API);
//! - `halo`: the same through halo's full stack: context set-up (task-local
//!   `Ctx`, cold-start flag), correlation id extraction and validation, the
//!   debug-sampling decision, the `x-correlation-id` response header, the
//!   timeout guard, panic catching, error logging, decoding and encoding,
//!   with the handler writing two JSON log lines to a sink;
//! - `halo_error`: the full stack when the handler fails (error mapped to a
//!   404 proxy response with a JSON body and trace id, failure logged).
//!
//! Both decode the event bytes the way lambda_runtime does (through
//! `serde_path_to_error`): `bare` into the request type, `halo` into a raw
//! JSON value that halo's stack then decodes.

use std::hint::black_box;
use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use serde_json::value::RawValue;
use tower::{Service, ServiceExt};
use tracing_subscriber::layer::SubscriberExt;

const EVENT: &str = include_str!("../../examples/hello-api/events/get-hello.json");

/// How lambda_runtime decodes an event body into the service's type.
fn lambda_decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> T {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).unwrap()
}

fn respond(request: &ApiGatewayProxyRequest) -> ApiGatewayProxyResponse {
    let name = request.query_string_parameters.first("name").unwrap_or("world");
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = 200;
    response.body = Some(Body::Text(format!("{{\"message\":\"hello, {name}\"}}")));
    response
}

async fn bare_handler(request: ApiGatewayProxyRequest) -> Result<ApiGatewayProxyResponse, halo::Error> {
    Ok(respond(&request))
}

async fn failing_handler(
    _request: ApiGatewayProxyRequest,
    _ctx: &halo::Ctx,
) -> Result<ApiGatewayProxyResponse, halo::Error> {
    Err(halo::Error::not_found("no such greeting"))
}

async fn halo_handler(
    request: ApiGatewayProxyRequest,
    _ctx: &halo::Ctx,
) -> Result<ApiGatewayProxyResponse, halo::Error> {
    tracing::info!(path = request.path.as_deref().unwrap_or("/"), "request received");
    let response = respond(&request);
    tracing::info!(status = response.status_code, "response ready");
    Ok(response)
}

fn overhead(c: &mut Criterion) {
    let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(std::io::sink));
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
    halo::log::set_level(tracing_subscriber::filter::LevelFilter::INFO);

    // The timeout guard needs tokio's timer; nothing here waits on it.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let _runtime = runtime.enter();
    let bytes = EVENT.as_bytes();
    let mut group = c.benchmark_group("invocation");

    group.bench_function("bare", |b| {
        b.iter(|| {
            let request: ApiGatewayProxyRequest = lambda_decode(black_box(bytes));
            let response = bare_handler(request).now_or_never().unwrap().unwrap();
            black_box(serde_json::to_vec(&response).unwrap())
        })
    });

    let function = Arc::new(halo::FunctionInfo::for_test());
    let options = halo::Options::from_env();
    let stack = halo::layers::stack(halo::HandlerService::new(halo_handler), &options);
    group.bench_function("halo", |b| {
        b.iter(|| {
            let payload: Box<RawValue> = lambda_decode(black_box(bytes));
            let ctx = halo::Ctx::builder("8f7c7a0e-2a5e-4c1b-9d7e-0b7f6b1c2d3e")
                .invoked_function_arn("arn:aws:lambda:us-east-1:123456789012:function:bench")
                .deadline_epoch_ms(u64::MAX / 2)
                .function(function.clone())
                .build();
            let mut service = stack.clone();
            let response = service.ready().now_or_never().unwrap().unwrap().call(halo::Invocation { payload, ctx });
            let response = response.now_or_never().unwrap().unwrap();
            black_box(serde_json::to_vec(&response).unwrap())
        })
    });
    let failing = halo::layers::stack(halo::HandlerService::new(failing_handler), &options);
    group.bench_function("halo_error", |b| {
        b.iter(|| {
            let payload: Box<RawValue> = lambda_decode(black_box(bytes));
            let ctx = halo::Ctx::builder("8f7c7a0e-2a5e-4c1b-9d7e-0b7f6b1c2d3e")
                .deadline_epoch_ms(u64::MAX / 2)
                .function(function.clone())
                .build();
            let mut service = failing.clone();
            let response = service.ready().now_or_never().unwrap().unwrap().call(halo::Invocation { payload, ctx });
            black_box(response.now_or_never().unwrap().unwrap())
        })
    });

    // Components of halo's part, for the README's breakdown.
    let raw_event: Box<RawValue> = lambda_decode(bytes);
    group.bench_function("component/correlation_and_sampling", |b| {
        b.iter(|| black_box(halo::correlation::decide(halo::correlation::extract(black_box(&raw_event)), 0.1)))
    });
    let (correlation, _) = halo::correlation::decide(halo::correlation::extract(&raw_event), 0.0);
    let error = halo::Error::not_found("no such greeting");
    group.bench_function("component/error_mapping", |b| {
        b.iter(|| black_box(halo::layers::error_response(black_box(&error), &correlation)))
    });
    group.bench_function("component/raw_event_scan", |b| {
        b.iter(|| black_box(lambda_decode::<Box<RawValue>>(black_box(bytes))))
    });
    group.bench_function("component/two_log_lines", |b| {
        let ctx = halo::Ctx::builder("8f7c7a0e").function(function.clone()).build();
        b.iter(|| {
            ctx.clone()
                .scope(async {
                    tracing::info!(path = "/hello", "request received");
                    tracing::info!(status = 200, "response ready");
                })
                .now_or_never()
                .unwrap()
        })
    });
    group.bench_function("component/ctx_setup", |b| {
        b.iter(|| {
            black_box(
                halo::Ctx::builder("8f7c7a0e-2a5e-4c1b-9d7e-0b7f6b1c2d3e")
                    .invoked_function_arn("arn:aws:lambda:us-east-1:123456789012:function:bench")
                    .deadline_epoch_ms(u64::MAX / 2)
                    .function(function.clone())
                    .build(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
