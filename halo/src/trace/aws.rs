//! A span per AWS request of halo's own clients (DynamoDB, SSM, SQS): an
//! SDK interceptor, added to every client the platform builds.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// Opens a client span (`DynamoDB.PutItem`, `SSM.GetParametersByPath`, …)
/// when a request starts, under the span that makes it, and closes it
/// with the HTTP status (and the error, if any) when it ends. Does nothing
/// while tracing is off.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct AwsTraceInterceptor;

/// The span of one request, kept in its config bag.
#[derive(Debug, Clone)]
struct RequestSpan(tracing::Span);

impl Storable for RequestSpan {
    type Storer = StoreReplace<Self>;
}

impl Intercept for AwsTraceInterceptor {
    fn name(&self) -> &'static str {
        "halo::trace::AwsTraceInterceptor"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !super::enabled() {
            return Ok(());
        }
        let (service, operation) = cfg.load::<Metadata>().map_or(("aws", "request"), |m| (m.service(), m.name()));
        let span = tracing::info_span!(
            target: "halo::trace",
            "aws.request",
            otel.name = %format_args!("{service}.{operation}"),
            otel.kind = "client",
            rpc.system = "aws-api",
            rpc.service = service,
            rpc.method = operation,
            http.response.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        cfg.interceptor_state().store_put(RequestSpan(span));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(RequestSpan(span)) = cfg.load::<RequestSpan>() else { return Ok(()) };
        if let Some(response) = context.response() {
            span.record("http.response.status_code", response.status().as_u16());
        }
        if let Some(Err(_)) = context.output_or_error() {
            span.record("error.type", "aws_error");
        }
        Ok(())
    }
}
