//! The invocation paths the overhead benchmarks measure, shared by the
//! criterion benchmark (`overhead`, wall clock) and the instruction-count
//! harness (`instructions`, run under callgrind).

use std::hint::black_box;
use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use futures_util::FutureExt;
use serde_json::value::RawValue;
use tower::{Service, ServiceExt};

/// The event every path decodes: an API Gateway REST request.
pub(crate) const EVENT: &str = include_str!("../../../examples/hello-api/events/get-hello.json");

/// How lambda_runtime decodes an event body into the service's type.
pub(crate) fn lambda_decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> T {
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

/// The handler work plus what an instrumented handler records: three
/// metrics and one dimension.
async fn metrics_handler(
    request: ApiGatewayProxyRequest,
    ctx: &halo::Ctx,
) -> Result<ApiGatewayProxyResponse, halo::Error> {
    use halo::metrics::{self, Unit};
    metrics::add_metric("Requests", Unit::Count, 1.0)?;
    metrics::add_metric("PayloadBytes", Unit::Bytes, 512.0)?;
    metrics::add_dimension("route", "/hello")?;
    let response = halo_handler(request, ctx).await?;
    metrics::add_metric("Latency", Unit::Milliseconds, 1.25)?;
    Ok(response)
}

/// A metrics configuration writing every line to a function that only
/// looks at it.
pub(crate) fn bench_metrics() -> halo::metrics::MetricsConfig {
    let sink = halo::metrics::MetricsOutput::Custom(Arc::new(|line: &[u8]| {
        black_box(line);
    }));
    halo::metrics::MetricsConfig::from_env().namespace("Bench").service("bench").output(sink)
}

/// The bare lambda_runtime-style path: decode, handler, encode.
pub(crate) fn bare(bytes: &[u8]) -> Vec<u8> {
    let request: ApiGatewayProxyRequest = lambda_decode(black_box(bytes));
    let response = bare_handler(request).now_or_never().unwrap().unwrap();
    serde_json::to_vec(&response).unwrap()
}

/// halo's full stack around the same handler work (plus two log lines),
/// and around a failing handler.
pub(crate) struct Stacks {
    function: Arc<halo::FunctionInfo>,
    ok: halo::InvocationService,
    failing: halo::InvocationService,
    metrics: halo::InvocationService,
}

impl Stacks {
    /// Builds both stacks with the options from the environment.
    pub(crate) fn new() -> Stacks {
        let options = halo::Options::from_env();
        Stacks {
            function: Arc::new(halo::FunctionInfo::for_test()),
            ok: halo::test_support::stack(halo::test_support::HandlerService::new(halo_handler), &options),
            failing: halo::test_support::stack(halo::test_support::HandlerService::new(failing_handler), &options),
            metrics: halo::test_support::stack(
                halo::test_support::HandlerService::new(metrics_handler),
                &options.clone().metrics(bench_metrics()),
            ),
        }
    }

    fn ctx(&self) -> halo::Ctx {
        self.ctx_builder().build()
    }

    fn ctx_builder(&self) -> halo::CtxBuilder {
        halo::Ctx::builder("8f7c7a0e-2a5e-4c1b-9d7e-0b7f6b1c2d3e")
            .invoked_function_arn("arn:aws:lambda:us-east-1:123456789012:function:bench")
            .deadline_epoch_ms(u64::MAX / 2)
            .function(self.function.clone())
    }

    /// One invocation through the full stack with metrics on: the
    /// handler's three metrics and one dimension, and (as if every
    /// invocation were a container's first) the `ColdStart` line.
    pub(crate) fn halo_metrics(&self, bytes: &[u8]) -> Vec<u8> {
        let payload = String::from_utf8(black_box(bytes).to_vec()).unwrap();
        let mut service = self.metrics.clone();
        let ctx = self.ctx_builder().cold_start(true).build();
        let response = service.ready().now_or_never().unwrap().unwrap().call(halo::Invocation::new(payload, ctx));
        serde_json::to_vec(&response.now_or_never().unwrap().unwrap()).unwrap()
    }

    /// One invocation through the full stack, from the bytes the Runtime
    /// API sent (as halo's runtime takes them); the encoded response.
    pub(crate) fn halo(&self, bytes: &[u8]) -> Vec<u8> {
        let payload = String::from_utf8(black_box(bytes).to_vec()).unwrap();
        let mut service = self.ok.clone();
        let response =
            service.ready().now_or_never().unwrap().unwrap().call(halo::Invocation::new(payload, self.ctx()));
        serde_json::to_vec(&response.now_or_never().unwrap().unwrap()).unwrap()
    }

    /// One failing invocation through the full stack.
    pub(crate) fn halo_error(&self, bytes: &[u8]) -> Box<RawValue> {
        let payload = String::from_utf8(black_box(bytes).to_vec()).unwrap();
        let mut service = self.failing.clone();
        let response =
            service.ready().now_or_never().unwrap().unwrap().call(halo::Invocation::new(payload, self.ctx()));
        response.now_or_never().unwrap().unwrap()
    }

    /// The function facts the contexts are built with (the overhead
    /// benchmark builds its own contexts with them).
    #[allow(dead_code)]
    pub(crate) fn function(&self) -> Arc<halo::FunctionInfo> {
        self.function.clone()
    }
}
