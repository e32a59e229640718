//! HTTP events get HTTP answers: errors become proxy responses with a JSON
//! error body, and every response carries the correlation id.

use std::task::{Context as TaskContext, Poll};

use serde_json::value::RawValue;

use crate::Invocation;
use crate::correlation::Correlation;
use crate::correlation::header::with_correlation_header;
use crate::error::Error;
use crate::event::EventSource;
use crate::event::names;
use crate::future::BoxFuture;

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
pub(crate) struct HttpResponseLayer;

impl<S> tower::Layer<S> for HttpResponseLayer {
    type Service = HttpResponseService<S>;
    fn layer(&self, inner: S) -> HttpResponseService<S> {
        HttpResponseService { inner }
    }
}

/// The service of [`HttpResponseLayer`].
#[derive(Clone, Debug)]
pub(crate) struct HttpResponseService<S> {
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
#[cfg_attr(not(feature = "test-support"), allow(unreachable_pub))]
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

/// A proxy response in the shape `source` expects:
///
/// - API Gateway HTTP APIs and Function URLs (payload 2.0) get `headers`
///   (a repeated name joined with `,`) and `cookies`, which holds every
///   `set-cookie` value and is written even when empty, as `lambda_http`
///   does (some emulators refuse a response without it);
/// - API Gateway REST APIs get `headers`, and `multiValueHeaders` for the
///   names that repeat (a `set-cookie` per cookie);
/// - an ALB gets a `statusDescription` and, when its target group uses
///   multi-value headers, only `multiValueHeaders` (otherwise the last
///   value of a repeated name, which is what the ALB keeps).
pub(crate) fn proxy_response(
    status: u16,
    headers: &[(&str, &str)],
    body: String,
    is_base64_encoded: bool,
    source: EventSource,
) -> Box<RawValue> {
    let description = match source {
        EventSource::Alb { .. } => {
            let reason = http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
            Some(format!("{status} {reason}"))
        }
        _ => None,
    };
    let shape = HeaderShape::of(source);
    let cookies = (shape == HeaderShape::Payload2)
        .then(|| headers.iter().filter(|(name, _)| is_set_cookie(name)).map(|(_, value)| *value).collect());
    let response = ProxyResponse {
        status_code: status,
        status_description: description,
        headers: (shape != HeaderShape::AlbMulti).then_some(Headers { pairs: headers, shape, multi: false }),
        multi_value_headers: match shape {
            HeaderShape::AlbMulti => Some(Headers { pairs: headers, shape, multi: true }),
            HeaderShape::Rest if repeats_a_name(headers) => Some(Headers { pairs: headers, shape, multi: true }),
            _ => None,
        },
        cookies,
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
    headers: Option<Headers<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    multi_value_headers: Option<Headers<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cookies: Option<Vec<&'a str>>,
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

/// How a response's headers are written for an event source.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HeaderShape {
    /// API Gateway HTTP APIs, Function URLs: one string per name, cookies
    /// apart.
    Payload2,
    /// API Gateway REST APIs: `headers`, plus `multiValueHeaders` for the
    /// names that repeat.
    Rest,
    /// An ALB with multi-value headers: `multiValueHeaders` only.
    AlbMulti,
    /// An ALB without: one value per name, the last.
    AlbSingle,
}

impl HeaderShape {
    fn of(source: EventSource) -> HeaderShape {
        match source {
            EventSource::ApiGatewayV2 | EventSource::FunctionUrl => HeaderShape::Payload2,
            EventSource::Alb { multi_value: true } => HeaderShape::AlbMulti,
            EventSource::Alb { multi_value: false } => HeaderShape::AlbSingle,
            _ => HeaderShape::Rest,
        }
    }
}

fn is_set_cookie(name: &str) -> bool {
    name.eq_ignore_ascii_case("set-cookie")
}

fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn repeats_a_name(pairs: &[(&str, &str)]) -> bool {
    pairs.iter().enumerate().any(|(i, (name, _))| pairs[..i].iter().any(|(seen, _)| same_name(seen, name)))
}

/// A response's headers as one JSON object: each name once, in the order
/// of its first appearance; `multi` writes arrays of every value.
struct Headers<'a> {
    pairs: &'a [(&'a str, &'a str)],
    shape: HeaderShape,
    multi: bool,
}

impl Headers<'_> {
    /// Whether the object written with `multi` off leaves `name` out.
    fn leaves_out(&self, name: &str, repeated: bool) -> bool {
        match self.shape {
            HeaderShape::Payload2 => is_set_cookie(name),
            // The repeated names are in `multiValueHeaders`.
            HeaderShape::Rest => !self.multi && repeated,
            _ => false,
        }
    }
}

impl serde::Serialize for Headers<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let pairs = self.pairs;
        let mut map = serializer.serialize_map(None)?;
        for (index, (name, value)) in pairs.iter().enumerate() {
            if pairs[..index].iter().any(|(seen, _)| same_name(seen, name)) {
                continue; // written with its first appearance
            }
            let mut values = pairs[index..].iter().filter(|(other, _)| same_name(other, name)).map(|(_, v)| *v);
            let repeated = pairs[index + 1..].iter().any(|(other, _)| same_name(other, name));
            if self.multi {
                if self.shape == HeaderShape::Rest && !repeated {
                    continue; // a single value is in `headers`
                }
                map.serialize_entry(name, &values.collect::<Vec<_>>())?;
            } else if self.leaves_out(name, repeated) {
                continue;
            } else if self.shape == HeaderShape::Payload2 && repeated {
                map.serialize_entry(name, &values.collect::<Vec<_>>().join(","))?;
            } else {
                map.serialize_entry(name, values.next_back().unwrap_or(value))?;
            }
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
mod doc_examples {
    #[test]
    fn an_error_response_carries_the_correlation_id() {
        use crate::correlation::Correlation;
        use crate::event::EventSource;

        let mut correlation = Correlation::new("c-42");
        correlation.source = EventSource::ApiGatewayV1;
        let response = super::error_response(&crate::Error::not_found("no such order"), &correlation);
        let response: serde_json::Value = serde_json::from_str(response.get()).unwrap();
        assert_eq!(response["statusCode"], 404);
        assert_eq!(response["headers"]["x-correlation-id"], "c-42");
        assert_eq!(response["body"], r#"{"error":{"code":"NotFound","message":"no such order","trace_id":"c-42"}}"#);
    }

    #[test]
    fn a_proxy_response_takes_its_source_shape() {
        use crate::event::EventSource;

        let response = super::proxy_response(
            201,
            &[("content-type", "text/plain")],
            "made".into(),
            false,
            EventSource::Alb { multi_value: true },
        );
        let response: serde_json::Value = serde_json::from_str(response.get()).unwrap();
        assert_eq!(response["statusDescription"], "201 Created");
        assert_eq!(response["multiValueHeaders"]["content-type"][0], "text/plain");

        let headers = [("content-type", "text/plain"), ("set-cookie", "a=1"), ("set-cookie", "b=2")];
        let response = super::proxy_response(200, &headers, "hi".into(), false, EventSource::FunctionUrl);
        let response: serde_json::Value = serde_json::from_str(response.get()).unwrap();
        assert_eq!(response["cookies"], serde_json::json!(["a=1", "b=2"]));
        assert!(response["headers"].get("set-cookie").is_none());
    }
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

    #[test]
    fn payload_2_responses_always_carry_cookies() {
        for source in [EventSource::ApiGatewayV2, EventSource::FunctionUrl] {
            let error = parse(&error_response(&Error::not_found("no such todo"), &correlation(source)));
            assert_eq!(error["cookies"], json!([]), "{source:?}: an error response");
            let headers = [("set-cookie", "a=1; Secure"), ("x-a", "1"), ("Set-Cookie", "b=2"), ("x-a", "2")];
            let ok = parse(&proxy_response(200, &headers, "hi".into(), false, source));
            assert_eq!(ok["cookies"], json!(["a=1; Secure", "b=2"]), "{source:?}");
            assert_eq!(ok["headers"], json!({"x-a": "1,2"}), "{source:?}: set-cookie only in cookies");
        }
        for source in
            [EventSource::ApiGatewayV1, EventSource::Alb { multi_value: false }, EventSource::Alb { multi_value: true }]
        {
            let error = parse(&error_response(&Error::not_found("no"), &correlation(source)));
            assert!(error.get("cookies").is_none(), "{source:?}: payload 1.0 has no cookies field");
        }
    }

    #[test]
    fn a_repeated_header_is_never_a_repeated_json_key() {
        let headers = [("set-cookie", "a=1"), ("content-type", "text/plain"), ("set-cookie", "b=2")];
        let rest = proxy_response(200, &headers, String::new(), false, EventSource::ApiGatewayV1);
        assert_eq!(rest.get().matches("set-cookie").count(), 1, "{}", rest.get());
        let rest = parse(&rest);
        assert_eq!(rest["headers"], json!({"content-type": "text/plain"}));
        assert_eq!(rest["multiValueHeaders"], json!({"set-cookie": ["a=1", "b=2"]}));
        let alb = parse(&proxy_response(200, &headers, String::new(), false, EventSource::Alb { multi_value: false }));
        assert_eq!(
            alb["headers"],
            json!({"set-cookie": "b=2", "content-type": "text/plain"}),
            "the ALB keeps the last"
        );
        let multi = parse(&proxy_response(200, &headers, String::new(), false, EventSource::Alb { multi_value: true }));
        assert_eq!(multi["multiValueHeaders"], json!({"set-cookie": ["a=1", "b=2"], "content-type": ["text/plain"]}));
        let single = parse(&proxy_response(200, &headers[1..2], String::new(), false, EventSource::ApiGatewayV1));
        assert!(single.get("multiValueHeaders").is_none(), "no repeated name, no multiValueHeaders");
    }
}
