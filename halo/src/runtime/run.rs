//! Entry points: [`run`] and [`run_with_init`].
//!
//! Inside Lambda, or under a Runtime API emulator
//! ([`crate::platform::in_lambda`]), a halo binary is a normal Lambda runtime: it polls for events
//! and answers them through halo's tower stack. Without it, it is a local
//! command-line tool (see [`crate::runtime::local`]).

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;

use crate::Options;
use crate::context::Ctx;
use crate::error::IntoError;
use crate::runtime::handler::{HandlerFn, HandlerService, StatefulHandlerFn};
use crate::runtime::lambda::{report_init_error, serve_lambda};
use crate::runtime::local::{self, Command};
use crate::runtime::stack::stack;

/// The future of a halo binary's `main`, which [`run`], [`run_with_init`]
/// and [`run_with_options`] return: `.await` it in an async `main`, or give
/// it to [`platform::block_on`](crate::platform::block_on).
///
/// It is boxed so that the bounds on the handler's event, response and
/// error types are checked once, where the call names them: a type that
/// does not fit is one compiler error.
pub type RunFuture<'a> = Pin<Box<dyn Future<Output = ExitCode> + 'a>>;

/// Runs `handler` for every invocation of this container.
///
/// `handler` is a plain `async fn(E, &Ctx) -> Result<R, Err>` where `E`
/// deserializes from the event, `R` serializes into the response and `Err`
/// is a [`halo::Error`](crate::Error) or anything [`IntoError`]: the
/// hand-written `main` of a `#[halo::handler]` without arguments.
///
/// ```no_run
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct Greet { name: String }
///
/// #[derive(Serialize)]
/// struct Greeting { message: String }
///
/// async fn greet(event: Greet, _ctx: &halo::Ctx) -> Result<Greeting, halo::Error> {
///     tracing::info!(name = %event.name, "greeting");
///     Ok(Greeting { message: format!("hello, {}", event.name) })
/// }
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> std::process::ExitCode {
///     halo::run(greet).await
/// }
/// ```
pub fn run<H, E, R, Err>(handler: H) -> RunFuture<'static>
where
    H: for<'a> HandlerFn<'a, E, R, Err>,
    E: crate::HandlerEvent + Send + 'static,
    R: crate::HandlerResponse + Send + 'static,
    Err: IntoError + Send + 'static,
{
    run_with_init(async { Ok::<(), std::convert::Infallible>(()) }, Stateless(handler))
}

/// Builds per-container state once with `init`, then runs `handler` with it
/// for every invocation.
///
/// `init` runs once, before the first invocation (put AWS clients and
/// configuration there); `handler` is an `async fn(E, &Ctx, &S)`. Right
/// after it, halo resolves the stores the binary's macros use from the
/// environment (`#[halo::idempotent]` without `store`, `#[halo::saga_step]`),
/// so a missing table fails the init too. If `init` or a store fails, the
/// error is logged and reported to Lambda as an init error, and the process
/// exits with a failure status: the hand-written `main` of a
/// `#[halo::handler(init = ...)]`.
///
/// ```no_run
/// struct State { greeting: String }
///
/// async fn init() -> Result<State, std::io::Error> {
///     Ok(State { greeting: "hello".into() })
/// }
///
/// async fn greet(name: String, _ctx: &halo::Ctx, state: &State) -> Result<String, halo::Error> {
///     Ok(format!("{}, {name}", state.greeting))
/// }
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> std::process::ExitCode {
///     halo::run_with_init(init(), greet).await
/// }
/// ```
pub fn run_with_init<'a, I, S, InitErr, H, E, R, Err>(init: I, handler: H) -> RunFuture<'a>
where
    I: Future<Output = Result<S, InitErr>> + 'a,
    InitErr: Display + 'static,
    S: Send + Sync + 'static,
    H: for<'h> StatefulHandlerFn<'h, S, E, R, Err>,
    E: crate::HandlerEvent + Send + 'static,
    R: crate::HandlerResponse + Send + 'static,
    Err: IntoError + Send + 'static,
{
    run_with_options(Options::from_env(), init, handler)
}

/// [`run_with_init`] with explicit [`Options`]; what `#[halo::handler]`
/// expands to, with [`Options::from_env`] and the options its arguments
/// (`timeout_margin`, `metrics`) set.
pub fn run_with_options<'a, I, S, InitErr, H, E, R, Err>(options: Options, init: I, handler: H) -> RunFuture<'a>
where
    I: Future<Output = Result<S, InitErr>> + 'a,
    InitErr: Display + 'static,
    S: Send + Sync + 'static,
    H: for<'h> StatefulHandlerFn<'h, S, E, R, Err>,
    E: crate::HandlerEvent + Send + 'static,
    R: crate::HandlerResponse + Send + 'static,
    Err: IntoError + Send + 'static,
{
    // Boxed here, in a plain fn: the bounds are checked where the call
    // names the types, not again on an `async fn`'s future.
    Box::pin(async move {
        let (mode, state) = match start_container(&options, init, &[]).await {
            Ok(started) => started,
            Err(exit) => return exit,
        };
        let service = stack(HandlerService::with_state(state, handler), &options);
        match mode {
            Mode::Lambda => serve_lambda(service, &options).await,
            Mode::Local(command) => local::execute(service, command, options.timeout_margin).await,
        }
    })
}

/// What every halo binary does before its first invocation: the logger
/// and the panic hook, the mode (Lambda, or the local command line, whose
/// usage errors exit here), the metrics configuration, the user's `init`,
/// then the stores the binary's macros use (but the features named in
/// `unused`). A failure is logged, reported to the Runtime API inside
/// Lambda, and gives the exit status.
pub(crate) async fn start_container<I, S, InitErr>(
    options: &Options,
    init: I,
    unused: &[&str],
) -> Result<(Mode, S), ExitCode>
where
    I: Future<Output = Result<S, InitErr>>,
    InitErr: Display + 'static,
{
    crate::log::init();
    crate::log::install_panic_hook();
    if let Some(name) = &options.invalid_trusted_source {
        tracing::warn!(entry = %name, "HALO_DEBUG_FLAG_SOURCES has an entry that is not a source name: the default sources are trusted");
    }
    let mode = Mode::from_env()?;
    // Checked before init: metrics required without a namespace fail the
    // container's init instead of being lost.
    match options.metrics.resolve() {
        Ok(metrics) => crate::metrics::install(metrics),
        Err(err) => return Err(fail_init(&mode, crate::error::init::describe_init_error(&err)).await),
    }
    let state = match init.await {
        Ok(state) => state,
        Err(err) => return Err(fail_init(&mode, crate::error::init::describe_init_error(&err)).await),
    };
    // After the user's init, which may set a store of its own: every
    // store the binary's macros use, from the environment.
    if let Err(cause) = crate::runtime::store_use::resolve_used_stores(unused).await {
        return Err(fail_init(&mode, cause).await);
    }
    Ok((mode, state))
}

/// Logs a failed init, reports it to the Runtime API inside Lambda, and
/// gives the exit status.
async fn fail_init(mode: &Mode, cause: String) -> ExitCode {
    tracing::error!(error_cause = %cause, "init failed");
    if let Mode::Lambda = mode {
        report_init_error(&cause).await;
    }
    ExitCode::FAILURE
}

/// Adapts a stateless handler to the stateful form with `()` state.
#[doc(hidden)]
#[derive(Debug)]
pub struct Stateless<H>(pub H);

impl<'a, H, E, R, Err> StatefulHandlerFn<'a, (), E, R, Err> for Stateless<H>
where
    H: HandlerFn<'a, E, R, Err>,
{
    type Future = H::Future;
    fn call(&self, event: E, ctx: &'a Ctx, _state: &'a ()) -> H::Future {
        self.0.call(event, ctx)
    }
}

/// Where a binary runs: serving the Lambda Runtime API, or a local
/// command.
pub(crate) enum Mode {
    Lambda,
    Local(Command),
}

impl Mode {
    fn from_env() -> Result<Mode, ExitCode> {
        if crate::platform::in_lambda() {
            return Ok(Mode::Lambda);
        }
        match local::parse_args(std::env::args().skip(1))? {
            // Refused with the other usage errors, before init runs.
            Command::Serve { .. } => {
                eprintln!(
                    "error: `serve` runs axum routers (`#[halo::http]`); this handler takes `invoke <event.json>`"
                );
                Err(ExitCode::from(2))
            }
            command => Ok(Mode::Local(command)),
        }
    }
}
