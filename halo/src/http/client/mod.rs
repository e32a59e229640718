//! The outgoing HTTP client: correlation headers, timeouts from the
//! invocation's budget, bounded retries with backoff.

use std::time::{Duration, Instant};

use http::Method;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use tracing::Instrument as _;

use crate::correlation::propagate;
use crate::retry::{Backoff, retry};
use crate::{Ctx, Error};

/// The response type (reqwest's).
pub type Response = reqwest::Response;

/// An HTTP client for calls from inside an invocation.
///
/// Every request:
/// - carries the invocation's `x-correlation-id`, `debug-log-enabled` and
///   `x-user-agent` headers, so the next service logs with the same id and
///   sampling decision;
/// - gets, per attempt, a timeout of `min(attempt timeout, budget left)`,
///   where the budget is the invocation's remaining time minus its safety
///   margin ([`Ctx::budget`]);
/// - when its method is idempotent (GET, HEAD, PUT, DELETE, OPTIONS, TRACE,
///   or any method after [`RequestBuilder::retry_non_idempotent`]) is
///   retried on connect errors, timeouts and 5xx answers, with exponential
///   backoff and full jitter, within the attempt limit and never past the
///   budget.
///
/// A final failure is a [`halo::Error`](crate::Error): `Timeout` (504) when
/// time ran out, `Upstream` (502) otherwise, with the cause kept for the
/// log. Other answers (2xx, 3xx, 4xx) are returned as they are.
///
/// ```no_run
/// # async fn call() -> Result<(), halo::Error> {
/// let client = halo::http::Client::new()?;
/// let invoice: serde_json::Value = client.get("https://billing.internal/invoices/7").send().await?.json().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    max_attempts: u32,
    attempt_timeout: Duration,
    backoff: Backoff,
}

impl Client {
    /// A client with the defaults: 3 attempts, 10 s per attempt (capped by
    /// the budget), backoff from 50 ms doubling up to 1 s.
    pub fn new() -> Result<Client, Error> {
        Client::builder().build()
    }

    /// Configures a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            max_attempts: 3,
            attempt_timeout: Duration::from_secs(10),
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
        }
    }

    /// A request with `method` to `url`.
    pub fn request(&self, method: Method, url: impl Into<String>) -> RequestBuilder {
        RequestBuilder {
            client: self.clone(),
            method,
            url: url.into(),
            headers: HeaderMap::new(),
            body: None,
            attempt_timeout: self.attempt_timeout,
            retry_non_idempotent: false,
            forwarding: false,
        }
    }

    /// A GET request.
    pub fn get(&self, url: impl Into<String>) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A POST request (not retried unless asked).
    pub fn post(&self, url: impl Into<String>) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// A PUT request.
    pub fn put(&self, url: impl Into<String>) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// A DELETE request.
    pub fn delete(&self, url: impl Into<String>) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }
}

/// Configures a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    max_attempts: u32,
    attempt_timeout: Duration,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl ClientBuilder {
    /// Attempts per request, the first included (at least 1).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The longest one attempt may take (the budget may cut it shorter).
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// The backoff ceiling before the first retry, and its cap.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Builds the client (rustls with the ring provider, no proxy lookup);
    /// microseconds, so build clients in your `init` and keep them.
    ///
    /// The TLS set-up (the system's root certificates, read once per
    /// process for this client and the AWS SDK's) and the connection pool
    /// are made on the first request and shared by every client, so a
    /// container pays for them once, and not before it makes a call.
    pub fn build(self) -> Result<Client, Error> {
        let backoff = Backoff::new(self.max_attempts).initial_delay(self.initial_backoff).max_delay(self.max_backoff);
        Ok(Client { max_attempts: self.max_attempts, attempt_timeout: self.attempt_timeout, backoff })
    }
}

/// The process's `reqwest` clients: TLS configuration and connection
/// pool, built on the first request (not cached when building it fails);
/// one follows redirects, the other (for forwarding) hands them back.
fn shared_transport(follow_redirects: bool) -> Result<reqwest::Client, Error> {
    static FOLLOWING: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    static FORWARDING: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let (slot, redirects) = if follow_redirects {
        (&FOLLOWING, reqwest::redirect::Policy::default())
    } else {
        (&FORWARDING, reqwest::redirect::Policy::none())
    };
    if let Some(client) = slot.get() {
        return Ok(client.clone());
    }
    // reqwest is built without a crypto provider of its own. rustls
    // 0.23.48 deprecates ring's provider (it has no post-quantum key
    // exchange); halo keeps ring, the one TLS stack it shares with the AWS
    // SDK's client, rather than compile aws-lc too.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The system's roots, read once for this client and the AWS SDK's.
    let roots = crate::platform::native_roots().iter().filter_map(|der| reqwest::Certificate::from_der(der).ok());
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(redirects)
        .tls_certs_only(roots)
        .build()
        .map_err(|err| Error::internal(err).with_code("HttpClientInit"))?;
    Ok(slot.get_or_init(|| client).clone())
}

/// One request being built; see [`Client`].
#[derive(Debug)]
pub struct RequestBuilder {
    client: Client,
    method: Method,
    url: String,
    headers: HeaderMap,
    body: Option<(bytes::Bytes, Option<&'static str>)>,
    attempt_timeout: Duration,
    retry_non_idempotent: bool,
    /// A request forwarded as it came: its headers (repeated ones kept)
    /// and body as they are, redirects and 5xx answers handed back.
    forwarding: bool,
}

impl RequestBuilder {
    /// Adds a header (an invalid name or value is ignored with a warning).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => {
                self.headers.insert(name, value);
            }
            _ => tracing::warn!(header = name, "ignored an invalid outgoing header"),
        }
        self
    }

    /// A JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self, Error> {
        self.body = Some((serde_json::to_vec(body).map_err(Error::internal)?.into(), Some("application/json")));
        Ok(self)
    }

    /// A raw body with its content type.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>, content_type: &'static str) -> Self {
        let body: Vec<u8> = body.into();
        self.body = Some((body.into(), Some(content_type)));
        self
    }

    /// The longest one attempt of this request may take.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Retries this request even if its method is not idempotent (when the
    /// server deduplicates, e.g. with an idempotency key).
    #[must_use]
    pub fn retry_non_idempotent(mut self) -> Self {
        self.retry_non_idempotent = true;
        self
    }

    /// A request forwarded as it came (a proxy's): `headers` as they are,
    /// repeated ones kept (the invocation's correlation and trace headers
    /// replace any of the same name), `body` without a content type of its
    /// own; a redirect or a 5xx answer is returned as an answer, not
    /// followed or retried.
    #[must_use]
    #[cfg(feature = "axum")]
    pub(crate) fn forwarding(mut self, headers: HeaderMap, body: bytes::Bytes) -> Self {
        self.headers = headers;
        self.body = Some((body, None));
        self.forwarding = true;
        self
    }

    /// Sends the request; see [`Client`] for timeouts, retries and errors.
    pub async fn send(self) -> Result<Response, Error> {
        let span = crate::trace::span!(
            "http.client",
            otel.name = %self.method,
            otel.kind = "client",
            http.request.method = %self.method,
            url.full = %without_query(&self.url),
            http.response.status_code = tracing::field::Empty,
            http.request.resend_count = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        let outcome = self.send_in_span().instrument(span.clone()).await;
        match &outcome {
            Ok(response) => {
                span.record("http.response.status_code", response.status().as_u16());
            }
            Err(err) => {
                span.record("error.type", err.code());
            }
        }
        outcome
    }

    async fn send_in_span(self) -> Result<Response, Error> {
        let retryable = self.retry_non_idempotent || is_idempotent(&self.method);
        let attempts = if retryable { self.client.max_attempts } else { 1 };
        let deadline = Ctx::with_current(|ctx| ctx.map(Ctx::budget_deadline));
        let mut policy = self.client.backoff.max_attempts(attempts);
        if let Some(deadline) = deadline {
            policy = policy.deadline(deadline);
        }
        let headers = if self.forwarding {
            let mut headers = self.headers.clone();
            for (name, value) in propagate::http_headers() {
                if let Some(name) = name {
                    headers.insert(name, value);
                }
            }
            headers
        } else {
            let mut headers = propagate::http_headers();
            headers.extend(self.headers.clone());
            headers
        };
        let started = Instant::now();
        let transport = shared_transport(!self.forwarding)?;
        let outcome = retry(
            &policy,
            |attempt| self.attempt(&transport, attempt, &headers, deadline),
            |failure| failure.retryable(),
        )
        .await;
        if outcome.attempts > 1 {
            tracing::Span::current().record("http.request.resend_count", outcome.attempts - 1);
        }
        match outcome.result {
            Ok(response) => Ok(response),
            Err(failure) => Err(failure.into_error(&self.method, &self.url, outcome.attempts, started.elapsed())),
        }
    }

    async fn attempt(
        &self,
        transport: &reqwest::Client,
        attempt: u32,
        headers: &HeaderMap,
        deadline: Option<Instant>,
    ) -> Result<Response, Failure> {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let timeout = match left {
            Some(left) if left.is_zero() => return Err(Failure::NoBudget),
            Some(left) => self.attempt_timeout.min(left),
            None => self.attempt_timeout,
        };
        let mut request = transport.request(self.method.clone(), &self.url).headers(headers.clone()).timeout(timeout);
        if let Some((body, content_type)) = &self.body {
            if let Some(content_type) = content_type {
                request = request.header(http::header::CONTENT_TYPE, *content_type);
            }
            request = request.body(body.clone());
        }
        tracing::debug!(method = %self.method, url = %self.url, attempt, timeout_ms = timeout.as_millis() as u64, "outgoing request");
        if attempt > 1 {
            crate::trace::add_event("http.retry", &[("attempt", attempt.to_string())]);
        }
        match request.send().await {
            Ok(response) if response.status().is_server_error() && !self.forwarding => {
                Err(Failure::Status(response.status().as_u16()))
            }
            Ok(response) => Ok(response),
            Err(err) if err.is_timeout() => Err(Failure::Timeout(err)),
            Err(err) if err.is_connect() => Err(Failure::Connect(err)),
            Err(err) => Err(Failure::Other(err)),
        }
    }
}

/// `url` without its query and fragment (which may hold tokens), for a
/// span attribute.
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

fn is_idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE)
}

/// Why one attempt failed.
#[derive(Debug)]
enum Failure {
    Status(u16),
    Timeout(reqwest::Error),
    Connect(reqwest::Error),
    Other(reqwest::Error),
    NoBudget,
}

impl Failure {
    fn retryable(&self) -> bool {
        matches!(self, Failure::Status(_) | Failure::Timeout(_) | Failure::Connect(_))
    }

    fn into_error(self, method: &Method, url: &str, attempts: u32, elapsed: Duration) -> Error {
        let context = format!("{method} {url}: {attempts} attempt(s) in {} ms", elapsed.as_millis());
        match self {
            Failure::Timeout(err) => {
                Error::timeout("a downstream service did not answer in time").with_source(format!("{context}: {err}"))
            }
            Failure::NoBudget => Error::timeout("a downstream service did not answer in time")
                .with_source(format!("{context}: no time left in the invocation's budget")),
            Failure::Status(status) => {
                Error::upstream("a downstream service failed").with_source(format!("{context}: last status {status}"))
            }
            Failure::Connect(err) | Failure::Other(err) => {
                Error::upstream("a downstream service failed").with_source(format!("{context}: {err}"))
            }
        }
    }
}
