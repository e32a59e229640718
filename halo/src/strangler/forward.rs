//! Forwarding a request to the legacy system as it came, and its answer
//! back as it went, through halo's HTTP client and a circuit breaker.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderMap, HeaderName};
use http::{HeaderValue, StatusCode};

use crate::Error;
use crate::breaker::{BreakerPolicy, CircuitBreaker};
use crate::http::Client;
use crate::http::server::Forwarded;

/// The largest request body forwarded: a Lambda request's payload limit.
const MAX_BODY: usize = 6 * 1024 * 1024;

/// Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1),
/// and the ones the client sets itself.
const NOT_FORWARDED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// The legacy system behind a strangler façade: where requests the new
/// service does not serve go.
///
/// A request is forwarded with its method, path and query as received
/// (percent-encoding kept), every header but the hop-by-hop ones (repeated
/// headers such as `cookie` kept), the invocation's `x-correlation-id`
/// and trace context, and its body as bytes (binary, up to 6 MB). The
/// answer comes back with its status, headers (each `set-cookie` kept),
/// and body as the legacy system gave them, a redirect or a 5xx included.
///
/// Each request's timeout is the invocation's budget left (halo's
/// [`Client`]); connect errors are retried for idempotent methods. A
/// circuit breaker (`legacy`, per container, unless
/// [`Legacy::breaker`] gives one) counts connect errors, timeouts and 5xx
/// answers; while it is open the caller gets a `503 CircuitOpen` with the
/// trace id, and the legacy system no request.
#[derive(Debug, Clone)]
pub struct Legacy {
    base: String,
    client: Client,
    breaker: CircuitBreaker,
}

/// An answer as the legacy system gave it.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response.extensions_mut().insert(Forwarded);
        response
    }
}

impl Legacy {
    /// The legacy system at `base_url` (`https://legacy.internal`, or with
    /// a path prefix every forwarded path goes under).
    ///
    /// # Errors
    ///
    /// A URL that is not `http://` or `https://` with a host, or that has
    /// a query or a fragment (`InvalidLegacyUrl`).
    ///
    /// ```
    /// let legacy = halo::strangler::Legacy::new("https://legacy.internal/api")?;
    /// assert!(halo::strangler::Legacy::new("legacy.internal").is_err());
    /// # Ok::<(), halo::Error>(())
    /// ```
    pub fn new(base_url: &str) -> Result<Legacy, Error> {
        let invalid = || {
            Error::internal(format!("the legacy base URL `{base_url}` is not an http(s) URL without query"))
                .with_code("InvalidLegacyUrl")
        };
        let rest =
            base_url.strip_prefix("https://").or_else(|| base_url.strip_prefix("http://")).ok_or_else(invalid)?;
        if rest.is_empty() || rest.starts_with('/') || rest.contains(['?', '#', ' ']) {
            return Err(invalid());
        }
        Ok(Legacy {
            base: base_url.trim_end_matches('/').to_owned(),
            client: Client::new()?,
            breaker: CircuitBreaker::new("legacy", BreakerPolicy::default()),
        })
    }

    /// Forwards with `client` (its attempts, per-attempt timeout, backoff).
    #[must_use]
    pub fn client(self, client: Client) -> Legacy {
        Legacy { client, ..self }
    }

    /// Guards the legacy system with `breaker` (for instance one shared by
    /// every container through DynamoDB).
    #[must_use]
    pub fn breaker(self, breaker: CircuitBreaker) -> Legacy {
        Legacy { breaker, ..self }
    }

    /// Forwards `request` and returns the legacy system's answer as it
    /// came, or halo's error answer (`413` for a body over 6 MB, `502` or
    /// `504` when the legacy system cannot be reached, `503` while the
    /// breaker is open).
    pub async fn forward(&self, request: Request) -> Response {
        let (parts, body) = request.into_parts();
        match read_body(body).await {
            Ok(body) => self.send(&parts.method, &parts.uri, &parts.headers, body).await,
            Err(too_large) => too_large,
        }
    }

    /// Sends one request (its parts already read) and returns the answer.
    pub(crate) async fn send(
        &self,
        method: &http::Method,
        uri: &http::Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Response {
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let url = format!("{}{path}", self.base);
        let request = self.client.request(method.clone(), url).forwarding(forwarded(headers), body);
        let mut server_error = None;
        let sent = self
            .breaker
            .call(async {
                let answer = read(request.send().await?).await?;
                if answer.status.is_server_error() {
                    let status = answer.status.as_u16();
                    server_error = Some(answer);
                    return Err(Error::upstream("the legacy service failed").with_source(format!("answered {status}")));
                }
                Ok::<_, Error>(answer)
            })
            .await;
        match (sent, server_error) {
            (Ok(answer), _) | (Err(_), Some(answer)) => answer.into_response(),
            (Err(err), None) => err.into_response(),
        }
    }
}

/// A request's body, whole; `413 PayloadTooLarge` over 6 MB.
pub(super) async fn read_body(body: Body) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        let mut response =
            Error::bad_request("the request body is too large").with_code("PayloadTooLarge").into_response();
        *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
        response
    })
}

/// The legacy system's answer, read whole.
async fn read(response: crate::http::Response) -> Result<Answer, Error> {
    let status = response.status();
    let headers = end_to_end(response.headers());
    let body = response.bytes().await.map_err(|err| {
        Error::upstream("the legacy service failed").with_source(format!("reading its answer: {err}"))
    })?;
    Ok(Answer { status, headers, body })
}

/// The request's headers to forward: end to end ones, and the host the
/// caller asked for as `x-forwarded-host`.
fn forwarded(headers: &HeaderMap) -> HeaderMap {
    let mut forwarded = end_to_end(headers);
    if let Some(host) = headers.get(header::HOST) {
        forwarded.append(HeaderName::from_static("x-forwarded-host"), host.clone());
    }
    forwarded
}

/// `headers` without the hop-by-hop ones, and without those the
/// `connection` header names.
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut kept = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let name_str = name.as_str();
        if !NOT_FORWARDED.contains(&name_str) && !named.iter().any(|n| n == name_str) {
            kept.append(name.clone(), HeaderValue::clone(value));
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_the_ones_connection_names_stay_behind() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive, x-session-secret"),
            ("keep-alive", "timeout=5"),
            ("x-session-secret", "s"),
            ("transfer-encoding", "chunked"),
            ("cookie", "a=1"),
            ("cookie", "b=2"),
            ("host", "shop.example.com"),
            ("accept", "*/*"),
        ] {
            headers.append(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        let kept = forwarded(&headers);
        let names: Vec<&str> = kept.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["cookie", "accept", "x-forwarded-host"]);
        assert_eq!(kept.get_all("cookie").iter().count(), 2, "repeated headers are kept");
        assert_eq!(kept["x-forwarded-host"], "shop.example.com");
    }

    #[test]
    fn a_base_url_is_http_or_https_with_a_host_and_no_query() {
        for bad in ["legacy.internal", "ftp://legacy", "https://", "https:///x", "https://l/x?a=1", "https://l/#f"] {
            assert_eq!(Legacy::new(bad).unwrap_err().code(), "InvalidLegacyUrl", "{bad}");
        }
        assert_eq!(Legacy::new("http://127.0.0.1:9000/api/").unwrap().base, "http://127.0.0.1:9000/api");
    }
}
