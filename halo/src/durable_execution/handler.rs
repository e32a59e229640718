//! A halo handler as the durable execution SDK's handler: each invocation
//! of the execution runs through halo's stack.

use std::sync::Arc;

use aws_durable_execution_sdk::{BoxError, DurableContext, TypedError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tower::ServiceExt as _;

use super::execution::Execution;
use crate::context::{DurableRun, InvocationStart};
use crate::error::{Error, IntoError};
use crate::future::BoxFuture;
use crate::runtime::handler::{HandlerService, StatefulHandlerFn, decode_event, encode_response};
use crate::runtime::stack::{Guard, stack_of};
use crate::{Ctx, Invocation, InvocationService, Options};

/// The future of a [`handler`]'s invocation.
pub type ExecutionFuture = BoxFuture<'static, Result<Box<RawValue>, BoxError>>;

/// Turns a halo durable handler into the function the durable execution
/// SDK runs for each invocation of an execution: give it to
/// `aws_durable_execution_sdk::run` (what [`run`](super::run) does inside
/// Lambda) or to the SDK's `LocalRunner` (tests, local runs).
///
/// Each invocation runs through halo's stack as any handler does (JSON
/// logs, metrics, correlation id, errors, panics), replay-aware:
///
/// - a log line or a metric value written by code being replayed is
///   dropped (it was written when that code first ran), and an
///   invocation resuming the execution is never a `ColdStart`;
/// - the correlation id is the event's (the same event on every
///   invocation), else one derived from the execution's ARN: one id for
///   the whole execution;
/// - `durable_execution_arn` is on every log line; with tracing, each
///   invocation's root span joins one trace per execution (the event's
///   trace context, else one derived from the execution's ARN);
/// - a handler error is the execution's failure: its `ErrorType` is the
///   halo error code and its message `<code>: <public message>` (the
///   internal cause is only logged); halo's deadline guard is off, as the
///   service invokes an execution cut short by a deadline again.
///
/// ```
/// use halo::durable_execution::{Execution, handler};
///
/// async fn greet(name: String, _ctx: &halo::Ctx, execution: &Execution) -> Result<String, halo::Error> {
///     let greeting = execution
///         .step(move |_| async move { Ok(format!("hello, {name}")) })
///         .name("greet")
///         .await
///         .map_err(halo::Error::internal)?;
///     Ok(greeting)
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use aws_durable_execution_sdk::test_util::LocalRunner;
///
/// let run = handler((), greet, &halo::Options::from_env());
/// let event = serde_json::value::to_raw_value("ada").unwrap();
/// let result = LocalRunner::new().run(run, event).await;
/// assert_eq!(result.output().map(|raw| raw.get()), Some(r#""hello, ada""#));
/// # });
/// ```
pub fn handler<H, S, E, R, Err>(
    state: S,
    handler: H,
    options: &Options,
) -> impl Fn(Box<RawValue>, DurableContext) -> ExecutionFuture + Clone + Send + Sync + 'static
where
    H: for<'a> StatefulHandlerFn<'a, Execution<S>, E, R, Err>,
    S: Send + Sync + 'static,
    E: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    Err: IntoError + Send + 'static,
{
    let service = stack_of(call_with_execution(Arc::new(state), handler), options, Guard::None);
    let margin = options.timeout_margin;
    let fallback_timeout = options.fallback_timeout;
    move |event: Box<RawValue>, context: DurableContext| {
        let service: InvocationService = service.clone();
        Box::pin(async move {
            let ctx = invocation_ctx(&context, margin, fallback_timeout);
            let fallback_id = correlation_id_of(context.execution_arn());
            #[cfg(feature = "otel")]
            let traceparent = traceparent_of(context.execution_arn());
            ctx.with_extension(|slot: &mut Option<DurableContext>| *slot = Some(context));
            let mut invocation = Invocation::new(event.get(), ctx);
            #[cfg(feature = "otel")]
            invocation.continue_trace(traceparent);
            invocation.add_fallback_id(fallback_id);
            service.oneshot(invocation).await.map_err(execution_failure)
        })
    }
}

/// The innermost service: decodes the event and calls the handler with
/// the invocation's [`Execution`].
fn call_with_execution<H, S, E, R, Err>(state: Arc<S>, handler: H) -> HandlerService
where
    H: for<'a> StatefulHandlerFn<'a, Execution<S>, E, R, Err>,
    S: Send + Sync + 'static,
    E: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    Err: IntoError + Send + 'static,
{
    let handler = Arc::new(handler);
    HandlerService::from_call(move |inv: Invocation| {
        let handler = Arc::clone(&handler);
        let state = Arc::clone(&state);
        Box::pin(async move {
            let Some(context) = inv.ctx.with_extension(|slot: &mut Option<DurableContext>| slot.clone()) else {
                return Err(Error::internal("a durable handler was invoked without its durable context"));
            };
            let execution = Execution::new(context, state);
            let event: E = decode_event(inv.payload())?;
            let response = handler.call(event, &inv.ctx, &execution).await.map_err(IntoError::into_error)?;
            encode_response(&response)
        })
    })
}

/// The invocation's [`Ctx`]: Lambda's ids and deadline, the execution's
/// ARN on every log line, and the replay probe halo's logger and metrics
/// ask.
fn invocation_ctx(
    context: &DurableContext,
    timeout_margin: std::time::Duration,
    fallback_timeout: Option<std::time::Duration>,
) -> Ctx {
    let lambda = context.lambda_context();
    let resumed = context.is_replaying();
    let now_ms = crate::context::epoch_ms_now();
    // The SDK's local runner invokes with an empty context (no request id,
    // no deadline): a local run, not a Runtime API to warn about.
    let local = lambda.request_id.is_empty() && lambda.deadline == 0;
    let (request_id, deadline_epoch_ms) = if local {
        let timeout = fallback_timeout.unwrap_or(crate::timeout::MAX_LAMBDA_TIMEOUT);
        (uuid::Uuid::new_v4().to_string(), now_ms.saturating_add(timeout.as_millis() as u64))
    } else {
        (lambda.request_id.clone(), crate::timeout::deadline_or_fallback(lambda.deadline, now_ms, fallback_timeout))
    };
    let start = InvocationStart {
        request_id,
        deadline_epoch_ms,
        invoked_function_arn: Some(lambda.invoked_function_arn.clone()).filter(|arn| !arn.is_empty()),
        xray_trace_id: lambda.xray_trace_id.clone(),
        timeout_margin,
    };
    let ctx = Ctx::for_durable_invocation(start, resumed);
    let probe = context.clone();
    ctx.set_durable_run(DurableRun {
        execution_arn: Arc::from(context.execution_arn()),
        replaying: Arc::new(move || probe.is_replaying()),
    });
    ctx.append_log_key("durable_execution_arn", context.execution_arn());
    ctx
}

/// The correlation id of an execution whose event carries none: derived
/// from its ARN (UUID-shaped), so each of its invocations has the same.
pub(crate) fn correlation_id_of(execution_arn: &str) -> String {
    let hex = crate::digest::md5_hex(execution_arn.as_bytes());
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The trace an execution's invocations continue when its event carries
/// none: its id and its parent span's derived from the execution's ARN, so
/// each invocation's root span joins the same trace, under one parent.
#[cfg(feature = "otel")]
pub(crate) fn traceparent_of(execution_arn: &str) -> String {
    let trace_id = crate::digest::md5_hex(execution_arn.as_bytes());
    let span_id = crate::digest::md5_hex(format!("parent of {execution_arn}").as_bytes());
    format!("00-{trace_id}-{}-01", &span_id[..16])
}

/// A handler error as the execution's failure: the halo code as the
/// `ErrorType`, the public message (never the internal cause, which halo's
/// error log has written with the trace id).
fn execution_failure(err: Error) -> BoxError {
    Box::new(TypedError::with_type(err.code().to_owned(), err.message().to_owned()))
}
