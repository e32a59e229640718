//! HTTP events get HTTP answers: errors become proxy responses with a JSON
//! error body, and every response carries the correlation id.

use std::task::{Context as TaskContext, Poll};

use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::BoxFuture;
use crate::correlation::{Correlation, EventSource, names};
use crate::error::Error;
use crate::invocation::Invocation;

/// For HTTP events (API Gateway REST and HTTP APIs, ALB, function URLs):
///
/// - an error (a handler error, a panic, a timeout, an event that does not
///   decode) becomes a proxy response with the error's status,
///   `Content-Type: application/json` and the body
///   `{"error": {"code", "message", "trace_id"}}` (`Retry-After` when the
///   error has one); the internal cause is never in it;
/// - every response, success or error, gets the `x-correlation-id` header.
///
/// Other events pass through unchanged (errors stay Lambda errors).
#[derive(Clone, Copy, Debug, Default)]
pub struct HttpResponseLayer;

impl<S> tower::Layer<S> for HttpResponseLayer {
    type Service = HttpResponseService<S>;
    fn layer(&self, inner: S) -> HttpResponseService<S> {
        HttpResponseService { inner }
    }
}

/// The service of [`HttpResponseLayer`].
#[derive(Clone, Debug)]
pub struct HttpResponseService<S> {
    inner: S,
}

impl<S> tower::Service<Invocation> for HttpResponseService<S>
where
    S: tower::Service<Invocation, Response = Box<RawValue>, Error = Error>,
    S::Future: Send + 'static,
{
    type Response = Box<RawValue>;
    type Error = Error;
    type Future = BoxFuture<'static, Result<Box<RawValue>, Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, inv: Invocation) -> Self::Future {
        let correlation = inv.ctx.correlation().filter(|c| c.source.is_http()).cloned();
        let future = self.inner.call(inv);
        let Some(correlation) = correlation else { return Box::pin(future) };
        Box::pin(async move {
            match future.await {
                Ok(response) => Ok(with_correlation_header(response, &correlation)),
                Err(err) => Ok(error_response(&err, &correlation)),
            }
        })
    }
}

/// The proxy response for `err` in the shape `correlation.source` expects.
///
/// ```
/// use halo::correlation::{Correlation, EventSource};
///
/// let mut correlation = Correlation::new("c-42");
/// correlation.source = EventSource::ApiGatewayV1;
/// let response = halo::layers::error_response(&halo::Error::not_found("no such order"), &correlation);
/// let response: serde_json::Value = serde_json::from_str(response.get()).unwrap();
/// assert_eq!(response["statusCode"], 404);
/// assert_eq!(response["headers"]["x-correlation-id"], "c-42");
/// assert_eq!(response["body"], r#"{"error":{"code":"NotFound","message":"no such order","trace_id":"c-42"}}"#);
/// ```
pub fn error_response(err: &Error, correlation: &Correlation) -> Box<RawValue> {
    let mut headers =
        vec![("content-type", "application/json".to_owned()), (names::CORRELATION_ID, correlation.id.clone())];
    if let Some(after) = err.retry_after() {
        let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        headers.push(("retry-after", seconds.to_string()));
    }
    let status = err.status();
    let mut response = Map::new();
    response.insert("statusCode".into(), status.into());
    if let EventSource::Alb { .. } = correlation.source {
        let reason = http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
        response.insert("statusDescription".into(), format!("{status} {reason}").into());
    }
    let (key, headers) = match correlation.source {
        EventSource::Alb { multi_value: true } => {
            ("multiValueHeaders", headers.into_iter().map(|(k, v)| (k.to_owned(), json!([v]))).collect::<Map<_, _>>())
        }
        _ => ("headers", headers.into_iter().map(|(k, v)| (k.to_owned(), Value::String(v))).collect()),
    };
    response.insert(key.into(), Value::Object(headers));
    response.insert("body".into(), err.body(&correlation.id).to_string().into());
    response.insert("isBase64Encoded".into(), false.into());
    serde_json::value::to_raw_value(&response).unwrap_or_else(|_| fallback_response())
}

fn fallback_response() -> Box<RawValue> {
    RawValue::from_string(r#"{"statusCode":500,"body":""}"#.to_owned()).expect("valid JSON")
}

/// Adds `x-correlation-id` to a handler's proxy response (to
/// `multiValueHeaders` when that is what the response uses). A response
/// that is not a JSON object with a `statusCode` is returned unchanged.
fn with_correlation_header(response: Box<RawValue>, correlation: &Correlation) -> Box<RawValue> {
    let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(response.get()) else { return response };
    if !map.contains_key("statusCode") {
        return response;
    }
    let uses_multi = matches!(map.get("headers"), None | Some(Value::Null))
        && matches!(map.get("multiValueHeaders"), Some(Value::Object(m)) if !m.is_empty())
        || matches!(correlation.source, EventSource::Alb { multi_value: true });
    let (key, value) =
        if uses_multi { ("multiValueHeaders", json!([correlation.id])) } else { ("headers", json!(correlation.id)) };
    match map.entry(key).or_insert_with(|| Value::Object(Map::new())) {
        Value::Object(headers) => {
            if !headers.keys().any(|k| k.eq_ignore_ascii_case(names::CORRELATION_ID)) {
                headers.insert(names::CORRELATION_ID.into(), value);
            }
        }
        other => *other = json!({ names::CORRELATION_ID: value }),
    }
    serde_json::value::to_raw_value(&map).unwrap_or(response)
}
