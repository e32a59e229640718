//! The `main` of a durable function: [`run`], [`run_with_init`],
//! [`run_with_options`].

use std::fmt::Display;
use std::future::Future;
use std::process::ExitCode;

use aws_durable_execution_sdk::test_util::LocalRunner;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::execution::Execution;
use super::handler;
use crate::Options;
use crate::error::IntoError;
use crate::runtime::handler::StatefulHandlerFn;
use crate::runtime::local::{Command, checked_event};
use crate::runtime::run::{Mode, RunFuture, start_container};

/// The environment variable a local run reads the callbacks' payloads
/// from: a JSON array, delivered in order to the callbacks the execution
/// waits for.
pub(crate) const LOCAL_CALLBACKS_ENV: &str = "HALO_LOCAL_CALLBACKS";

/// Runs `handler` as a durable function: `async fn(E, &Ctx, &Execution)`.
/// The `main` of a durable function without state; see [`run_with_init`].
///
/// ```no_run
/// use halo::durable_execution::Execution;
///
/// async fn greet(name: String, _ctx: &halo::Ctx, execution: &Execution) -> Result<String, halo::Error> {
///     execution.wait(std::time::Duration::from_secs(60)).name("cooldown").await.map_err(halo::Error::internal)?;
///     Ok(format!("hello, {name}"))
/// }
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> std::process::ExitCode {
///     halo::durable_execution::run(greet).await
/// }
/// ```
pub fn run<H, E, R, Err>(handler: H) -> RunFuture<'static>
where
    H: for<'a> StatefulHandlerFn<'a, Execution, E, R, Err>,
    E: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    Err: IntoError + Send + 'static,
{
    run_with_init(async { Ok::<(), std::convert::Infallible>(()) }, handler)
}

/// Builds per-container state with `init` (as [`crate::run_with_init`]
/// does), then runs `handler` as a durable function, the state reached
/// with [`Execution::state`].
///
/// Inside Lambda it serves invocations through the AWS durable execution
/// SDK, with the container's shared AWS configuration
/// ([`platform::sdk_config`](crate::platform::sdk_config)). Outside, it is
/// the local command line: `invoke <event.json>...` drives each execution
/// to its end in memory with the SDK's local runner (waits pass at once;
/// callbacks get the payloads of `HALO_LOCAL_CALLBACKS`, a JSON array) and
/// prints its output, or its `errorType` and `errorMessage`.
pub fn run_with_init<'a, I, S, InitErr, H, E, R, Err>(init: I, handler: H) -> RunFuture<'a>
where
    I: Future<Output = Result<S, InitErr>> + 'a,
    InitErr: Display + 'static,
    S: Send + Sync + 'static,
    H: for<'h> StatefulHandlerFn<'h, Execution<S>, E, R, Err>,
    E: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    Err: IntoError + Send + 'static,
{
    run_with_options(Options::from_env(), init, handler)
}

/// [`run_with_init`] with explicit [`Options`].
pub fn run_with_options<'a, I, S, InitErr, H, E, R, Err>(options: Options, init: I, handler: H) -> RunFuture<'a>
where
    I: Future<Output = Result<S, InitErr>> + 'a,
    InitErr: Display + 'static,
    S: Send + Sync + 'static,
    H: for<'h> StatefulHandlerFn<'h, Execution<S>, E, R, Err>,
    E: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    Err: IntoError + Send + 'static,
{
    Box::pin(async move {
        // A saga run by the execution keeps its progress in the
        // execution's checkpoints: the saga log is needed only when the
        // configuration asks for it.
        let unused: &[&str] = if crate::saga::durable_sagas_use_log() { &[] } else { &[crate::saga::STORE.name] };
        let (mode, state) = match start_container(&options, init, unused).await {
            Ok(started) => started,
            Err(exit) => return exit,
        };
        let run = handler::handler(state, handler, &options);
        match mode {
            Mode::Lambda => serve(run).await,
            Mode::Local(command) => run_locally(run, command).await,
        }
    })
}

async fn serve<F, Fut>(run: F) -> ExitCode
where
    F: Fn(Box<serde_json::value::RawValue>, aws_durable_execution_sdk::DurableContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Box<serde_json::value::RawValue>, aws_durable_execution_sdk::BoxError>> + Send,
{
    let sdk_config = crate::platform::sdk_config().await.clone();
    let options = match aws_durable_execution_sdk::Options::builder().sdk_config(sdk_config).build() {
        Ok(options) => options,
        Err(err) => {
            tracing::error!(error_cause = %err, "the durable execution SDK refused its options");
            return ExitCode::FAILURE;
        }
    };
    // The SDK's service, and after each answer the flush halo's own
    // Runtime API loop does: the invocation's spans leave before Lambda
    // freezes the container.
    let service = aws_durable_execution_sdk::wrap(run, options);
    let answer_then_flush = move |event| {
        let answered = service(event);
        async move {
            let answer = answered.await;
            crate::trace::flush().await;
            answer
        }
    };
    match lambda_runtime::run(lambda_runtime::service_fn(answer_then_flush)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error_cause = %err, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}

/// `invoke <event.json>...`: each event's execution driven to its end in
/// memory.
async fn run_locally<F, Fut>(run: F, command: Command) -> ExitCode
where
    F: Fn(Box<serde_json::value::RawValue>, aws_durable_execution_sdk::DurableContext) -> Fut
        + Clone
        + Send
        + Sync
        + 'static,
    Fut: Future<Output = Result<Box<serde_json::value::RawValue>, aws_durable_execution_sdk::BoxError>> + Send,
{
    let Command::Invoke { sources, .. } = command else {
        eprintln!("error: `serve` runs axum routers (`#[halo::http]`); this handler takes `invoke <event.json>`");
        return ExitCode::from(2);
    };
    let callbacks: Vec<serde_json::Value> = match std::env::var(LOCAL_CALLBACKS_ENV) {
        Err(_) => Vec::new(),
        Ok(text) => match serde_json::from_str(&text) {
            Ok(callbacks) => callbacks,
            Err(err) => {
                tracing::error!(error_cause = %err, "{LOCAL_CALLBACKS_ENV} is not a JSON array of payloads");
                return ExitCode::from(2);
            }
        },
    };
    let mut status = ExitCode::SUCCESS;
    for source in &sources {
        let text = match checked_event(source) {
            Ok(text) => text,
            Err(exit) => return exit,
        };
        let event = match serde_json::value::RawValue::from_string(text) {
            Ok(event) => event,
            Err(_) => return ExitCode::from(2),
        };
        let runner = callbacks.iter().fold(LocalRunner::new(), |runner, payload| runner.callback_success(payload));
        let result = runner.run(run.clone(), event).await;
        crate::trace::flush().await;
        match result.output() {
            Some(output) => println!("{}", output.get()),
            None => {
                let error_type = result.error_type().unwrap_or("ExecutionSuspended");
                let message = result.error_message().unwrap_or_default();
                println!("{}", serde_json::json!({ "errorType": error_type, "errorMessage": message }));
                status = ExitCode::FAILURE;
            }
        }
    }
    crate::metrics::flush_container();
    status
}
