//! # halo
//!
//! A framework for AWS Lambda microservices. Write a plain async function;
//! halo runs it on Lambda with structured JSON logs, a per-invocation
//! context, panic safety and clean errors, and runs the same binary locally
//! on an event file.
//!
//! ```no_run
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)]
//! struct Order { id: String }
//!
//! #[derive(Serialize)]
//! struct Receipt { id: String, status: &'static str }
//!
//! #[halo::handler]
//! async fn handler(order: Order, ctx: &halo::Ctx) -> Result<Receipt, halo::Error> {
//!     tracing::info!(order_id = %order.id, remaining_ms = ctx.remaining().as_millis() as u64, "accepted");
//!     Ok(Receipt { id: order.id, status: "accepted" })
//! }
//! ```
//!
//! Every feature is a library API first: [`run`] / [`run_with_init`] are
//! what the macro expands to, [`layers`] holds the tower layers of the stack,
//! [`log`] the JSON logger.
#![deny(missing_docs)]

#[cfg(any(feature = "axum", feature = "aws"))]
mod base64;
#[cfg(feature = "batch")]
pub mod batch;
pub mod breaker;
mod context;
pub mod correlation;
pub mod durable;
mod error;
mod error_from;
pub mod event;
#[cfg(feature = "fanout")]
pub mod fanout;
mod function;
mod handler;
pub mod http;
pub mod idempotency;
mod init_error;
mod invocation;
mod json_bytes;
pub mod layers;
pub mod local;
mod lock;
pub mod log;
pub mod metrics;
mod options;
pub mod params;
pub mod platform;
mod public_text;
pub mod retry;
mod runtime;
mod runtime_api;
pub mod saga;
pub mod shutdown;
pub mod timeout;
pub mod trace;

pub use context::{Ctx, CtxBuilder};
pub use error::{BoxError, Error, ErrorKind, IntoError};
pub use function::FunctionInfo;
pub use handler::{
    HandlerEvent, HandlerFn, HandlerResponse, HandlerService, StatefulHandlerFn, decode_body, decode_event,
    encode_response,
};
pub use init_error::describe_init_error;
pub use invocation::Invocation;
pub use options::Options;
pub use runtime::{RunFuture, run, run_with_init, run_with_options};
pub use runtime_api::serve_lambda;

/// Marks an `async fn(E, &Ctx) -> Result<R, Err>` as the function's handler
/// and generates `main`.
///
/// The function itself is left as it is, so tests can call it with
/// [`Ctx::for_test`]. `E` must deserialize from the event, `R` serialize
/// into the response, and `Err` be a [`halo::Error`](Error) or implement
/// [`IntoError`].
///
/// ```no_run
/// #[derive(serde::Deserialize)]
/// struct Ping { seq: u64 }
///
/// #[halo::handler]
/// async fn handler(ping: Ping, _ctx: &halo::Ctx) -> Result<u64, halo::Error> {
///     Ok(ping.seq + 1)
/// }
/// ```
///
/// # Arguments
///
/// - `init = path`: an `async fn() -> Result<S, E>` (`E: Display`) run once
///   per container before the first invocation; the handler then takes a
///   third parameter `state: &S`. Build AWS clients and load configuration
///   there, never per invocation.
/// - `timeout_margin = "500ms"`: stop waiting on the handler and answer
///   with a timeout error that long before Lambda's deadline (default
///   `HALO_TIMEOUT_MARGIN_MS`, else 200 ms); see [`timeout`]. A duration
///   string with a unit (`ms`, `s`, `m`, `h`, `d`); `timeout_margin_ms = 500`
///   is the same in whole milliseconds. Expands to [`run_with_options`].
/// - `metrics`: CloudWatch EMF metrics are required: inside Lambda a
///   missing `HALO_METRICS_NAMESPACE` fails the container's init (see
///   [`metrics`]); `metrics = false` turns them off whatever the
///   environment says. Expands to [`Options::metrics`].
///
/// ```no_run
/// struct State { table: String }
///
/// async fn init() -> Result<State, std::env::VarError> {
///     Ok(State { table: std::env::var("TABLE_NAME")? })
/// }
///
/// #[halo::handler(init = init)]
/// async fn handler(id: String, _ctx: &halo::Ctx, state: &State) -> Result<String, halo::Error> {
///     Ok(format!("{id} lives in {}", state.table))
/// }
/// ```
///
/// # Equivalent code without the macro
///
/// `#[halo::handler(init = init)]` on `handler` adds this `main` (without
/// `init`, the call is `halo::run(handler)`), plus a check, spanned on the
/// handler's name, that its future is `Send`:
///
/// ```no_run
/// # struct State;
/// # async fn init() -> Result<State, std::io::Error> { Ok(State) }
/// # async fn handler(e: String, _c: &halo::Ctx, _s: &State) -> Result<String, halo::Error> { Ok(e) }
/// fn main() -> std::process::ExitCode {
///     halo::platform::block_on(halo::run_with_init(init(), handler))
/// }
/// ```
///
/// # Errors at compile time
///
/// The function must be a free `async fn` (no `self`, no generics) with 2
/// parameters, or 3 with `init`; arguments other than `init`,
/// `timeout_margin` and `metrics`, an argument given twice (`timeout_margin` with
/// `timeout_margin_ms` too) and a duration without a unit are rejected with
/// an error on the offending token. On such an error the function is kept
/// as written, so the one error shown is the macro's.
pub use halo_macros::handler;

/// Marks a `fn` that builds an axum `Router` as the function's HTTP API and
/// generates `main`, which serves it with [`http::run`](mod@http) (feature
/// `axum`): on Lambda behind API Gateway (REST and HTTP APIs), an ALB or a
/// Function URL with halo's stack, and locally with `<bin> invoke
/// event.json` or `<bin> serve [--port N]`.
///
/// ```no_run
/// use axum::{Router, routing::get};
///
/// async fn hello(ctx: halo::Ctx) -> String {
///     format!("hello from {}", ctx.request_id())
/// }
///
/// #[halo::http]
/// fn router() -> Router {
///     Router::new().route("/hello", get(hello))
/// }
/// ```
///
/// # Arguments
///
/// - `init = path`: an `async fn() -> Result<S, E>` (`E: Display`) run once
///   per container; the router function then takes `S` (by value) as its
///   one parameter, typically to hand it to `Router::with_state`. Inside
///   Lambda an `init` error is reported to `/init/error`.
/// - `metrics`: CloudWatch EMF metrics are required, as for
///   [`handler`]; `metrics = false` turns them off. Expands to
///   [`http::run_with_options`](mod@http).
///
/// ```no_run
/// use axum::{Router, extract::State, routing::get};
///
/// #[derive(Clone)]
/// struct App { table: String }
///
/// async fn init() -> Result<App, std::env::VarError> {
///     Ok(App { table: std::env::var("TABLE_NAME")? })
/// }
///
/// async fn table(State(app): State<App>) -> String {
///     app.table
/// }
///
/// #[halo::http(init = init)]
/// fn router(app: App) -> Router {
///     Router::new().route("/table", get(table)).with_state(app)
/// }
/// ```
///
/// # Equivalent code without the macro
///
/// `#[halo::http(init = init)]` on `router` adds this `main` (without
/// `init`, the call is `halo::http::run(router())`):
///
/// ```no_run
/// # #[derive(Clone)] struct App;
/// # async fn init() -> Result<App, std::io::Error> { Ok(App) }
/// # fn router(app: App) -> axum::Router { axum::Router::new().with_state(app) }
/// fn main() -> std::process::ExitCode {
///     halo::platform::block_on(halo::http::run_with_init(async { init().await.map(router) }))
/// }
/// ```
///
/// # Errors at compile time
///
/// The function must be a plain (not `async`) free `fn` without generics,
/// returning the router, with no parameter, or one (the state) with
/// `init`; arguments other than `init` and `metrics`, an argument given
/// twice and a `metrics` that is not a flag are rejected with an error on
/// the offending token.
#[cfg(feature = "axum")]
pub use halo_macros::http;

/// Makes an async fn idempotent: it runs once per payload and duplicates
/// get the stored result (see [`idempotency`] for the flow, the stores and
/// the record schema).
///
/// Works on any `async fn(...) -> Result<T, E>` whose payload parameter is
/// `Serialize`, with `T: Serialize + DeserializeOwned` and
/// `E: From<halo::Error>`, including a `#[halo::handler]`
/// (`#[halo::handler] #[halo::idempotent(...)] async fn handler(...)`).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::sync::LazyLock;
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use halo::idempotency::MemoryIdempotencyStore;
///
/// static STORE: LazyLock<MemoryIdempotencyStore> = LazyLock::new(MemoryIdempotencyStore::new);
/// static CHARGES: AtomicU32 = AtomicU32::new(0);
///
/// #[derive(serde::Serialize)]
/// struct Charge { payment_id: String, amount: u64 }
///
/// #[halo::idempotent(name = "charge", key = ["/payment_id"], validate = ["/amount"], store = *STORE)]
/// async fn charge(request: Charge) -> Result<String, halo::Error> {
///     CHARGES.fetch_add(1, Ordering::SeqCst);
///     Ok(format!("charged {}", request.amount))
/// }
///
/// let first = charge(Charge { payment_id: "p-1".into(), amount: 10 }).await.unwrap();
/// let again = charge(Charge { payment_id: "p-1".into(), amount: 10 }).await.unwrap();
/// assert_eq!((first.as_str(), again.as_str()), ("charged 10", "charged 10"));
/// assert_eq!(CHARGES.load(Ordering::SeqCst), 1, "the duplicate was replayed, not run");
///
/// let err = charge(Charge { payment_id: "p-1".into(), amount: 99 }).await.unwrap_err();
/// assert_eq!(err.code(), "PayloadMismatch");
/// # });
/// ```
///
/// # Arguments
///
/// - `name = "charge"`: the key prefix (default: the function's name). It
///   never includes a module path, so moving the function keeps its keys.
/// - `key = ["/body/order_id", "/headers/x-api-key"]`: JSON pointers into
///   the payload; several make a composite key; a pointer reads inside a
///   string holding JSON (an API Gateway `body`). Default: the whole payload.
/// - `validate = ["/body/amount"]`: fields a replay must repeat, or it fails
///   with `PayloadMismatch` (422).
/// - `required = true`: a payload without the key fails with
///   `IdempotencyKeyMissing` (400) instead of running without idempotency.
/// - `expires_after = "24h"`: how long a result is replayed (default `"1h"`;
///   a duration string with a unit: `ms`, `s`, `m`, `h`, `d`).
/// - `wait = "5s"`: a concurrent duplicate waits for the first call's result
///   instead of failing with `AlreadyInProgress` (409).
/// - `local_cache = 1000`: keep that many results in the container and
///   replay them without a store request.
/// - `on_replay = mark_replayed`: a function (or closure)
///   `fn(serde_json::Value, &halo::idempotency::Replay) -> serde_json::Value`
///   that adjusts replayed responses ([`idempotency::Config::on_replay`]).
/// - `store = expr`: the store (anything implementing
///   [`idempotency::IdempotencyStore`], evaluated per call, so `state.store` works);
///   default: [`idempotency::store_from_env`].
/// - `payload = param`: the parameter that is the payload (default: the
///   first one that is not `self` or a `&Ctx`). A `&Ctx` parameter gives
///   the deadline of the in-progress claim; otherwise [`Ctx::current`].
///
/// Equivalent code without the macro: [`idempotency::Idempotency::run`].
///
/// # Errors at compile time
///
/// A function that is not `async`, returns nothing, or has no payload
/// parameter; unknown or repeated arguments; pointers not starting with
/// `/`; durations without a unit: each is an error on the offending token,
/// and the function is kept as written (its callers still compile).
pub use halo_macros::idempotent;

/// Guards an async fn with a [circuit breaker](breaker) named `name`,
/// shared by every container of the function when `HALO_BREAKER_TABLE`
/// names a DynamoDB table ([`breaker::from_env`]), built once per
/// container on the first call.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// #[derive(Clone, Debug, PartialEq)]
/// struct Quote { price: u64, degraded: bool }
///
/// #[halo::circuit_breaker(name = "pricing", consecutive_failures = 2, open_for = "30s", fallback = cached_quote)]
/// async fn quote(sku: String) -> Result<Quote, halo::Error> {
///     Err(halo::Error::upstream("pricing answered 503")) // the downstream is down
/// }
///
/// async fn cached_quote(_sku: String) -> Result<Quote, halo::Error> {
///     Ok(Quote { price: 100, degraded: true })
/// }
///
/// for _ in 0..3 {
///     // Failures, then an open circuit: the fallback answers every time.
///     assert_eq!(quote("sku-1".into()).await.unwrap(), Quote { price: 100, degraded: true });
/// }
/// # });
/// ```
///
/// # Arguments
///
/// - `name = "payments"` (required): the breaker's name, its record's key.
/// - `consecutive_failures = N`; `failure_rate = 0.5` with `window = "30s"`
///   and `min_calls = 20`; `open_for = "5s"`, `max_open_for = "5m"`;
///   `half_open_probes = K`, `close_after = M`, `half_open_timeout = "30s"`;
///   `refresh = "2s"`: the [`breaker::Policy`]. Counts are whole numbers
///   that must fit a `u32`; durations are strings with a unit (`ms`, `s`,
///   `m`, `h`, `d`).
/// - `fallback = path`: an async fn with the **same parameters and result**,
///   called when the circuit is open or the call fails with a downstream
///   failure (not for 4xx); checked at compile time, errors point at
///   `path`. Parameters are cloned for it, so they must be `Clone`.
///
/// The function returns `Result<T, E>` with `E: IntoError + From<Error>`
/// (`halo::Error` itself). Without the macro: [`breaker::CircuitBreaker::call`].
///
/// # Errors at compile time
///
/// A non-`async`, generic or method fn, parameters bound by patterns,
/// no return type, a missing or invalid `name`, an unknown or repeated
/// argument, a malformed duration, rate or count, a fallback that does not
/// fit: each is an error on the offending token, and the function is kept
/// as written (its callers still compile).
pub use halo_macros::circuit_breaker;

#[doc(inline)]
pub use saga::saga_step;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

#[doc(hidden)]
#[path = "macro_support/mod.rs"]
pub mod __private;
