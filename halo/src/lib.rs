#![doc = include_str!("../docs/overview.md")]
#![doc = include_str!("../docs/local-runs.md")]
#![doc = include_str!("../docs/deploying.md")]
#![doc = include_str!("../docs/testing.md")]
#![deny(missing_docs)]

// The runtime: what runs a handler, per invocation and per container.
mod context;
mod error;
pub mod event;
pub mod platform;
mod runtime;
pub mod timeout;

// Observability: logs, metrics, traces and the correlation id that ties
// them together across services.
pub mod correlation;
pub mod log;
pub mod metrics;
pub mod trace;

// Reliability patterns, on one durable-state kernel.
#[cfg(feature = "batch")]
pub mod batch;
pub mod breaker;
pub mod cache;
pub mod durable;
#[cfg(feature = "fanout")]
pub mod fanout;
pub mod feature_flags;
pub mod idempotency;
#[cfg(feature = "batch")]
pub mod projection;
pub mod retry;
pub mod saga;
#[cfg(all(feature = "axum", feature = "http-client"))]
pub mod strangler;

// Handlers and sagas on Lambda durable functions.
#[cfg(feature = "durable-execution")]
pub mod durable_execution;

// Integrations: HTTP in and out, configuration from AWS's parameter services.
#[cfg(any(feature = "http-client", feature = "axum"))]
pub mod http;
pub mod params;

// Private helpers.
mod base64;
mod digest;
mod future;
mod json_bytes;
mod lock;

#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod test_support;

pub use context::{Ctx, CtxBuilder, Invocation};
#[doc = include_str!("../docs/errors.md")]
pub use error::Error;
pub use error::{BoxError, ErrorKind, IntoError};
pub use future::BoxFuture;
pub use platform::function::FunctionInfo;
pub use runtime::handler::{HandlerEvent, HandlerFn, HandlerResponse, StatefulHandlerFn, decode_body};
pub use runtime::options::Options;
pub use runtime::response::JsonResponse;
pub use runtime::run::{RunFuture, run, run_with_init, run_with_options};
pub use runtime::stack::InvocationService;

#[doc = include_str!("../docs/handler.md")]
pub use halo_macros::handler;

#[cfg(feature = "axum")]
#[doc = include_str!("../docs/http.md")]
pub use halo_macros::http;

#[doc = include_str!("../docs/idempotency.md")]
pub use halo_macros::idempotent;

#[doc = include_str!("../docs/circuit-breakers.md")]
pub use halo_macros::circuit_breaker;

#[doc = include_str!("../docs/saga-step.md")]
pub use halo_macros::saga_step;

#[doc(hidden)]
#[path = "macro_support/mod.rs"]
pub mod __private;
