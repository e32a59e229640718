//! Rendering a metrics set as one line of CloudWatch's Embedded Metric
//! Format.
//!
//! ```text
//! {"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[{"Namespace":"Orders",
//!   "Dimensions":[["service","tier"]],"Metrics":[{"Name":"Placed","Unit":"Count"}]}]},
//!  "service":"orders-api","tier":"gold","Placed":1,"function_request_id":"…"}
//! ```

use std::io::Write as _;

use super::set::{MetricSet, Values};
use super::unit::Resolution;
use crate::Ctx;
use crate::json_bytes::push_json_str;
use crate::platform::{Clock as _, SystemClock};

/// What a line carries besides its set: the invocation whose ids it is
/// written with (`None` outside any invocation). Keys the set already
/// uses are left out.
#[derive(Clone, Copy)]
pub(crate) struct LineFacts<'a> {
    pub(crate) ctx: Option<&'a Ctx>,
}

impl LineFacts<'_> {
    /// The invocation's ids as root keys.
    fn properties(&self) -> [(&'static str, Option<&str>); 3] {
        match self.ctx {
            Some(ctx) => [
                ("function_request_id", Some(ctx.request_id())),
                ("correlation_id", ctx.correlation_id()),
                ("xray_trace_id", ctx.xray_trace_id()),
            ],
            None => [("function_request_id", None), ("correlation_id", None), ("xray_trace_id", None)],
        }
    }
}

/// Starts a line: `{"_aws":{"Timestamp":now,"CloudWatchMetrics":[{"Namespace":`
/// and the namespace.
pub(crate) fn open_line(line: &mut Vec<u8>, namespace: &str) {
    line.extend_from_slice(b"{\"_aws\":{\"Timestamp\":");
    let _ = write!(line, "{}", SystemClock.now_ms());
    line.extend_from_slice(b",\"CloudWatchMetrics\":[{\"Namespace\":");
    push_json_str(line, namespace);
}

/// `set` as one EMF line, newline included.
pub(crate) fn render(set: &MetricSet, facts: &LineFacts<'_>) -> Vec<u8> {
    let mut line = Vec::with_capacity(320 + set.metrics.len() * 64);
    open_line(&mut line, &set.namespace);
    line.extend_from_slice(b",\"Dimensions\":[");
    for (i, dimension_set) in set.dimension_sets().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        line.push(b'[');
        for (j, name) in dimension_set.enumerate() {
            if j > 0 {
                line.push(b',');
            }
            push_json_str(&mut line, name);
        }
        line.push(b']');
    }
    line.extend_from_slice(b"],\"Metrics\":[");
    for (i, metric) in set.metrics.iter().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        line.extend_from_slice(b"{\"Name\":");
        push_json_str(&mut line, &metric.name);
        line.extend_from_slice(b",\"Unit\":\"");
        line.extend_from_slice(metric.unit.as_str().as_bytes());
        line.push(b'"');
        if metric.resolution == Resolution::High {
            line.extend_from_slice(b",\"StorageResolution\":1");
        }
        line.push(b'}');
    }
    line.extend_from_slice(b"]}]}");
    for (name, value) in set.dimensions() {
        push_key(&mut line, name);
        push_json_str(&mut line, value);
    }
    for metric in &set.metrics {
        push_key(&mut line, &metric.name);
        match &metric.values {
            Values::One(one) => push_number(&mut line, *one),
            Values::Many(values) => {
                line.push(b'[');
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        line.push(b',');
                    }
                    push_number(&mut line, *value);
                }
                line.push(b']');
            }
        }
    }
    for (key, value) in &set.metadata {
        push_key(&mut line, key);
        line.extend_from_slice(value);
    }
    let taken = |key: &str| {
        set.dimensions().any(|(n, _)| n == key)
            || set.metrics.iter().any(|m| m.name == key)
            || set.metadata.iter().any(|(k, _)| k == key)
    };
    close_line(&mut line, facts, taken);
    line
}

/// The `ColdStart` line: `ColdStart` = 1 with the dimensions
/// `function_name` and `service`, in a line of its own.
pub(crate) fn cold_start_line(namespace: &str, function_name: &str, service: &str, facts: &LineFacts<'_>) -> Vec<u8> {
    let mut line = Vec::with_capacity(384);
    open_line(&mut line, namespace);
    line.extend_from_slice(
        b",\"Dimensions\":[[\"function_name\",\"service\"]],\"Metrics\":[{\"Name\":\"ColdStart\",\"Unit\":\"Count\"}]}]}",
    );
    push_key(&mut line, "function_name");
    push_json_str(&mut line, function_name);
    push_key(&mut line, "service");
    push_json_str(&mut line, service);
    line.extend_from_slice(b",\"ColdStart\":1");
    close_line(&mut line, facts, |_| false);
    line
}

/// `,"key":`
fn push_key(line: &mut Vec<u8>, key: &str) {
    line.push(b',');
    push_json_str(line, key);
    line.push(b':');
}

/// The invocation's ids (those not `taken` by the set), then `}` and the
/// newline.
fn close_line(line: &mut Vec<u8>, facts: &LineFacts<'_>, taken: impl Fn(&str) -> bool) {
    for (key, value) in facts.properties() {
        if let Some(value) = value
            && !taken(key)
        {
            push_key(line, key);
            push_json_str(line, value);
        }
    }
    line.extend_from_slice(b"}\n");
}

/// A finite number; whole numbers within `f64`'s exact range without a
/// fraction (`1`, not `1.0`).
fn push_number(line: &mut Vec<u8>, value: f64) {
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        let _ = write!(line, "{}", value as i64);
    } else {
        let _ = serde_json::to_writer(&mut *line, &value);
    }
}
