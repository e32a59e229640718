#![doc = include_str!("../../docs/tracing.md")]

#[cfg(all(
    feature = "otel",
    any(feature = "dynamodb", feature = "ssm", feature = "secrets-manager", feature = "appconfig", feature = "fanout")
))]
mod aws;
mod config;
#[cfg(feature = "otel")]
mod export;
mod layer;
#[cfg(feature = "otel")]
mod propagation;
#[cfg(feature = "otel")]
mod provider;
#[cfg(feature = "otel")]
mod spans;
#[cfg(feature = "otel")]
mod stdout;

#[cfg(all(
    feature = "otel",
    any(feature = "dynamodb", feature = "ssm", feature = "secrets-manager", feature = "appconfig", feature = "fanout")
))]
pub(crate) use aws::AwsTraceInterceptor;
pub use config::TraceConfig;
#[cfg(feature = "otel")]
pub use export::flush;
pub(crate) use layer::TraceLayer;
#[cfg(feature = "otel")]
pub use provider::{OtelLayer, layer};
#[cfg(all(feature = "otel", feature = "batch"))]
pub(crate) use spans::link_to;
#[cfg(feature = "otel")]
pub(crate) use spans::{add_event, invocation_span, record_outcome};
#[cfg(all(not(feature = "otel"), feature = "batch"))]
pub(crate) use without_otel::link_to;
#[cfg(not(feature = "otel"))]
pub(crate) use without_otel::{add_event, invocation_span, record_outcome};

use std::sync::atomic::AtomicBool;

/// The `tracing` target of halo's spans: their fields are span attributes,
/// not log fields.
pub(crate) const TARGET: &str = "halo::trace";

/// Set once the exporter is up.
pub(crate) static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are recorded in this process (an exporter is set up).
/// One relaxed atomic load; always `false` without the `otel` feature.
pub fn enabled() -> bool {
    cfg!(feature = "otel") && ENABLED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Exports the spans finished so far (nothing to do without the `otel`
/// feature).
#[cfg(not(feature = "otel"))]
pub async fn flush() {}

/// A span of halo's (target [`TARGET`]) when tracing is on, else
/// `Span::none()` at the cost of one atomic load.
macro_rules! span {
    ($name:literal $(, $($fields:tt)*)?) => {
        if $crate::trace::enabled() {
            ::tracing::info_span!(target: "halo::trace", $name $(, $($fields)*)?)
        } else {
            ::tracing::Span::none()
        }
    };
}
pub(crate) use span;

/// The current span's context to send onward: `traceparent`, and with
/// `xray` an `x-amzn-trace-id` header too; nothing when tracing is off or
/// outside a span.
pub(crate) fn context_pairs(xray: bool) -> Vec<(&'static str, String)> {
    #[cfg(feature = "otel")]
    if enabled() {
        return propagation::current_pairs(xray);
    }
    let _ = xray;
    Vec::new()
}

/// Appends `,"trace_id":"…","span_id":"…"` for the current span, when
/// tracing is on and a span is current.
pub(crate) fn write_ids(line: &mut Vec<u8>) {
    #[cfg(feature = "otel")]
    if enabled()
        && let Some((trace_id, span_id)) = propagation::current_ids()
    {
        use std::io::Write as _;
        let _ = write!(line, ",\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\"");
    }
    let _ = line;
}

/// The same calls without the `otel` feature: nothing to record.
#[cfg(not(feature = "otel"))]
mod without_otel {
    use tracing::Span;

    pub(crate) fn invocation_span(_inv: &crate::Invocation) -> Span {
        Span::none()
    }

    pub(crate) fn record_outcome(_span: &Span, _outcome: Result<Option<u16>, &str>) {}

    #[cfg(feature = "batch")]
    pub(crate) fn link_to(_span: &Span, _traceparent: Option<&str>, _xray: Option<&str>) {}

    pub(crate) fn add_event(_name: &'static str, _attributes: &[(&'static str, String)]) {}
}
