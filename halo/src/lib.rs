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
#![warn(rust_2018_idioms)]

#[cfg(feature = "aws")]
pub mod aws;
mod context;
mod error;
mod function;
mod handler;
mod invocation;
pub mod layers;
pub mod local;
pub mod log;
pub mod retry;
mod runtime;

pub use context::{Ctx, CtxBuilder};
pub use error::{BoxError, Error, ErrorKind, IntoError};
pub use function::FunctionInfo;
pub use handler::{HandlerFn, HandlerService, StatefulHandlerFn, decode_event, encode_response};
pub use invocation::Invocation;
pub use runtime::{run, run_with_init, serve_lambda};

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
/// `#[halo::handler(init = init)]` on `handler` adds exactly this `main`
/// (without `init`, the call is `halo::run(handler)`):
///
/// ```no_run
/// # struct State;
/// # async fn init() -> Result<State, std::io::Error> { Ok(State) }
/// # async fn handler(e: String, _c: &halo::Ctx, _s: &State) -> Result<String, halo::Error> { Ok(e) }
/// fn main() -> std::process::ExitCode {
///     tokio::runtime::Builder::new_current_thread()
///         .enable_all()
///         .build()
///         .expect("tokio runtime")
///         .block_on(halo::run_with_init(init(), handler))
/// }
/// ```
///
/// # Errors at compile time
///
/// The function must be a free `async fn` (no `self`, no generics) with 2
/// parameters, or 3 with `init`; arguments other than `init`, and an
/// argument given twice, are rejected with an error on the offending token.
pub use halo_macros::handler;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

#[doc(hidden)]
pub mod __private {
    pub use tokio;

    /// Runs the `main` future on a current-thread tokio runtime.
    pub fn block_on(main: impl std::future::Future<Output = std::process::ExitCode>) -> std::process::ExitCode {
        match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime.block_on(main),
            Err(err) => {
                let line = serde_json::json!({ "level": "ERROR", "message": format!("cannot start the tokio runtime: {err}") });
                eprintln!("{line}");
                std::process::ExitCode::FAILURE
            }
        }
    }
}
