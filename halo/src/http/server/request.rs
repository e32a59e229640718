//! An HTTP event (API Gateway REST or HTTP API, ALB, Function URL) as an
//! [`http::Request`], whatever a client put in it.
//!
//! The URL parts a client controls (path, query, Host) are never trusted to
//! be valid URI text: what can be percent-encoded is encoded and served,
//! a header that is not valid HTTP is left out (and counted in a WARN
//! line), and what cannot be represented at all (no method, an invalid
//! method, a URL over `http`'s length limit, a body that is not the base64
//! it claims to be) is a 400 `BadRequest`. Nothing here panics, and no
//! error quotes the request.

use std::collections::BTreeMap;

use axum::body::Body;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::Error;

/// The fields of the three HTTP event shapes that make the request; every
/// one optional, so a partial event is rejected here with a clear error
/// rather than by serde with the caller's text.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct HttpEvent {
    version: Option<String>,
    // v1 (REST API) and ALB.
    http_method: Option<String>,
    path: Option<String>,
    headers: Option<BTreeMap<String, Option<String>>>,
    multi_value_headers: Option<BTreeMap<String, Option<Vec<Option<String>>>>>,
    query_string_parameters: Option<BTreeMap<String, Option<String>>>,
    multi_value_query_string_parameters: Option<BTreeMap<String, Option<Vec<Option<String>>>>>,
    // v2 (HTTP API, Function URL).
    raw_path: Option<String>,
    raw_query_string: Option<String>,
    cookies: Option<Vec<String>>,
    request_context: Option<RequestContext>,
    body: Option<String>,
    is_base64_encoded: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RequestContext {
    http: Option<V2Http>,
    elb: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V2Http {
    method: Option<String>,
}

/// How the event carries its query string.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Query {
    /// Already URL-encoded text (ALB, HTTP API `rawQueryString`): only the
    /// bytes a URI may not hold are encoded; `%` escapes are kept.
    Raw,
    /// Decoded keys and values (REST API): each is encoded whole.
    Decoded,
}

/// The event as a request with the path the client sent (a REST API's
/// stage is not prepended), no authority (the Host header stays a header),
/// and the body decoded from base64 when the event says it is.
pub(crate) fn to_http_request(event: &RawValue) -> Result<http::Request<Body>, Error> {
    let event: HttpEvent = serde_json::from_str(event.get()).map_err(|_| not_http())?;
    let is_v2 = event.version.as_deref() == Some("2.0");
    let context = event.request_context.unwrap_or_default();
    let method = if is_v2 { context.http.and_then(|h| h.method) } else { event.http_method };
    let method = method.ok_or_else(not_http)?;
    let method = http::Method::from_bytes(method.as_bytes())
        .map_err(|_| Error::bad_request("the request method is not valid HTTP"))?;

    let (path, query) = if is_v2 {
        (event.raw_path.unwrap_or_default(), Query::Raw)
    } else {
        let mode = if context.elb.is_some() { Query::Raw } else { Query::Decoded };
        (event.path.unwrap_or_default(), mode)
    };
    let mut target = String::with_capacity(path.len() + 16);
    if !path.starts_with('/') {
        target.push('/');
    }
    // A path is as the client sent it, decoded or not: `%` escapes are kept.
    encode_into(&mut target, &path, Allowed::Path);
    let query_text = if is_v2 {
        event.raw_query_string.filter(|q| !q.is_empty()).map(|q| encoded(&q, Allowed::Query))
    } else {
        v1_query(event.multi_value_query_string_parameters, event.query_string_parameters, query)
    };
    if let Some(query_text) = query_text {
        target.push('?');
        target.push_str(&query_text);
    }
    let uri: http::Uri = target.parse().map_err(|_| Error::bad_request("the request URL is too long or malformed"))?;

    let mut request = http::Request::new(Body::empty());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    let mut dropped = 0usize;
    let mut add = |name: &str, value: &str| match (
        http::HeaderName::from_bytes(name.as_bytes()),
        http::HeaderValue::from_str(value),
    ) {
        (Ok(name), Ok(value)) => {
            headers.append(name, value);
        }
        _ => dropped += 1,
    };
    match event.multi_value_headers.filter(|m| !m.is_empty() && !is_v2) {
        Some(multi) => {
            for (name, values) in &multi {
                for value in values.iter().flatten().flatten() {
                    add(name, value);
                }
            }
        }
        None => {
            for (name, value) in event.headers.iter().flatten() {
                if let Some(value) = value {
                    add(name, value);
                }
            }
        }
    }
    if let Some(cookies) = event.cookies.filter(|c| !c.is_empty()) {
        add("cookie", &cookies.join("; "));
    }
    if dropped > 0 {
        tracing::warn!(headers_dropped = dropped, "request headers that are not valid HTTP were left out");
    }

    let body = match event.body {
        None => Body::empty(),
        Some(text) if event.is_base64_encoded == Some(true) => Body::from(
            crate::base64::decode(&text).ok_or_else(|| Error::bad_request("the request body is not valid base64"))?,
        ),
        Some(text) => Body::from(text),
    };
    *request.body_mut() = body;
    Ok(request)
}

fn not_http() -> Error {
    Error::bad_request("the event is not an HTTP request").with_code("InvalidEvent")
}

/// A REST API's or ALB's query, from its multi-value form when present.
fn v1_query(
    multi: Option<BTreeMap<String, Option<Vec<Option<String>>>>>,
    single: Option<BTreeMap<String, Option<String>>>,
    mode: Query,
) -> Option<String> {
    let pairs: Vec<(String, String)> = match multi.filter(|m| !m.is_empty()) {
        Some(multi) => multi
            .into_iter()
            .flat_map(|(key, values)| values.into_iter().flatten().flatten().map(move |value| (key.clone(), value)))
            .collect(),
        None => single.into_iter().flatten().filter_map(|(key, value)| value.map(|v| (key, v))).collect(),
    };
    if pairs.is_empty() {
        return None;
    }
    let allowed = match mode {
        Query::Raw => Allowed::Query,
        Query::Decoded => Allowed::Component,
    };
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, key, allowed);
        out.push('=');
        encode_into(&mut out, value, allowed);
    }
    Some(out)
}

/// Which bytes go into the URI as they are.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Allowed {
    /// A path: unreserved, sub-delimiters, `:`, `@`, `/` and `%`.
    Path,
    /// Already-encoded query text: as a path, plus `?`.
    Query,
    /// One decoded key or value: unreserved characters only.
    Component,
}

fn keeps(byte: u8, allowed: Allowed) -> bool {
    let unreserved = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~');
    match allowed {
        Allowed::Component => unreserved,
        Allowed::Path | Allowed::Query => {
            unreserved
                || matches!(byte, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
                || matches!(byte, b':' | b'@' | b'/' | b'%')
                || (allowed == Allowed::Query && byte == b'?')
        }
    }
}

fn encoded(text: &str, allowed: Allowed) -> String {
    let mut out = String::with_capacity(text.len());
    encode_into(&mut out, text, allowed);
    out
}

fn encode_into(out: &mut String, text: &str, allowed: Allowed) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = text.as_bytes();
    for (i, &byte) in bytes.iter().enumerate() {
        // A `%` is kept only as the start of a valid escape.
        let keep = if byte == b'%' {
            allowed != Allowed::Component
                && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        } else {
            keeps(byte, allowed)
        };
        if keep {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 15)] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(event: serde_json::Value) -> Result<http::Request<Body>, Error> {
        to_http_request(&serde_json::value::to_raw_value(&event).unwrap())
    }

    #[test]
    fn what_a_uri_cannot_hold_is_encoded_and_escapes_are_kept() {
        assert_eq!(encoded("/a b/\"<q>\"/100%/%2F", Allowed::Path), "/a%20b/%22%3Cq%3E%22/100%25/%2F");
        assert_eq!(encoded("a=1&b=x y&c=%41", Allowed::Query), "a=1&b=x%20y&c=%41");
        assert_eq!(encoded("100% & more", Allowed::Component), "100%25%20%26%20more");
        assert_eq!(encoded("é", Allowed::Component), "%C3%A9");
    }

    #[test]
    fn base64_decodes_with_or_without_padding_and_rejects_the_rest() {
        assert_eq!(crate::base64::decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(crate::base64::decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(crate::base64::decode("").unwrap(), b"");
        assert!(crate::base64::decode("a").is_none());
        assert!(crate::base64::decode("aGV sbG8=").is_none());
    }

    #[test]
    fn a_host_with_braces_and_a_hostile_query_become_a_request() {
        let built = request(serde_json::json!({
            "httpMethod": "GET",
            "path": "/p a\"th",
            "headers": { "Host": "api.{dns_suffix}", "bad\nname": "x", "ok": "bad\u{1}value" },
            "queryStringParameters": { "q": "<script> \"x\"" },
            "requestContext": {}
        }))
        .unwrap();
        assert_eq!(built.uri().path(), "/p%20a%22th");
        assert_eq!(built.uri().query(), Some("q=%3Cscript%3E%20%22x%22"));
        assert_eq!(built.headers()["host"], "api.{dns_suffix}");
        assert_eq!(built.headers().len(), 1, "invalid headers are left out");
    }

    #[test]
    fn what_cannot_be_a_request_is_a_bad_request() {
        let huge = "q".repeat(70 * 1024);
        for event in [
            serde_json::json!({ "httpMethod": "GET", "path": "/", "queryStringParameters": { "q": huge } }),
            serde_json::json!({ "httpMethod": "GE T", "path": "/" }),
            serde_json::json!({ "path": "/" }),
            serde_json::json!({ "httpMethod": "POST", "path": "/", "body": "!!", "isBase64Encoded": true }),
            serde_json::json!([1, 2]),
        ] {
            let error = request(event).unwrap_err();
            assert_eq!(error.status(), 400);
        }
    }
}
