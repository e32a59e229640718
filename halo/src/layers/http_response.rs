//! HTTP events get HTTP answers: errors become proxy responses with a JSON
//! error body, and every response carries the correlation id.

use std::task::{Context as TaskContext, Poll};

use std::borrow::Cow;

use serde_json::value::RawValue;

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
        let is_http = inv.source().is_http();
        let correlation = inv.ctx.correlation().filter(|_| is_http).cloned();
        let ctx = inv.ctx.clone();
        let future = self.inner.call(inv);
        let Some(correlation) = correlation else { return Box::pin(future) };
        Box::pin(async move {
            match future.await {
                Ok(response) if ctx.with_extension(|written: &mut CorrelationHeaderWritten| written.0) => Ok(response),
                Ok(response) => Ok(with_correlation_header(response, &correlation)),
                Err(err) => Ok(error_response(&err, &correlation)),
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

/// Adds `x-correlation-id` to a handler's proxy response (to
/// `multiValueHeaders` when that is what the response uses). A response
/// that is not a JSON object with a `statusCode` is returned unchanged.
///
/// Whether the header is there is decided on the header maps: the text
/// `x-correlation-id` may be anywhere (a body, another header's value).
/// The response is read once at its top level and written once; the
/// values it keeps are copied as they are.
fn with_correlation_header(response: Box<RawValue>, correlation: &Correlation) -> Box<RawValue> {
    let Ok(Entries(fields)) = serde_json::from_str::<Entries<'_>>(response.get()) else { return response };
    let field = |name: &str| fields.iter().find(|(k, _)| k.as_ref() == name).map(|(_, v)| *v);
    if field("statusCode").is_none() {
        return response;
    }
    let header_map = |name: &str| field(name).and_then(|raw| serde_json::from_str::<Entries<'_>>(raw.get()).ok());
    let (headers, multi) = (header_map("headers"), header_map("multiValueHeaders"));
    let names_it = |map: &Option<Entries<'_>>| {
        map.as_ref().is_some_and(|m| m.0.iter().any(|(k, _)| k.eq_ignore_ascii_case(names::CORRELATION_ID)))
    };
    if names_it(&headers) || names_it(&multi) {
        return response;
    }
    let multi_has_entries = multi.as_ref().is_some_and(|m| !m.0.is_empty());
    let uses_multi = (headers.is_none() && multi_has_entries)
        || matches!(correlation.source, EventSource::Alb { multi_value: true });
    let (key, existing) = if uses_multi { ("multiValueHeaders", multi) } else { ("headers", headers) };
    let spliced = Spliced {
        fields: &fields,
        key,
        headers: HeaderMap {
            existing: existing.map(|e| e.0).unwrap_or_default(),
            id: &correlation.id,
            multi: uses_multi,
        },
    };
    serde_json::value::to_raw_value(&spliced).unwrap_or(response)
}

/// A JSON object's entries in order, keys borrowed unless escaped, values
/// as their raw text.
struct Entries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Entries<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Entries<'de>, A::Error> {
                let mut entries = Vec::new();
                while let Some(Key(key)) = map.next_key()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

/// The response with its header map replaced by [`HeaderMap`] (added last
/// when it had none).
struct Spliced<'a> {
    fields: &'a [(Cow<'a, str>, &'a RawValue)],
    key: &'static str,
    headers: HeaderMap<'a>,
}

impl serde::Serialize for Spliced<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        let mut written = false;
        for (name, value) in self.fields {
            if name.as_ref() == self.key {
                map.serialize_entry(name.as_ref(), &self.headers)?;
                written = true;
            } else {
                map.serialize_entry(name.as_ref(), value)?;
            }
        }
        if !written {
            map.serialize_entry(self.key, &self.headers)?;
        }
        map.end()
    }
}

/// A header map's entries, then `x-correlation-id` (a string, or a
/// one-element array in a multi-value map).
struct HeaderMap<'a> {
    existing: Vec<(Cow<'a, str>, &'a RawValue)>,
    id: &'a str,
    multi: bool,
}

impl serde::Serialize for HeaderMap<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.existing.len() + 1))?;
        for (name, value) in &self.existing {
            map.serialize_entry(name.as_ref(), value)?;
        }
        if self.multi {
            map.serialize_entry(names::CORRELATION_ID, &[self.id])?;
        } else {
            map.serialize_entry(names::CORRELATION_ID, self.id)?;
        }
        map.end()
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
    fn the_header_is_added_where_the_response_keeps_its_headers() {
        let v2 = correlation(EventSource::ApiGatewayV2);
        let plain = RawValue::from_string(r#"{"statusCode":201,"body":"x"}"#.into()).unwrap();
        assert_eq!(parse(&with_correlation_header(plain, &v2))["headers"]["x-correlation-id"], "c-9");

        let multi =
            RawValue::from_string(r#"{"statusCode":200,"headers":null,"multiValueHeaders":{"a":["b"]}}"#.into())
                .unwrap();
        let out = parse(&with_correlation_header(multi, &v2));
        assert_eq!(out["multiValueHeaders"], json!({"a": ["b"], "x-correlation-id": ["c-9"]}));

        let own = RawValue::from_string(r#"{"statusCode":200,"headers":{"X-Correlation-Id":"mine"}}"#.into()).unwrap();
        assert_eq!(parse(&with_correlation_header(own, &v2))["headers"], json!({"X-Correlation-Id": "mine"}));

        let in_multi = RawValue::from_string(
            r#"{"statusCode":200,"headers":{},"multiValueHeaders":{"x-correlation-id":["m"]}}"#.into(),
        )
        .unwrap();
        assert!(parse(&with_correlation_header(in_multi, &v2))["headers"].get("x-correlation-id").is_none());

        // The text alone is not the header: it is added.
        let mention = RawValue::from_string(
            r#"{"statusCode":200,"headers":{"access-control-expose-headers":"x-correlation-id"},"body":"\"x-correlation-id\""}"#
                .into(),
        )
        .unwrap();
        let out = parse(&with_correlation_header(mention, &v2));
        assert_eq!(out["headers"]["x-correlation-id"], "c-9");
        assert_eq!(out["headers"]["access-control-expose-headers"], "x-correlation-id");

        let not_http = RawValue::from_string(r#"["no","status"]"#.into()).unwrap();
        assert_eq!(with_correlation_header(not_http, &v2).get(), r#"["no","status"]"#);
    }
}
