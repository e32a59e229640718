//! A readable span tree on standard output (`HALO_TRACE_STDOUT=true`):
//! the structure of each trace without a collector.
//!
//! ```text
//! trace 6751a0c4b3e1e9a3f9c2d1e0a1b2c3d4
//! └─ book-trip 12.41 ms  [server] faas.trigger=http faas.coldstart=true
//!    ├─ saga.step book_hotel 3.02 ms  [internal]
//!    │  └─ HTTP POST 2.87 ms  [client] http.response.status_code=201
//!    └─ saga.compensation cancel_hotel 1.10 ms  [internal]
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;

use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry_sdk::trace::SpanData;

/// Prints `spans` as one tree per trace, written whole.
pub(crate) fn print(spans: &[SpanData]) {
    let text = render(spans);
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// The trees of `spans` as text.
pub(crate) fn render(spans: &[SpanData]) -> String {
    let mut traces: Vec<opentelemetry::trace::TraceId> = Vec::new();
    for span in spans {
        if !traces.contains(&span.span_context.trace_id()) {
            traces.push(span.span_context.trace_id());
        }
    }
    let mut out = String::new();
    for trace in traces {
        let members: Vec<&SpanData> = spans.iter().filter(|s| s.span_context.trace_id() == trace).collect();
        let ids: Vec<SpanId> = members.iter().map(|s| s.span_context.span_id()).collect();
        let mut children: HashMap<SpanId, Vec<&SpanData>> = HashMap::new();
        let mut roots = Vec::new();
        for span in &members {
            if ids.contains(&span.parent_span_id) {
                children.entry(span.parent_span_id).or_default().push(span);
            } else {
                roots.push(*span);
            }
        }
        for list in children.values_mut() {
            list.sort_by_key(|s| s.start_time);
        }
        roots.sort_by_key(|s| s.start_time);
        let _ = writeln!(out, "trace {trace}");
        for (i, root) in roots.iter().enumerate() {
            write_span(&mut out, root, &children, "", i + 1 == roots.len());
        }
    }
    out
}

fn write_span(out: &mut String, span: &SpanData, children: &HashMap<SpanId, Vec<&SpanData>>, indent: &str, last: bool) {
    let millis = span.end_time.duration_since(span.start_time).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let kind = match span.span_kind {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    };
    let _ = write!(out, "{indent}{} {} {millis:.2} ms  [{kind}]", if last { "└─" } else { "├─" }, span.name);
    if let Status::Error { description } = &span.status {
        let _ = write!(out, " ERROR {description}");
    }
    for attribute in span.attributes.iter().filter(|kv| shown(kv.key.as_str())) {
        let _ = write!(out, " {}={}", attribute.key, attribute.value);
    }
    for event in span.events.iter() {
        let _ = write!(out, " | {}", event.name);
    }
    if !span.links.is_empty() {
        let _ = write!(out, " (linked to {} trace(s))", span.links.len());
    }
    out.push('\n');
    let next = format!("{indent}{}", if last { "   " } else { "│  " });
    if let Some(list) = children.get(&span.span_context.span_id()) {
        for (i, child) in list.iter().enumerate() {
            write_span(out, child, children, &next, i + 1 == list.len());
        }
    }
}

/// The attributes worth a place on a span's line.
fn shown(key: &str) -> bool {
    matches!(
        key,
        "faas.trigger"
            | "faas.coldstart"
            | "http.request.method"
            | "http.response.status_code"
            | "http.route"
            | "url.full"
            | "rpc.method"
            | "messaging.message.id"
            | "error.type"
    )
}
