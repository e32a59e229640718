//! The Lambda Runtime API side: polling for events with `lambda_runtime`,
//! handing each one to halo's stack as an [`Invocation`], and reporting
//! init errors.
//!
//! With `AWS_LAMBDA_MAX_CONCURRENCY` above 1 (Lambda Managed Instances),
//! `lambda_runtime` runs that many polling loops at once, each serving one
//! invocation at a time; otherwise one loop serves them in turn. Every
//! invocation is counted from the moment it is handed over until its
//! answer is posted, so a SIGTERM can wait for the ones in flight
//! (the guide's "Graceful shutdown").
//!
//! The event's bytes are taken as they arrive: `lambda_runtime` would
//! otherwise parse every event once just to hand it over, before halo
//! scans it and the handler decodes it. A layer in front of its response
//! service swaps the body for `null` (which decodes into `()` at no cost)
//! and passes the bytes on beside it.

use std::cell::Cell;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use futures_util::future::Either;
use tower::ServiceExt;

use super::shutdown::{InFlight, Tracked, serve_until_terminated};
use crate::Invocation;
use crate::InvocationService;
use crate::Options;
use crate::context::{Ctx, InvocationStart};
use crate::error::Error;

const REQUIRED_LAMBDA_VARS: [&str; 3] =
    ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"];

/// Serves invocations from the Lambda Runtime API until it goes away.
///
/// With [`max_concurrency`](crate::platform::max_concurrency) above 1
/// (Lambda Managed Instances) that many invocations are served at once;
/// run it on [`tokio_runtime`](crate::platform::tokio_runtime) so they also
/// use every core. On SIGTERM the invocations in flight get
/// [`Options::shutdown_grace`] to finish, then the process exits with
/// status 0 (the guide's "Graceful shutdown", in [`crate::handler`]).
///
/// Use this to run a custom stack (see [`crate::layers`]); [`run`](crate::run)
/// and [`run_with_init`](crate::run_with_init) call it for you.
pub(crate) async fn serve_lambda(service: InvocationService, options: &Options) -> ExitCode {
    let missing: Vec<&str> = REQUIRED_LAMBDA_VARS.iter().copied().filter(|v| std::env::var_os(v).is_none()).collect();
    let memory_ok = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").map(|m| m.parse::<i32>().is_ok()).unwrap_or(true);
    if !missing.is_empty() || !memory_ok {
        tracing::error!(missing = ?missing, "the Lambda environment is incomplete: these variables must be set (and the memory size a number)");
        return ExitCode::FAILURE;
    }
    let (margin, fallback_timeout) = (options.timeout_margin, options.fallback_timeout);
    let adapter = tower::service_fn(move |event: lambda_runtime::LambdaEvent<()>| {
        let context = event.context;
        let Some(body) = take_body() else {
            return Either::Left(std::future::ready(Err(Error::internal("the event body was not handed over"))));
        };
        let payload = match String::from_utf8(Vec::from(body)) {
            Ok(payload) => payload,
            Err(_) => {
                let error = Error::bad_request("the event is not UTF-8 JSON").with_code("InvalidEvent");
                return Either::Left(std::future::ready(Err(error)));
            }
        };
        let ctx = Ctx::for_invocation(InvocationStart {
            request_id: context.request_id,
            deadline_epoch_ms: crate::timeout::deadline_or_fallback(
                context.deadline,
                crate::context::epoch_ms_now(),
                fallback_timeout,
            ),
            invoked_function_arn: Some(context.invoked_function_arn),
            xray_trace_id: context.xray_trace_id,
            timeout_margin: margin,
        });
        Either::Right(service.clone().oneshot(Invocation::new(payload, ctx)))
    });
    let adapter = tower::ServiceBuilder::new().map_err(to_diagnostic).service(adapter);
    let in_flight = Arc::new(InFlight::default());
    let intake = IntakeLayer { in_flight: Arc::clone(&in_flight) };
    let runtime = lambda_runtime::Runtime::new(adapter).layer(intake);
    serve_until_terminated(runtime.run_concurrent(), in_flight, options.shutdown_grace).await
}

thread_local! {
    /// The body of the invocation being handed over on this thread: set by
    /// [`IntakeService`] around the (synchronous) call into
    /// `lambda_runtime`'s services, taken by the adapter inside it.
    static BODY: Cell<Option<Bytes>> = const { Cell::new(None) };
}

fn take_body() -> Option<Bytes> {
    BODY.with(Cell::take)
}

/// Takes the event's bytes out of the invocation before `lambda_runtime`
/// decodes it (leaving `null`, the payload `()`), for the adapter, and
/// counts the invocation in flight until its answer is posted.
#[derive(Clone)]
struct IntakeLayer {
    in_flight: Arc<InFlight>,
}

impl<S> tower::Layer<S> for IntakeLayer {
    type Service = IntakeService<S>;
    fn layer(&self, inner: S) -> IntakeService<S> {
        IntakeService { inner, in_flight: Arc::clone(&self.in_flight) }
    }
}

#[derive(Clone)]
struct IntakeService<S> {
    inner: S,
    in_flight: Arc<InFlight>,
}

impl<S> tower::Service<lambda_runtime::LambdaInvocation> for IntakeService<S>
where
    S: tower::Service<lambda_runtime::LambdaInvocation>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Tracked<Either<S::Future, crate::future::BoxFuture<'static, Result<S::Response, S::Error>>>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: lambda_runtime::LambdaInvocation) -> Self::Future {
        let guard = self.in_flight.enter();
        let body = std::mem::replace(&mut invocation.body, Bytes::from_static(b"null"));
        // Set and taken within this synchronous call, on this thread, so
        // concurrent invocations on other threads never see each other's.
        BODY.with(|slot| slot.set(Some(body)));
        let future = self.inner.call(invocation);
        // Not taken (the payload failed to decode, which `null` cannot):
        // never left for the next invocation.
        BODY.with(Cell::take);
        if !crate::trace::enabled() {
            return Tracked::new(Either::Left(future), guard);
        }
        // The answer is posted when `future` completes; the invocation's
        // spans leave before the next poll, so a freeze loses none.
        let exported = async move {
            let answered = future.await;
            crate::trace::flush().await;
            answered
        };
        Tracked::new(Either::Right(Box::pin(exported)), guard)
    }
}

/// The Lambda error for a halo error: `errorType` is the code, the message
/// is the public one (never the internal cause).
fn to_diagnostic(err: Error) -> lambda_runtime::Diagnostic {
    lambda_runtime::Diagnostic { error_type: err.code().to_owned(), error_message: err.message().to_owned() }
}

/// Tells the Runtime API that initialisation failed (best effort).
pub(crate) async fn report_init_error(message: &str) {
    use lambda_runtime_api_client::body::Body;

    let body = serde_json::json!({ "errorType": "Runtime.InitError", "errorMessage": message }).to_string();
    let request = lambda_runtime_api_client::build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .header("content-type", "application/json")
        .body(Body::from(body));
    let sent = match (lambda_runtime_api_client::Client::builder().build(), request) {
        (Ok(client), Ok(request)) => client.call(request).await.map(|_| ()),
        (Err(err), _) => Err(err.into()),
        (_, Err(err)) => Err(err.into()),
    };
    if let Err(err) = sent {
        tracing::warn!(error_cause = %err, "could not report the init error to the Runtime API");
    }
}
