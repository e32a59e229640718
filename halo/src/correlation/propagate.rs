//! Carrying the correlation id and the debug-sampling decision onward, on
//! every kind of outgoing call. Each helper reads the current invocation's
//! [`Ctx`]; outside an invocation they carry nothing.

use serde_json::{Map, Value};

use crate::Ctx;
use crate::event::names;

/// The `(name, value)` pairs to send: `x-correlation-id`,
/// `debug-log-enabled` and `x-user-agent` (this function's service name),
/// and with tracing on ([`crate::trace`]) `traceparent`, the current
/// span's W3C trace context.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let ctx = halo::Ctx::for_test();
/// ctx.set_correlation_id("c-42");
/// let pairs = ctx.scope(async { halo::correlation::propagate::pairs() }).await;
/// assert_eq!(pairs[0], ("x-correlation-id", "c-42".to_owned()));
/// assert_eq!(pairs[1], ("debug-log-enabled", "false".to_owned()));
/// # });
/// ```
pub fn pairs() -> Vec<(&'static str, String)> {
    let mut pairs = Ctx::with_current(|ctx| match ctx.and_then(|c| c.correlation().map(|corr| (c, corr))) {
        Some((ctx, correlation)) => vec![
            (names::CORRELATION_ID, correlation.id.clone()),
            (names::DEBUG, correlation.debug.to_string()),
            (names::USER_AGENT, ctx.function().service.clone()),
        ],
        None => Vec::new(),
    });
    pairs.extend(crate::trace::context_pairs(false));
    pairs
}

/// HTTP headers for an outgoing request: the [`pairs`], and with tracing
/// on the current span as an X-Ray `x-amzn-trace-id` header too.
pub fn http_headers() -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    let xray = crate::trace::context_pairs(true).into_iter().filter(|(name, _)| *name != names::TRACEPARENT);
    for (name, value) in pairs().into_iter().chain(xray) {
        // Ids are validated to a header-safe charset; skip anything else.
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    headers
}

/// SQS message attributes (all of data type `String`), as
/// `(name, value)` pairs; with the SQS SDK:
/// `MessageAttributeValue::builder().data_type("String").string_value(value)`.
/// SNS message attributes take the same pairs.
pub fn message_attributes() -> Vec<(&'static str, String)> {
    pairs()
}

/// Adds the fields to an EventBridge event's `detail` (an object; anything
/// else is left alone).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let ctx = halo::Ctx::for_test();
/// ctx.set_correlation_id("c-1");
/// let mut detail = serde_json::json!({ "order_id": 7 });
/// ctx.scope(async { halo::correlation::propagate::into_event_detail(&mut detail) }).await;
/// assert_eq!(detail["x-correlation-id"], "c-1");
/// assert_eq!(detail["debug-log-enabled"], false);
/// # });
/// ```
pub fn into_event_detail(detail: &mut Value) {
    insert_fields(detail);
}

/// Adds the fields at the top level of a direct Lambda invoke payload (an
/// object; anything else is left alone).
pub fn into_invoke_payload(payload: &mut Value) {
    insert_fields(payload);
}

fn insert_fields(target: &mut Value) {
    if let Value::Object(map) = target {
        insert_pairs(map);
    }
}

fn insert_pairs(map: &mut Map<String, Value>) {
    for (name, value) in pairs() {
        let value = if name == names::DEBUG { Value::Bool(value == "true") } else { Value::String(value) };
        map.insert(name.to_owned(), value);
    }
}
