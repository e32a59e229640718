//! Serving an axum [`Router`] on Lambda (API Gateway REST and HTTP APIs,
//! ALB, Function URLs) with halo's whole stack, and on a loopback port for
//! development.

use std::convert::Infallible;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::value::RawValue;
use tower::ServiceExt;
use tracing::Instrument as _;

use crate::context::{InvocationStart, epoch_ms_now};
use crate::event::EventSource;
use crate::event::names;
use crate::{Ctx, Error};

/// Serves `router` with halo's stack: as a Lambda runtime inside Lambda
/// ([`crate::platform::in_lambda`]); otherwise as the local command line
/// (`<bin> invoke event.json`, as for any halo handler) or, with
/// `<bin> serve [--port N]`, as an HTTP server on `127.0.0.1` (default
/// port 3000) for development.
///
/// Every request gets a [`Ctx`] (an axum extractor) with its correlation id
/// (the `x-correlation-id` header, validated, else generated), which goes
/// back in the response header; one access log line (`method`, `route`,
/// `status`, `latency_ms`); the timeout guard (504), panic catching (500);
/// and every error, extractor rejection and unmatched route answers with
/// `{"error": {"code", "message", "trace_id"}}`.
///
/// ```no_run
/// use axum::{Router, routing::get};
///
/// async fn hello(ctx: halo::Ctx) -> String {
///     format!("hello from {}", ctx.request_id())
/// }
///
/// fn main() -> std::process::ExitCode {
///     let router = Router::new().route("/hello", get(hello));
///     halo::platform::block_on(halo::http::run(router))
/// }
/// ```
pub async fn run(router: Router) -> ExitCode {
    run_with_init(async move { Ok::<_, Infallible>(router) }).await
}

/// [`run`] with the router built by `init` once per container (AWS
/// clients, configuration): inside Lambda an `init` error is reported to
/// Lambda's `/init/error` and the process exits, as for
/// [`crate::run_with_init`].
pub async fn run_with_init<F, E>(init: F) -> ExitCode
where
    F: std::future::Future<Output = Result<Router, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    run_with_options(crate::Options::from_env(), init).await
}

/// [`run_with_init`] with explicit [`Options`](crate::Options), as
/// [`crate::run_with_options`]; what `#[halo::http(metrics)]` expands to.
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use halo::metrics::MetricsConfig;
///
/// fn main() -> std::process::ExitCode {
///     let options = halo::Options::from_env().metrics(MetricsConfig::from_env().required());
///     let router = async { Ok::<_, std::convert::Infallible>(Router::new().route("/", get(|| async { "hi" }))) };
///     halo::platform::block_on(halo::http::run_with_options(options, router))
/// }
/// ```
pub async fn run_with_options<F, E>(options: crate::Options, init: F) -> ExitCode
where
    F: std::future::Future<Output = Result<Router, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !crate::platform::in_lambda()
        && let Ok(Some(crate::runtime::local::Command::Serve { port })) = crate::runtime::local::parse(&args)
    {
        crate::log::init();
        return match init.await {
            Ok(router) => serve_on(router, port, options.timeout_margin).await,
            Err(err) => {
                tracing::error!(error_cause = %crate::error::init::describe_init_error(&err), "init failed");
                ExitCode::FAILURE
            }
        };
    }
    crate::run_with_options(options, async move { init.await.map(with_halo_layers) }, handle_event).await
}

async fn serve_on(router: Router, port: u16, margin: Duration) -> ExitCode {
    match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => {
            tracing::info!(address = %format!("http://127.0.0.1:{port}"), "serving");
            match serve_with_margin(router, listener, margin).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    tracing::error!(error = %err, "the server failed");
                    ExitCode::FAILURE
                }
            }
        }
        Err(err) => {
            eprintln!("error: cannot listen on 127.0.0.1:{port}: {err}");
            ExitCode::from(2)
        }
    }
}

/// How long a request may take in serve mode.
const SERVE_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` with halo's layers: each request gets its
/// own [`Ctx`] (a generated request id, a 30 s deadline, the timeout margin
/// of [`Options::from_env`](crate::Options::from_env)) and correlation.
pub async fn serve(router: Router, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    serve_with_margin(router, listener, crate::Options::from_env().timeout_margin).await
}

async fn serve_with_margin(router: Router, listener: tokio::net::TcpListener, margin: Duration) -> std::io::Result<()> {
    let router = with_halo_layers(router).layer(middleware::from_fn_with_state(margin, local_context));
    axum::serve(listener, router).await
}

/// halo's layers as axum middleware, as [`run`] applies them: halo error
/// bodies for rejections and for unmatched routes (`RouteNotFound`, unless
/// the router has a fallback of its own), the access log line. With
/// [`handle_event`] it lets you run a router under halo's stack yourself
/// (a custom runtime, a benchmark).
#[cfg_attr(not(feature = "test-support"), allow(unreachable_pub))]
pub fn with_halo_layers(router: Router) -> Router {
    router.layer(middleware::from_fn(shape_errors)).layer(middleware::from_fn(access_log))
}

/// Marks a response passed on as another service gave it (a request
/// forwarded by a façade): its status and body reach the caller untouched.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Forwarded;

/// Replaces axum's plain-text rejections (bad JSON, wrong content type,
/// missing path parameter, …) and its empty answer to an unmatched route
/// with halo error bodies. Their text may quote the request, so it is
/// logged, not returned.
async fn shape_errors(request: Request, next: Next) -> Response {
    // axum's own fallback runs the layers without a matched route.
    let unmatched = request.extensions().get::<MatchedPath>().is_none();
    let response = next.run(request).await;
    if response.extensions().get::<Forwarded>().is_some() {
        return response;
    }
    let status = response.status();
    let is_json = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    if unmatched && status == http::StatusCode::NOT_FOUND {
        return Error::not_found("no such route").with_code("RouteNotFound").into_response();
    }
    let (_, body) = response.into_parts();
    let text = body.collect().await.map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned()).unwrap_or_default();
    tracing::warn!(status = status.as_u16(), rejection = %text.chars().take(300).collect::<String>(), "request rejected");
    let error = match status.as_u16() {
        400 => Error::bad_request("the request is malformed"),
        404 => Error::not_found("no such resource"),
        405 => Error::bad_request("this method is not allowed here").with_code("MethodNotAllowed"),
        413 => Error::bad_request("the request body is too large").with_code("PayloadTooLarge"),
        415 => Error::bad_request("expected a JSON body with `content-type: application/json`")
            .with_code("UnsupportedMediaType"),
        422 => Error::unprocessable("the request body does not match the expected shape"),
        s if s < 500 => Error::bad_request("the request was rejected"),
        _ => Error::internal("an internal error"),
    };
    let mut response = error.into_response();
    if matches!(status.as_u16(), 405 | 413 | 415) {
        *response.status_mut() = status;
    }
    response
}

/// One line per request: method, route template, status, latency. A
/// request cut by the timeout guard (its future dropped) gets its line
/// too, with status 504 and `timed_out: true`.
async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let template = route.as_deref().unwrap_or("(unmatched)");
    let span = crate::trace::span!(
        "http.route",
        otel.name = %format_args!("{method} {template}"),
        http.request.method = %method,
        http.route = template,
        http.response.status_code = tracing::field::Empty,
    );
    let mut line = AccessLine { method, route, started, status: None };
    let response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    line.status = Some(response.status().as_u16());
    response
}

/// The access log line of one request, written when it is dropped: after
/// the response, or when the request's future is dropped unfinished (the
/// timeout guard answered 504 instead).
struct AccessLine {
    method: http::Method,
    route: Option<String>,
    started: Instant,
    status: Option<u16>,
}

impl Drop for AccessLine {
    fn drop(&mut self) {
        let route = self.route.as_deref().unwrap_or("(unmatched)");
        let latency_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        match self.status {
            Some(status) => tracing::info!(method = %self.method, route, status, latency_ms, "request"),
            // A panic is answered 500 by the panic layer.
            None if std::thread::panicking() => {
                tracing::info!(method = %self.method, route, status = 500u16, latency_ms, panicked = true, "request")
            }
            None => {
                tracing::info!(method = %self.method, route, status = 504u16, latency_ms, timed_out = true, "request")
            }
        }
    }
}

/// Serve mode: a fresh context per request, its correlation from the
/// `x-correlation-id` / `debug-log-enabled` headers, echoed back.
async fn local_context(State(margin): State<Duration>, request: Request, next: Next) -> Response {
    let incoming = {
        // In a block: `Request` is not `Sync`, so no borrow of it may live
        // across the `await` below.
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        crate::correlation::Incoming::new(
            EventSource::ApiGatewayV2,
            header(names::CORRELATION_ID),
            header(names::DEBUG)
                .filter(|_| {
                    crate::correlation::TrustedSources::from_env()
                        .unwrap_or_default()
                        .contains(EventSource::ApiGatewayV2)
                })
                .map(|v| v.eq_ignore_ascii_case("true")),
            header(names::USER_AGENT),
        )
    };
    let (correlation, _) = crate::correlation::decide(incoming, crate::correlation::sampling::debug_sample_rate());
    let id = correlation.id.clone();
    let ctx = Ctx::for_invocation(InvocationStart {
        request_id: crate::correlation::generate_id(),
        deadline_epoch_ms: epoch_ms_now().saturating_add(SERVE_TIMEOUT.as_millis() as u64),
        invoked_function_arn: None,
        xray_trace_id: None,
        timeout_margin: margin,
    });
    ctx.set_correlation(correlation);
    let mut request = request;
    request.extensions_mut().insert(ctx.clone());
    let mut response = ctx.scope(next.run(request)).await;
    if let Ok(value) = http::HeaderValue::from_str(&id) {
        response.headers_mut().insert(names::CORRELATION_ID, value);
    }
    response
}

/// One Lambda invocation, as [`run`] handles it: the event (API Gateway
/// REST or HTTP API, ALB, Function URL) as an HTTP request through
/// `router` (built with [`with_halo_layers`]), with `ctx` as a request
/// extension; the response in the event source's shape. A halo handler
/// with the router as state:
/// `HandlerService::with_state(with_halo_layers(router), handle_event)`.
#[cfg_attr(not(feature = "test-support"), allow(unreachable_pub))]
pub async fn handle_event(event: Box<RawValue>, ctx: &Ctx, router: &Router) -> Result<Box<RawValue>, Error> {
    let mut request = super::request::to_http_request(&event)?;
    request.extensions_mut().insert(ctx.clone());
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.map_err(|e| Error::internal(e.to_string()))?.to_bytes();
    let source = ctx.correlation().map_or(EventSource::ApiGatewayV1, |c| c.source);
    let mut headers: Vec<(&str, &str)> =
        parts.headers.iter().filter_map(|(name, value)| value.to_str().ok().map(|v| (name.as_str(), v))).collect();
    let correlation_id = ctx.correlation_id().unwrap_or_default();
    if !parts.headers.contains_key(names::CORRELATION_ID) && !correlation_id.is_empty() {
        headers.push((names::CORRELATION_ID, correlation_id));
    }
    // The header map is known here: the response layer need not parse it.
    ctx.with_extension(|written: &mut crate::runtime::CorrelationHeaderWritten| written.0 = true);
    let content_type = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (body, base64) = match std::str::from_utf8(&bytes) {
        Ok(text) if is_text(content_type) || content_type.is_empty() => (text.to_owned(), false),
        _ => (crate::base64::encode(&bytes), true),
    };
    Ok(crate::runtime::proxy_response(parts.status.as_u16(), &headers, body, base64, source))
}

fn is_text(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.starts_with("text/")
        || ["application/json", "application/javascript", "application/xml"].contains(&essence)
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::routing::get;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::log::{CapturedLines, JsonLayer};

    fn v2_event(path: &str) -> Box<RawValue> {
        let event = serde_json::json!({
            "version": "2.0",
            "rawPath": path,
            "rawQueryString": "",
            "headers": {},
            "requestContext": { "http": { "method": "GET", "path": path }, "requestId": "r-1" },
            "isBase64Encoded": false,
        });
        serde_json::value::to_raw_value(&event).unwrap()
    }

    #[tokio::test]
    async fn a_request_cut_by_the_timeout_guard_has_its_access_line_with_504() {
        let lines = CapturedLines::default();
        let _guard =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(JsonLayer::new(lines.clone())));
        let slow = || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "late"
        };
        let router = with_halo_layers(Router::new().route("/slow", get(slow)).route("/fast", get(|| async { "ok" })));
        let ctx = Ctx::for_test();
        let fast = handle_event(v2_event("/fast"), &ctx, &router).await.unwrap();
        assert!(fast.get().contains(r#""statusCode":200"#), "{}", fast.get());
        // What the timeout guard does: drop the request's future unfinished.
        let cut = tokio::time::timeout(Duration::from_millis(20), handle_event(v2_event("/slow"), &ctx, &router)).await;
        assert!(cut.is_err());
        let access: Vec<serde_json::Value> = lines.json().into_iter().filter(|l| l["message"] == "request").collect();
        assert_eq!(access.len(), 2, "{access:?}");
        assert_eq!((access[0]["route"].as_str(), access[0]["status"].as_u64()), (Some("/fast"), Some(200)));
        assert_eq!((access[1]["route"].as_str(), access[1]["status"].as_u64()), (Some("/slow"), Some(504)));
        assert_eq!(access[1]["timed_out"], true);
    }
}
