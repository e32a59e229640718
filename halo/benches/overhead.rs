//! Per-invocation overhead of halo's stack over a bare lambda_runtime-style
//! service, on the same API Gateway event and the same handler work.
//!
//! `cargo bench -p halo-lambda --bench overhead`
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
//!   404 proxy response with a JSON body and trace id, failure logged);
//! - `halo_metrics`: `halo` with metrics on, the handler adding three
//!   metrics and one dimension, and the `ColdStart` line written as for a
//!   container's first invocation (compare with `halo`); and
//!   `component/metric_data_point`, the cost of one added value.
//!
//! `bare` decodes the event bytes the way lambda_runtime does (through
//! `serde_path_to_error`, which tracks the field path of every key);
//! `halo` takes them as halo's runtime does (UTF-8 text) and decodes with
//! `halo::test_support::decode_event`, which works the path out only for an event that
//! fails to decode. `component/decode_lambda_runtime` and
//! `component/decode_halo` time the two decodings alone: what halo saves
//! there is part of its overhead figure.

#[path = "support/invocation.rs"]
mod invocation;
#[path = "support/logger.rs"]
mod logger;

use std::hint::black_box;

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;

use invocation::lambda_decode;

fn overhead(c: &mut Criterion) {
    logger::install_logger();

    // The timeout guard needs tokio's timer; nothing here waits on it.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let _runtime = runtime.enter();
    let bytes = invocation::EVENT.as_bytes();
    let mut group = c.benchmark_group("invocation");
    let stacks = invocation::Stacks::new();
    let function = stacks.function();

    group.bench_function("bare", |b| b.iter(|| black_box(invocation::bare(bytes))));
    group.bench_function("halo", |b| b.iter(|| black_box(stacks.halo(bytes))));
    group.bench_function("halo_error", |b| b.iter(|| black_box(stacks.halo_error(bytes))));
    group.bench_function("halo_metrics", |b| b.iter(|| black_box(stacks.halo_metrics(bytes))));

    // Components of halo's part, for BENCHMARKS.md's breakdown.
    let raw_event = std::str::from_utf8(bytes).unwrap();
    group.bench_function("component/correlation_and_sampling", |b| {
        b.iter(|| black_box(halo::test_support::decide(halo::correlation::extract(black_box(raw_event)), 0.1)))
    });
    let correlation = halo::test_support::decide(halo::correlation::extract(raw_event), 0.0);
    let error = halo::Error::not_found("no such greeting");
    group.bench_function("component/error_mapping", |b| {
        b.iter(|| black_box(halo::test_support::error_response(black_box(&error), &correlation)))
    });
    // Decoding the event into the handler's type: the way lambda_runtime
    // does it (tracking the field path of every key), and halo's (the
    // path is worked out only for an event that fails to decode).
    group.bench_function("component/decode_lambda_runtime", |b| {
        b.iter(|| black_box(lambda_decode::<ApiGatewayProxyRequest>(black_box(bytes))))
    });
    group.bench_function("component/decode_halo", |b| {
        b.iter(|| black_box(halo::test_support::decode_event::<ApiGatewayProxyRequest>(black_box(raw_event))))
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
    group.bench_function("component/metric_data_point", |b| {
        // One value added to the invocation's set; every 100th writes the
        // line (to a sink), as the limits require.
        let ctx = halo::Ctx::builder("8f7c7a0e").function(function.clone()).build();
        halo::metrics::attach(&ctx, &invocation::bench_metrics()).unwrap();
        let metrics = halo::metrics::Metrics::of(&ctx);
        b.iter(|| metrics.add_metric(black_box("Latency"), halo::metrics::Unit::Milliseconds, black_box(1.25)).unwrap())
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
