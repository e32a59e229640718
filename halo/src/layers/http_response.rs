//! HTTP events get HTTP answers: errors become proxy responses with a JSON
//! error body, and every response carries the correlation id.

use std::task::{Context as TaskContext, Poll};

use serde_json::value::RawValue;

use super::correlation_header::with_correlation_header;
use crate::BoxFuture;
use crate::correlation::{Correlation, names};
use crate::error::Error;
use crate::event::EventSource;
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
        if !inv.source().is_http() || inv.ctx.correlation().is_none() {
            return Box::pin(self.inner.call(inv));
        }
        // The correlation is read from the context when the answer is
        // there (it is set once, before this layer), not copied now.
        let ctx = inv.ctx.clone();
        let future = self.inner.call(inv);
        Box::pin(async move {
            let result = future.await;
            let Some(correlation) = ctx.correlation() else { return result };
            match result {
                Ok(response) if ctx.with_extension(|written: &mut CorrelationHeaderWritten| written.0) => Ok(response),
                Ok(response) => Ok(with_correlation_header(response, correlation)),
                Err(err) => Ok(error_response(&err, correlation)),
            }
        })
    }
}

/// The proxy response for `err` in the shape `correlation.source` expects.
///
/// ```
/// use halo::correlation::Correlation;
/// use halo::event::EventSource;
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
    let retry_after =
        err.retry_after().map(|after| (after.as_secs() + u64::from(after.subsec_nanos() > 0)).to_string());
    let mut headers: Vec<(&str, &str)> =
        vec![("content-type", "application/json"), (names::CORRELATION_ID, &correlation.id)];
    if let Some(seconds) = &retry_after {
        headers.push(("retry-after", seconds));
    }
    let body = ErrorBody { error: ErrorFields { code: err.code(), message: err.message(), trace_id: &correlation.id } };
    proxy_response(err.status(), &headers, serde_json::to_string(&body).unwrap_or_default(), false, correlation.source)
}

/// A proxy response in the shape `source` expects: API Gateway REST and
/// HTTP APIs and Function URLs get `headers`; an ALB gets a
/// `statusDescription` and, when its target group uses multi-value
/// headers, `multiValueHeaders`.
///
/// ```
/// use halo::event::EventSource;
///
/// let response = halo::layers::proxy_response(201, &[("content-type", "text/plain")], "made".into(), false, EventSource::Alb { multi_value: true });
/// let response: serde_json::Value = serde_json::from_str(response.get()).unwrap();
/// assert_eq!(response["statusDescription"], "201 Created");
/// assert_eq!(response["multiValueHeaders"]["content-type"][0], "text/plain");
/// ```
pub fn proxy_response(
    status: u16,
    headers: &[(&str, &str)],
    body: String,
    is_base64_encoded: bool,
    source: EventSource,
) -> Box<RawValue> {
    let multi_value = matches!(source, EventSource::Alb { multi_value: true });
    let description = match source {
        EventSource::Alb { .. } => {
            let reason = http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
            Some(format!("{status} {reason}"))
        }
        _ => None,
    };
    let response = ProxyResponse {
        status_code: status,
        status_description: description,
        headers: (!multi_value).then_some(HeaderPairs(headers, false)),
        multi_value_headers: multi_value.then_some(HeaderPairs(headers, true)),
        body,
        is_base64_encoded,
    };
    serde_json::value::to_raw_value(&response).unwrap_or_else(|_| fallback_response())
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ProxyResponse<'a> {
    status_code: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<HeaderPairs<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    multi_value_headers: Option<HeaderPairs<'a>>,
    body: String,
    is_base64_encoded: bool,
}

#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    error: ErrorFields<'a>,
}

#[derive(serde::Serialize)]
struct ErrorFields<'a> {
    code: &'a str,
    message: &'a str,
    trace_id: &'a str,
}

/// Headers as a JSON object of strings, or of one-element arrays.
struct HeaderPairs<'a>(&'a [(&'a str, &'a str)], bool);

impl serde::Serialize for HeaderPairs<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            if self.1 { map.serialize_entry(name, &[value])? } else { map.serialize_entry(name, value)? }
        }
        map.end()
    }
}

/// Set on an invocation's context by a handler whose response already
/// carries `x-correlation-id` in its header map (halo's router adapter),
/// so the layer does not parse the response again.
#[derive(Default)]
pub(crate) struct CorrelationHeaderWritten(pub(crate) bool);

fn fallback_response() -> Box<RawValue> {
    RawValue::from_string(r#"{"statusCode":500,"body":""}"#.to_owned()).expect("valid JSON")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use serde_json::{Value, json};

    fn correlation(source: EventSource) -> Correlation {
        Correlation { source, ..Correlation::new("c-9") }
    }

    fn parse(raw: &RawValue) -> Value {
        serde_json::from_str(raw.get()).unwrap()
    }

    #[test]
    fn alb_errors_carry_a_status_description_and_multi_value_headers_when_on() {
        let err = Error::unavailable("try later").with_retry_after(Duration::from_millis(1500));
        let single = parse(&error_response(&err, &correlation(EventSource::Alb { multi_value: false })));
        assert_eq!(single["statusDescription"], "503 Service Unavailable");
        assert_eq!(single["headers"]["retry-after"], "2", "rounded up to whole seconds");
        let multi = parse(&error_response(&err, &correlation(EventSource::Alb { multi_value: true })));
        assert_eq!(multi["multiValueHeaders"]["x-correlation-id"], json!(["c-9"]));
        assert!(multi.get("headers").is_none());
    }
}
