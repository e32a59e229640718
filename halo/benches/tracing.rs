//! Tracing's cost per invocation, for an invocation with 5 spans (the
//! root and 4 of the handler's): the full stack with tracing off, with
//! spans recorded and dropped (no exporter), and with spans exported to an
//! OTLP/HTTP receiver on loopback after each invocation, as halo does.
//! One process sets tracing up once, so each mode is a run of its own:
//! `scripts/bench-tracing.sh` runs the three in a row.
//!
//! `HALO_BENCH_TRACING=off|record|export cargo bench -p halo-lambda --features full --bench tracing`

#[path = "support/invocation.rs"]
#[allow(dead_code)]
mod invocation;

use std::hint::black_box;
use std::time::Instant;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use criterion::{Criterion, criterion_group, criterion_main};
use tower::{Service, ServiceExt};
use tracing_subscriber::layer::SubscriberExt;

/// The handler's work in 4 spans of its own.
async fn traced_handler(
    request: ApiGatewayProxyRequest,
    _ctx: &halo::Ctx,
) -> Result<ApiGatewayProxyResponse, halo::Error> {
    let name = {
        let _span = tracing::info_span!("read_query").entered();
        request.query_string_parameters.first("name").unwrap_or("world").to_owned()
    };
    for step in ["validate", "load", "render"] {
        let _span = tracing::info_span!("step", step).entered();
        black_box(step);
    }
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = 200;
    response.body = Some(Body::Text(format!("{{\"message\":\"hello, {name}\"}}")));
    Ok(response)
}

fn tracing(c: &mut Criterion) {
    let mode = std::env::var("HALO_BENCH_TRACING").unwrap_or_else(|_| "off".into());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let receiver = (mode == "export").then(halo_test_support::otlp::OtlpReceiver::start);
    let config = match (mode.as_str(), &receiver) {
        ("export", Some(receiver)) => halo::trace::TraceConfig::from_env().endpoint_base(receiver.endpoint()),
        ("record", _) => halo::trace::TraceConfig::from_env().record_only(),
        _ => halo::trace::TraceConfig::from_env().stdout(false),
    };
    let started = Instant::now();
    let layer = runtime.block_on(async { halo::trace::layer(&config).unwrap() });
    println!("tracing mode {mode}: set up in {:.3} ms", started.elapsed().as_secs_f64() * 1000.0);
    let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(std::io::sink)).with(layer);
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber");

    let service =
        halo::test_support::stack(halo::test_support::HandlerService::new(traced_handler), &halo::Options::from_env());
    let function = std::sync::Arc::new(halo::FunctionInfo::for_test());
    let xray = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".to_owned();
    let invoke = || {
        let ctx = halo::Ctx::builder("8f7c7a0e-2a5e-4c1b-9d7e-0b7f6b1c2d3e")
            .invoked_function_arn("arn:aws:lambda:us-east-1:123456789012:function:bench")
            .xray_trace_id(Some(xray.clone()))
            .deadline_epoch_ms(u64::MAX / 2)
            .function(function.clone())
            .build();
        let mut service = service.clone();
        runtime.block_on(async move {
            let call = service.ready().await.unwrap().call(halo::Invocation::new(invocation::EVENT, ctx));
            let response = call.await.unwrap();
            // What halo's runtime does after posting each answer.
            halo::trace::flush().await;
            response
        })
    };
    c.bench_function(&format!("tracing/{mode}/invocation_with_5_spans"), |b| b.iter(|| black_box(invoke())));
    if let Some(receiver) = receiver {
        println!("the receiver got {} spans in {} requests", receiver.spans().len(), receiver.requests());
    }
}

criterion_group!(benches, tracing);
criterion_main!(benches);
