//! Trace context in and out: the caller's context from a W3C
//! `traceparent` or an X-Ray trace header, the current span's context as
//! both, and span links to the producers of batch records.

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry_aws::trace::XrayPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;

/// The W3C trace context header.
pub(crate) const TRACEPARENT: &str = "traceparent";
/// The X-Ray trace header.
pub(crate) const XRAY: &str = "x-amzn-trace-id";

/// One header, for a propagator to read.
struct One<'a>(&'static str, &'a str);

impl Extractor for One<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        key.eq_ignore_ascii_case(self.0).then_some(self.1)
    }

    fn keys(&self) -> Vec<&str> {
        vec![self.0]
    }
}

/// The span context a `traceparent` value names, if it is valid.
pub(crate) fn from_traceparent(value: &str) -> Option<SpanContext> {
    let cx = TraceContextPropagator::new().extract(&One(TRACEPARENT, value));
    valid(&cx)
}

/// The span context an X-Ray trace header (`Root=1-…;Parent=…;Sampled=1`)
/// names, if it is valid.
pub(crate) fn from_xray(value: &str) -> Option<SpanContext> {
    let cx = XrayPropagator::default().extract(&One(XRAY, value));
    valid(&cx)
}

fn valid(cx: &Context) -> Option<SpanContext> {
    let span = cx.span();
    let context = span.span_context();
    context.is_valid().then(|| context.clone())
}

/// The parent of an invocation: the caller's `traceparent` when it sent
/// one, else the invocation's X-Ray trace header.
pub(crate) fn parent(traceparent: Option<&str>, xray: Option<&str>) -> Option<Context> {
    let remote = traceparent.and_then(from_traceparent).or_else(|| xray.and_then(from_xray))?;
    Some(Context::new().with_remote_span_context(remote))
}

/// A collecting injector.
#[derive(Default)]
struct Pairs(Vec<(&'static str, String)>);

impl Injector for Pairs {
    fn set(&mut self, key: &str, value: String) {
        let name = if key.eq_ignore_ascii_case(TRACEPARENT) { TRACEPARENT } else { XRAY };
        if key.eq_ignore_ascii_case(TRACEPARENT) || key.eq_ignore_ascii_case(XRAY) {
            self.0.push((name, value));
        }
    }
}

/// The current span's context as `traceparent` and, with `xray`, as an
/// X-Ray trace header; nothing outside a recorded span.
pub(crate) fn current_pairs(xray: bool) -> Vec<(&'static str, String)> {
    let cx = Context::current();
    if !cx.span().span_context().is_valid() {
        return Vec::new();
    }
    let mut pairs = Pairs::default();
    TraceContextPropagator::new().inject_context(&cx, &mut pairs);
    if xray {
        XrayPropagator::default().inject_context(&cx, &mut pairs);
    }
    pairs.0
}

/// The ids of the current span, as 32 and 16 hex digits.
pub(crate) fn current_ids() -> Option<(opentelemetry::trace::TraceId, opentelemetry::trace::SpanId)> {
    let cx = Context::current();
    let span = cx.span();
    let context = span.span_context();
    context.is_valid().then(|| (context.trace_id(), context.span_id()))
}
