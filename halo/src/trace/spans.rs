//! What halo's spans carry beyond their fields: the invocation's parent
//! context and attributes, links to producers, events, outcomes.

use opentelemetry::KeyValue;
use opentelemetry::trace::Status;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::propagation;
use crate::Invocation;
use crate::event::EventSource;

/// The root span of `inv`: the FaaS conventions' attributes, the caller's
/// context as parent (an HTTP event's `traceparent`, else the invocation's
/// X-Ray trace header), an SNS message's trace as a link.
pub(crate) fn invocation_span(inv: &Invocation) -> Span {
    let ctx = &inv.ctx;
    let source = inv.source();
    let (trigger, kind) = match source {
        s if s.is_http() => ("http", "server"),
        EventSource::DynamoDbStream => ("datasource", "consumer"),
        EventSource::Direct => ("other", "server"),
        _ => ("pubsub", "consumer"),
    };
    let arn = ctx.invoked_function_arn();
    let account = arn.split(':').nth(4).unwrap_or_default();
    let span = tracing::info_span!(
        target: "halo::trace",
        "invocation",
        otel.name = ctx.function_name(),
        otel.kind = kind,
        faas.invocation_id = ctx.request_id(),
        faas.coldstart = ctx.cold_start(),
        faas.trigger = trigger,
        faas.name = ctx.function_name(),
        faas.version = ctx.function_version(),
        cloud.resource_id = arn,
        cloud.account.id = account,
        error.type = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
    );
    let traceparent = inv.traceparent();
    match source {
        EventSource::Sns => {
            if let Some(producer) = traceparent.and_then(propagation::from_traceparent) {
                span.add_link(producer);
            }
            if let Some(parent) = propagation::parent(None, ctx.xray_trace_id()) {
                let _ = span.set_parent(parent);
            }
        }
        _ => {
            let from_caller = if source == EventSource::Direct || source.is_http() || source == EventSource::EventBridge
            {
                traceparent
            } else {
                None
            };
            if let Some(parent) = propagation::parent(from_caller, ctx.xray_trace_id()) {
                let _ = span.set_parent(parent);
            }
        }
    }
    span
}

/// Records how an invocation ended on its span: an error's code, or an
/// HTTP answer's status (5xx is an error).
pub(crate) fn record_outcome(span: &Span, outcome: Result<Option<u16>, &str>) {
    match outcome {
        Ok(Some(status)) => {
            span.record("http.response.status_code", status);
            if status >= 500 {
                span.set_status(Status::error(format!("HTTP {status}")));
            }
        }
        Ok(None) => {}
        Err(code) => {
            span.record("error.type", code);
            span.set_status(Status::error(code.to_owned()));
        }
    }
}

#[cfg(feature = "batch")]
/// Links `span` to the producer whose context a record carries: a W3C
/// `traceparent`, or an X-Ray trace header (SQS's `AWSTraceHeader`).
pub(crate) fn link_to(span: &Span, traceparent: Option<&str>, xray: Option<&str>) {
    let producer =
        traceparent.and_then(propagation::from_traceparent).or_else(|| xray.and_then(propagation::from_xray));
    if let Some(producer) = producer {
        span.add_link(producer);
    }
}

/// Adds an event to the current span (a breaker's refusal, a retry).
pub(crate) fn add_event(name: &'static str, attributes: &[(&'static str, String)]) {
    let attributes = attributes.iter().map(|(k, v)| KeyValue::new(*k, v.clone())).collect();
    Span::current().add_event(name, attributes);
}
